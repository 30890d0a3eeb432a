import CommandProtocol
import MatchingEngine

/// The yearly progress report (每年12月15日前报送): a row per province and per county, in code
/// order so each province comes just before its counties, as records, CSV or Markdown.
struct YearReport {
    struct Row {
        var level: String
        var code: String
        var name: String
        var province: String
        var needs = 0
        var demand = 0
        var confirmed = 0
        var byKind: [Kind: Int] = [:]
        /// The labour placements' people (就业): placed, 脱贫劳动力, 监测对象, still working, stable.
        var people = FlowPeople()
        var plan: Int?
        /// Confirmed units of the kinds the plan sets targets for.
        var planConfirmed = 0
        var lastDemand = 0
        var lastConfirmed = 0
        /// 1 for a county left behind; for a province, how many of its counties are.
        var leftBehind = 0
        var why = ""

        var fields: [(String, Record.Value)] {
            let fill = ReportCommands.ratio(confirmed, demand)
            let lastFill = ReportCommands.ratio(lastConfirmed, lastDemand)
            let change: Record.Value =
                if let fill, let lastFill { .decimal(fixed(fill - lastFill, 3)) } else { .null }
            return [
                ("level", .text(level)), ("code", .text(code)), ("name", .text(name)), ("province", .text(province)),
                ("needs", .int(needs)), ("demand", .int(demand)), ("confirmed", .int(confirmed)),
                ("fill", ReportCommands.fraction(confirmed, demand)),
            ] + Kind.allCases.map { ($0.rawValue, .int(byKind[$0] ?? 0)) } + people.fields + [
                ("plan", plan.map { .int($0) } ?? .null),
                ("of-plan", plan.map { ReportCommands.fraction(planConfirmed, $0) } ?? .null), ("last-demand", .int(lastDemand)),
                ("last-confirmed", .int(lastConfirmed)), ("last-fill", ReportCommands.fraction(lastConfirmed, lastDemand)),
                ("change", change), ("left-behind", .int(leftBehind)), ("why", .text(why)),
            ]
        }

        var record: Record { Record(fields) }
    }

    var year: Int
    var provinceName: String?
    var rows: [Row]

    static func load(year: Int, province: String?, scope: Scope, db: Gateways) throws -> YearReport {
        let provinces = Dictionary(uniqueKeysWithValues: try db.registry.provinces().map { ($0.code, $0.name) })
        let counties = try ReportCommands.counties(db, province: province).filter {
            SubmissionCommands.contains(scope, county: $0.code)
        }
        let cells = try db.reports.needFill(years: [year, year - 1], kind: nil, within: scope)
        var flow = FlowFilter()
        flow.year = year
        flow.westProvince = province
        if case .county(let code) = scope { flow.county = code }
        let flows = Dictionary(grouping: try db.reports.flows(flow), by: \.county)
        let plans = Dictionary(grouping: try db.reports.plans(year: year, province: province), by: \.province)
        let cellsByCounty = Dictionary(grouping: cells, by: \.county)

        var rows: [Row] = []
        for (code, members) in Dictionary(grouping: counties, by: \.province) {
            let planned = plans[code] ?? []
            var total = Row(
                level: "province", code: code, name: provinces[code] ?? code, province: code,
                plan: planned.isEmpty ? nil : planned.reduce(0) { $0 + $1.units })
            for county in members {
                var row = Row(level: "county", code: county.code, name: county.name, province: code)
                let current = (cellsByCounty[county.code] ?? []).filter { $0.year == year }
                let last = (cellsByCounty[county.code] ?? []).filter { $0.year == year - 1 }
                let countyFlows = flows[county.code] ?? []
                row.needs = current.reduce(0) { $0 + $1.needs }
                row.demand = current.reduce(0) { $0 + $1.demand }
                row.confirmed = current.reduce(0) { $0 + $1.confirmed }
                for cell in current { row.byKind[cell.kind, default: 0] += cell.confirmed }
                row.people = FlowPeople.total(countyFlows.filter { $0.kind == .labor })
                row.lastDemand = last.reduce(0) { $0 + $1.demand }
                row.lastConfirmed = last.reduce(0) { $0 + $1.confirmed }
                if let fill = ReportCommands.ratio(row.confirmed, row.demand), fill < ReportCommands.leftBehindBelow {
                    row.leftBehind = 1
                    row.why = reasons(row, current: current, declined: countyFlows.reduce(0) { $0 + $1.declinedMatches })
                }
                total.needs += row.needs
                total.demand += row.demand
                total.confirmed += row.confirmed
                total.byKind.merge(row.byKind, uniquingKeysWith: +)
                total.people = total.people + row.people
                total.lastDemand += row.lastDemand
                total.lastConfirmed += row.lastConfirmed
                total.leftBehind += row.leftBehind
                rows.append(row)
            }
            total.planConfirmed = planned.reduce(0) { $0 + (total.byKind[$1.kind] ?? 0) }
            rows.append(total)
        }
        // "52" sorts before "520204": each province heads its counties.
        rows.sort { $0.code < $1.code }
        return YearReport(year: year, provinceName: province.flatMap { provinces[$0] }, rows: rows)
    }

    /// Why a county is left behind, from what its summaries say.
    static func reasons(_ row: Row, current: [FillCell], declined: Int) -> String {
        var reasons: [String] = []
        reasons.append(
            row.confirmed == 0
                ? "nothing confirmed of \(row.demand) units"
                : "fill \(percent(row.confirmed, row.demand)) below \(Int(ReportCommands.leftBehindBelow * 100))%")
        let proposed = current.reduce(0) { $0 + $1.proposed }
        if proposed > 0 { reasons.append("\(proposed) units proposed, not yet answered") }
        if declined > 0 { reasons.append("\(declined) matches declined") }
        if proposed == 0 && row.confirmed == 0 && declined == 0 { reasons.append("no match proposed yet") }
        let open = Kind.allCases.compactMap { kind -> String? in
            let units = current.filter { $0.kind == kind }.reduce(0) { $0 + $1.openUnits }
            return units > 0 ? "\(kind.rawValue) \(units)" : nil
        }
        if !open.isEmpty { reasons.append("open: " + open.joined(separator: ", ")) }
        if row.lastDemand > 0 { reasons.append("last year \(percent(row.lastConfirmed, row.lastDemand))") }
        return reasons.joined(separator: "; ")
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        ReportCommands.ratio(part, whole).map { fixed($0 * 100, 1) + "%" } ?? "–"
    }

    // MARK: Files

    /// A CSV file a province can file: the header, then a line per row.
    func csv() -> [String] {
        guard let first = rows.first else { return [Row(level: "", code: "", name: "", province: "").fields.map(\.0).joined(separator: ",")] }
        return [first.fields.map(\.0).joined(separator: ",")]
            + rows.map { row in row.fields.map { CSVReader.field(Self.plain($0.1)) }.joined(separator: ",") }
    }

    /// A spreadsheet cell: the text-mode word, but empty for null.
    static func plain(_ value: Record.Value) -> String {
        value == .null ? "" : value.spelling
    }

    /// The same report as a Markdown document: provinces, counties, and the counties left behind.
    func markdown() -> [String] {
        let columns = ["Needs", "Demand", "Confirmed", "Fill", "Labour", "Training seats", "School partnerships", "Talents",
                       "Placed", "Of them poverty-alleviated", "Of them monitored", "Stable 3 months", "Stable 6 months", "Plan", "Of plan", "Last year", "Last fill"]
        func cells(_ row: Row) -> [String] {
            [
                "\(row.needs)", "\(row.demand)", "\(row.confirmed)", Self.percent(row.confirmed, row.demand),
            ] + Kind.allCases.map { "\(row.byKind[$0] ?? 0)" } + [
                "\(row.people.placed)", "\(row.people.poverty)", "\(row.people.monitored)", "\(row.people.stable3)",
                "\(row.people.stable6)", row.plan.map { "\($0)" } ?? "–", row.plan.map { Self.percent(row.planConfirmed, $0) } ?? "–",
                "\(row.lastConfirmed) / \(row.lastDemand)", Self.percent(row.lastConfirmed, row.lastDemand),
            ]
        }
        func table(_ first: String, _ rows: [Row]) -> [String] {
            ["| \(first) | " + columns.joined(separator: " | ") + " | Left behind |",
             "| --- |" + String(repeating: " ---: |", count: columns.count + 1)]
                + rows.map { row in
                    "| \(Self.escaped(row.name)) (\(row.code)) | " + cells(row).joined(separator: " | ") + " | \(row.leftBehind) |"
                }
        }
        let behind = rows.filter { $0.level == "county" && $0.leftBehind > 0 }
        return [
            "# Yearly progress report \(year)" + (provinceName.map { ": \(Self.escaped($0))" } ?? ""),
            "",
            "East–west cooperation for the national key assistance counties (东西部协作 · 国家乡村振兴重点帮扶县). "
                + "Fill is confirmed units over demand; a county with demand is left behind below "
                + "\(Int(ReportCommands.leftBehindBelow * 100))%. Last year: confirmed / demand in \(year - 1).",
            "",
            "## Provinces",
            "",
        ] + table("Province", rows.filter { $0.level == "province" }) + [
            "",
            "## Counties",
            "",
        ] + table("County", rows.filter { $0.level == "county" }) + [
            "",
            "## Counties left behind",
            "",
        ] + (behind.isEmpty ? ["None."] : behind.map { "- \(Self.escaped($0.name)) (\($0.code)): \(Self.escaped($0.why))" })
    }

    static func escaped(_ text: String) -> String {
        text.replacingAll("|", with: "\\|")
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
