import Foundation
import MatchCore
import MatchingEngine

/// The yearly progress report as one self-contained HTML page: tables, and bar charts drawn as
/// inline SVG (no scripts, no fonts or images fetched), so it opens, prints and mails as it is.
/// Every bar carries its value in `data-value`, so a test can read the numbers back.
struct ReportPage {
    var year: Int
    var province: String?
    var language: ReportLanguage
    /// REPORT's header (summary, deadline, filing) and records (province and county rows), FILL
    /// by=pairing records, FILL by=kind for this year and the last.
    var header: [String: Any]
    var rows: [[String: Any]]
    var pairings: [[String: Any]]
    var kinds: [[String: Any]]
    var lastKinds: [[String: Any]]

    var kindNames: [(String, String)] { Kind.allCases.map { ($0.rawValue, language.kind($0)) } }
    static let leftBehindBelow = 0.3

    /// The page's own words; the report's (headings, kinds, reasons, the summary) come from
    /// MatchCore and the server.
    func words(_ key: String) -> String {
        let zh = [
            "note": language.fillNote + "进展滞后的县以红色标出。需求计入其起始日期所在年度。",
            "fill-by-county": "各县对接率", "fill-by-pairing": "各结对关系对接率",
            "units-by-kind": "各类已确认数：\(year)年与\(year - 1)年", "year-against-last": "各省对接率：\(year)年与\(year - 1)年",
            "provinces": "省（区、市）", "counties": "县", "behind": "进展滞后的县", "none": "无。", "nothing": "暂无数据。",
            "changed": "（报送后有变化）", "people": "就业人员与稳定就业",
        ]
        let en = [
            "note": language.fillNote + " Those are drawn in red. Needs count in the year their window starts.",
            "fill-by-county": "Fill ratio by county", "fill-by-pairing": "Fill ratio by pairing",
            "units-by-kind": "Confirmed units by kind, \(year) against \(year - 1)",
            "year-against-last": "Fill ratio by province, \(year) against \(year - 1)", "provinces": "Provinces", "counties": "Counties",
            "behind": "Counties left behind", "none": "None.", "nothing": "Nothing to show.", "changed": " (changed since filed)",
            "people": "People placed and kept in work",
        ]
        return (language == .zh ? zh : en)[key]!
    }

    /// The deadline and where the filing stands, from REPORT's header.
    var filingLine: String? {
        guard let state = (header["filing"] as? String).flatMap(ReportLanguage.Filing.init(rawValue:)) else { return nil }
        return language.filingLine(
            year: year, state, submittedAt: header["submitted"] as? String, fingerprint: header["fingerprint"] as? String,
            changed: (header["changed"] as? NSNumber)?.intValue)
    }

    struct Bar {
        var label: String
        var values: [Double]
        var text: String
        var alert = false
    }

    func html() -> String {
        let provinces = rows.filter { $0["level"] as? String == "province" }
        let counties = rows.filter { $0["level"] as? String == "county" }
        let filled = counties.filter { Self.int($0["demand"]) > 0 }.sorted { Self.number($0["fill"]) < Self.number($1["fill"]) }
        let countyBars = filled.map { row in
            Bar(
                label: "\(Self.text(row["name"])) \(Self.text(row["code"]))", values: [Self.number(row["fill"])],
                text: "\(Self.percent(row["fill"])) (\(Self.int(row["confirmed"])) / \(Self.int(row["demand"])))",
                alert: Self.number(row["fill"]) < Self.leftBehindBelow)
        }
        let pairingBars = pairings.filter { Self.int($0["demand"]) > 0 }.map { row in
            Bar(
                label: Self.text(row["name"]), values: [Self.number(row["fill"])],
                text: "\(Self.percent(row["fill"])) (\(Self.int(row["confirmed"])) / \(Self.int(row["demand"])))")
        }
        let confirmed = { (records: [[String: Any]], kind: String) in
            Self.int(records.first { $0["key"] as? String == kind }?["confirmed"])
        }
        let kindBars = kindNames.map { kind, name in
            Bar(
                label: name, values: [Double(confirmed(kinds, kind)), Double(confirmed(lastKinds, kind))],
                text: "\(confirmed(kinds, kind)) / \(confirmed(lastKinds, kind))")
        }
        let yearBars = provinces.filter { Self.int($0["demand"]) + Self.int($0["last-demand"]) > 0 }.map { row in
            Bar(
                label: Self.text(row["name"]), values: [Self.number(row["fill"]), Self.number(row["last-fill"])],
                text: "\(Self.percent(row["fill"])) / \(Self.percent(row["last-fill"]))")
        }
        let behind = counties.filter { Self.int($0["left-behind"]) > 0 }
        let title = language.title(year: year) + (province.map { (language == .zh ? "：" : ": ") + Self.escaped(provinces.first.map { Self.text($0["name"]) } ?? $0) } ?? "")
        let summary = (header["summary"] as? String).map { "<p class=\"summary\">\(Self.escaped($0))</p>" } ?? ""
        let filing = filingLine.map { "<p class=\"filing\">\(Self.escaped($0))</p>" } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="\(language == .zh ? "zh-CN" : "en")">
            <head>
            <meta charset="utf-8">
            <title>\(title)</title>
            <style>
            body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #1a202c; }
            h1 { font-size: 1.6em; margin-bottom: 0.2em; }
            h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #cbd5e0; }
            /* A table wider than the window scrolls by itself; on paper it is printed smaller. */
            .wide { overflow-x: auto; }
            table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
            th, td { border: 1px solid #cbd5e0; padding: 0.25em 0.5em; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            /* Chinese headings and county names would otherwise break between any two characters. */
            th, td:first-child { white-space: nowrap; }
            th { background: #edf2f7; }
            tr.behind td { background: #fff5f5; }
            .note { color: #4a5568; font-size: 0.9em; }
            .summary { font-size: 1.05em; line-height: 1.6; }
            .filing { border-left: 4px solid #2b6cb0; padding-left: 0.6em; }
            .changed { color: #b7791f; font-size: 0.9em; }
            svg text { font-size: 12px; fill: #1a202c; }
            @media print { @page { size: A4 landscape; } body { margin: 0; } table { font-size: 0.6em; } .wide { overflow: visible; } h2 { break-after: avoid; } svg, table { break-inside: avoid; } }
            </style>
            </head>
            <body>
            <h1>\(title)</h1>
            \(summary)
            \(filing)
            <p class="note">\(Self.escaped(words("note")))</p>
            <h2>\(words("fill-by-county"))</h2>
            \(chart(id: "fill-by-county", bars: countyBars, series: ["\(year)"], maximum: 1, marker: Self.leftBehindBelow))
            <h2>\(words("fill-by-pairing"))</h2>
            \(chart(id: "fill-by-pairing", bars: pairingBars, series: ["\(year)"], maximum: 1, marker: nil))
            <h2>\(words("units-by-kind"))</h2>
            \(chart(id: "units-by-kind", bars: kindBars, series: ["\(year)", "\(year - 1)"], maximum: nil, marker: nil))
            <h2>\(words("year-against-last"))</h2>
            \(chart(id: "year-against-last", bars: yearBars, series: ["\(year)", "\(year - 1)"], maximum: 1, marker: nil))
            <h2>\(words("provinces"))</h2>
            \(table(first: language.column("province"), provinces))
            <h2>\(words("counties"))</h2>
            \(table(first: language.column("county"), counties))
            <h2>\(words("people"))</h2>
            \(peopleTable(provinces + counties.filter { Self.int($0["placed"]) > 0 }))
            <h2>\(words("behind"))</h2>
            \(behind.isEmpty ? "<p>\(words("none"))</p>" : "<ul>\n" + behind.map { "<li><b>\(Self.escaped(Self.text($0["name"]))) (\(Self.text($0["code"])))</b>\(language == .zh ? "：" : ": ")\(Self.escaped(Self.text($0["why"])))</li>" }.joined(separator: "\n") + "\n</ul>")
            </body>
            </html>

            """
    }

    // MARK: Charts

    static let colours = ["#2b6cb0", "#a0aec0"]

    /// Horizontal bars, one group per label, one bar per series; `maximum` fixes the scale (1 for
    /// ratios), `marker` draws a dashed line at that value.
    func chart(id: String, bars: [Bar], series: [String], maximum: Double?, marker: Double?) -> String {
        guard !bars.isEmpty else { return "<p class=\"note\" id=\"\(id)\">\(words("nothing"))</p>" }
        let colours = Self.colours, escaped = Self.escaped
        // Wide enough for the longest label: CJK characters take about a full em, others half.
        let labelWidth = min(420, 12 + bars.map { $0.label.unicodeScalars.reduce(0.0) { $0 + ($1.value > 0x2E80 ? 12.5 : 7) } }.max()!)
        let plotWidth = 480.0
        let barHeight = 14.0
        let group = barHeight * Double(series.count) + 8
        let top = series.count > 1 ? 24.0 : 6.0
        let height = top + group * Double(bars.count) + 6
        let scale = maximum ?? max(1, bars.flatMap(\.values).max() ?? 1)
        var svg = """
            <svg class="chart" id="\(id)" xmlns="http://www.w3.org/2000/svg" width="\(Int(labelWidth + plotWidth + 170))" \
            height="\(Int(height))" role="img" aria-label="\(id)">
            """
        if series.count > 1 {
            for (index, name) in series.enumerated() {
                let x = labelWidth + Double(index) * 90
                svg += "\n<rect x=\"\(x)\" y=\"6\" width=\"12\" height=\"12\" fill=\"\(colours[index])\"/>"
                svg += "<text x=\"\(x + 16)\" y=\"16\">\(escaped(name))</text>"
            }
        }
        for (row, bar) in bars.enumerated() {
            let y = top + group * Double(row)
            svg += "\n<text x=\"\(labelWidth - 6)\" y=\"\(y + group / 2)\" text-anchor=\"end\">\(escaped(bar.label))</text>"
            for (index, value) in bar.values.enumerated() {
                let width = max(0, min(1, value / scale)) * plotWidth
                let colour = bar.alert ? "#c53030" : colours[index]
                svg += "<rect class=\"bar\" data-value=\"\(value)\" x=\"\(labelWidth)\" y=\"\(y + 4 + Double(index) * barHeight)\" "
                svg += "width=\"\(String(format: "%.1f", width))\" height=\"\(barHeight - 2)\" fill=\"\(colour)\"/>"
            }
            svg += "<text x=\"\(labelWidth + plotWidth + 6)\" y=\"\(y + group / 2)\">\(escaped(bar.text))</text>"
        }
        if let marker {
            let x = labelWidth + marker / scale * plotWidth
            svg += "\n<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(height - 6)\" stroke=\"#c53030\" stroke-dasharray=\"4 3\"/>"
        }
        return svg + "\n</svg>"
    }

    // MARK: Tables

    func table(first: String, _ rows: [[String: Any]]) -> String {
        let (text, percent, int, escaped) = (Self.text, Self.percent, Self.int, Self.escaped)
        let header = [first] + ["needs", "demand", "confirmed", "fill"].map(language.column) + kindNames.map(\.1)
            + ["placed", "plan", "of-plan", "last-year", "last-fill", "left-behind"].map(language.column)
        // Headings do not wrap; a Chinese figure's puts its unit on a line of its own (转移就业 / （人）).
        let headings = [escaped(first)] + header.dropFirst().map { escaped($0).replacingOccurrences(of: "（", with: "<br>（") }
        var html = "<div class=\"wide\"><table>\n<tr>" + headings.map { "<th>\($0)</th>" }.joined() + "</tr>"
        for row in rows {
            // A row that differs from the province's filed copy says so (REPORT's since-filed).
            let changed = ["changed", "new"].contains(row["since-filed"] as? String ?? "")
            let mark = changed ? "<span class=\"changed\">\(words("changed"))</span>" : ""
            let cells = [
                "\(escaped(text(row["name"]))) (\(text(row["code"])))\(mark)", text(row["needs"]), text(row["demand"]), text(row["confirmed"]),
                percent(row["fill"]),
            ] + kindNames.map { text(row[$0.0]) } + [
                text(row["placed"]), text(row["plan"]), percent(row["of-plan"]),
                "\(text(row["last-confirmed"])) / \(text(row["last-demand"]))", percent(row["last-fill"]), text(row["left-behind"]),
            ]
            let behind = row["level"] as? String == "county" && int(row["left-behind"]) > 0
            html += "\n<tr\(behind ? " class=\"behind\"" : "")>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return html + "\n</table></div>"
    }

    /// The people behind the labour figures, as the report's rows give them: placed, of them
    /// 脱贫劳动力 and 监测对象, still at work, given back, and kept in work at 3 and 6 months.
    func peopleTable(_ rows: [[String: Any]]) -> String {
        let fields = ["placed", "poverty-placed", "monitored-placed", "working", "reopened", "stable-3m", "stable-6m"]
        let headings = [Self.escaped(language.column("name"))]
            + fields.map { Self.escaped(language.column($0)).replacingOccurrences(of: "（", with: "<br>（") }
        var html = "<div class=\"wide\"><table>\n<tr>" + headings.map { "<th>\($0)</th>" }.joined() + "</tr>"
        for row in rows {
            let cells = ["\(Self.escaped(Self.text(row["name"]))) (\(Self.text(row["code"])))"] + fields.map { Self.text(row[$0]) }
            html += "\n<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return html + "\n</table></div>"
    }

    // MARK: Values

    static func text(_ value: Any?) -> String {
        switch value {
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: "–"
        }
    }

    static func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? 0 }
    static func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }

    static func percent(_ value: Any?) -> String {
        guard let number = value as? NSNumber else { return "–" }
        return String(format: "%.1f%%", number.doubleValue * 100)
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
