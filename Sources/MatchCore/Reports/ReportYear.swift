import CommandProtocol
import Foundation
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
        /// Matches declined, by reason (match_flow).
        var declined: [DeclineReason: Int] = [:]
        /// What a left-behind county's reasons are made of, kept as figures so that they can be
        /// told in either language, from a filed copy too.
        var proposed = 0
        var open: [Kind: Int] = [:]

        var declinedMatches: Int { declined.values.reduce(0, +) }

        func fields(_ language: ReportLanguage) -> [(String, Record.Value)] {
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
                ("change", change),
            ] + ReportCommands.declineFields(declined) + [("left-behind", .int(leftBehind)), ("why", .text(why(language)))]
        }

        func record(_ language: ReportLanguage) -> Record { Record(fields(language)) }

        /// Why a county is left behind, from what its summaries say; empty for the others.
        func why(_ language: ReportLanguage) -> String {
            guard level == "county", leftBehind > 0 else { return "" }
            let below = Int(ReportCommands.leftBehindBelow * 100)
            let percent = { (part: Int, whole: Int) in ReportLanguage.percent(part, whole) }
            var reasons: [String] = []
            let openKinds = Kind.allCases.filter { (open[$0] ?? 0) > 0 }
            let reasonsGiven = DeclineReason.allCases.filter { (declined[$0] ?? 0) > 0 }
            switch language {
            case .en:
                reasons.append(confirmed == 0 ? "nothing confirmed of \(demand) units" : "fill \(percent(confirmed, demand)) below \(below)%")
                if proposed > 0 { reasons.append("\(proposed) units proposed, not yet answered") }
                if declinedMatches > 0 {
                    let byReason = reasonsGiven.map { "\($0.rawValue) \(declined[$0]!)" }.joined(separator: ", ")
                    reasons.append("\(declinedMatches) matches declined (\(byReason))")
                }
                if proposed == 0 && confirmed == 0 && declinedMatches == 0 { reasons.append("no match proposed yet") }
                if !openKinds.isEmpty { reasons.append("open: " + openKinds.map { "\($0.rawValue) \(open[$0]!)" }.joined(separator: ", ")) }
                if lastDemand > 0 { reasons.append("last year \(percent(lastConfirmed, lastDemand))") }
                return reasons.joined(separator: "; ")
            case .zh:
                reasons.append(confirmed == 0 ? "需求\(demand)尚无确认" : "对接率\(percent(confirmed, demand))，低于\(below)%")
                if proposed > 0 { reasons.append("已推荐\(proposed)待答复") }
                if declinedMatches > 0 {
                    reasons.append("\(declinedMatches)项对接被拒绝（" + reasonsGiven.map { "\($0.label)\(declined[$0]!)" }.joined(separator: "、") + "）")
                }
                if proposed == 0 && confirmed == 0 && declinedMatches == 0 { reasons.append("尚无推荐对接") }
                if !openKinds.isEmpty {
                    reasons.append("待满足：" + openKinds.map { "\(Self.shortKind($0))\(open[$0]!)" }.joined(separator: "、"))
                }
                if lastDemand > 0 { reasons.append("上年对接率\(percent(lastConfirmed, lastDemand))") }
                return reasons.joined(separator: "；")
            }
        }

        /// A kind inside a Chinese reason, without its heading's unit.
        static func shortKind(_ kind: Kind) -> String {
            switch kind {
            case .labor: "转移就业"
            case .training: "技能培训"
            case .enrolment: "技工院校招生"
            case .schoolPartnership: "结对帮扶学校"
            case .talent: "选派人才"
            case .secondment: "双向挂职"
            }
        }

        /// Every figure the row is made of, for the filed copy (names as the record's fields).
        var stored: Record.Value {
            .object(
                [
                    ("level", .text(level)), ("code", .text(code)), ("name", .text(name)), ("province", .text(province)),
                    ("needs", .int(needs)), ("demand", .int(demand)), ("confirmed", .int(confirmed)),
                ] + Kind.allCases.map { ($0.rawValue, .int(byKind[$0] ?? 0)) } + [
                ] + people.fields + [
                    ("plan", plan.map { .int($0) } ?? .null), ("plan-confirmed", .int(planConfirmed)),
                    ("last-demand", .int(lastDemand)), ("last-confirmed", .int(lastConfirmed)), ("left-behind", .int(leftBehind)),
                    ("proposed", .int(proposed)),
                ] + ReportCommands.declineFields(declined) + [
                    ("open", .object(Kind.allCases.map { ($0.rawValue, .int(open[$0] ?? 0)) })),
                ])
        }
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
                for flow in countyFlows { row.declined.merge(flow.declined, uniquingKeysWith: +) }
                row.people = FlowPeople.total(countyFlows.filter { $0.kind == .labor })
                row.lastDemand = last.reduce(0) { $0 + $1.demand }
                row.lastConfirmed = last.reduce(0) { $0 + $1.confirmed }
                if let fill = ReportCommands.ratio(row.confirmed, row.demand), fill < ReportCommands.leftBehindBelow {
                    row.leftBehind = 1
                    row.proposed = current.reduce(0) { $0 + $1.proposed }
                    for cell in current { row.open[cell.kind, default: 0] += cell.openUnits }
                }
                total.needs += row.needs
                total.demand += row.demand
                total.confirmed += row.confirmed
                total.byKind.merge(row.byKind, uniquingKeysWith: +)
                total.declined.merge(row.declined, uniquingKeysWith: +)
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

    // MARK: Filed copies

    /// The rows as a filing stores them: a JSON array of `Row.stored`.
    var storedRows: String { Record.Value.array(rows.map(\.stored)).json }

    /// The rows of this report that differ from the filed copy's (by code), and the filed rows it
    /// no longer has.
    func changes(since filed: YearReport) -> (codes: Set<String>, count: Int) {
        let before = Dictionary(filed.rows.map { ($0.code, $0.record(.en)) }, uniquingKeysWith: { a, _ in a })
        let changed = Set(rows.filter { before[$0.code] != $0.record(.en) }.map(\.code))
        let gone = Set(before.keys).subtracting(rows.map(\.code))
        return (changed, changed.count + gone.count)
    }

    // MARK: Files

    /// The summary sentence over the report's province rows.
    func summary(_ language: ReportLanguage) -> String {
        let provinces = rows.filter { $0.level == "province" }
        var units: [Kind: Int] = [:]
        for row in provinces { units.merge(row.byKind, uniquingKeysWith: +) }
        return ReportSummary(
            subject: ReportSummary.subject(provinces.map(\.name), level: "province", language), year: year, side: .west, units: units,
            people: provinces.reduce(FlowPeople()) { $0 + $1.people }
        ).sentence(language)
    }

    /// A CSV file a province can file: the header, a line per row, then the summary sentence as
    /// a row of level `summary`.
    func csv(_ language: ReportLanguage) -> [String] {
        ReportFiles.csv(
            names: Row(level: "", code: "", name: "", province: "").fields(language).map(\.0), rows.map { $0.fields(language) },
            summary: summary(language), language)
    }

    /// The same report as a Markdown document: the summary, the deadline, provinces, counties,
    /// the counties left behind and, once filed, what changed since.
    func markdown(_ language: ReportLanguage, filing: ReportFiles.FilingNote) -> [String] {
        let columns = ["needs", "demand", "confirmed", "fill"].map(language.column) + Kind.allCases.map(language.kind)
            + ["placed", "poverty-placed", "monitored-placed", "stable-3m", "stable-6m", "plan", "of-plan", "last-year", "last-fill"]
            .map(language.column)
        func cells(_ row: Row) -> [String] {
            [
                "\(row.needs)", "\(row.demand)", "\(row.confirmed)", ReportLanguage.percent(row.confirmed, row.demand),
            ] + Kind.allCases.map { "\(row.byKind[$0] ?? 0)" } + [
                "\(row.people.placed)", "\(row.people.poverty)", "\(row.people.monitored)", "\(row.people.stable3)",
                "\(row.people.stable6)", row.plan.map { "\($0)" } ?? "–", row.plan.map { ReportLanguage.percent(row.planConfirmed, $0) } ?? "–",
                "\(row.lastConfirmed) / \(row.lastDemand)", ReportLanguage.percent(row.lastConfirmed, row.lastDemand),
            ]
        }
        func table(_ first: String, _ rows: [Row]) -> [String] {
            ReportFiles.markdownTable(
                [first] + columns + [language.column("left-behind")],
                rows.map { ["\(ReportFiles.escaped($0.name)) (\($0.code))"] + cells($0) + ["\($0.leftBehind)"] })
        }
        let behind = rows.filter { $0.level == "county" && $0.leftBehind > 0 }
        let title = "# " + language.title(year: year) + (provinceName.map { (language == .en ? ": " : "：") + ReportFiles.escaped($0) } ?? "")
        let (intro, provincesHeading, countiesHeading, behindHeading, none) =
            switch language {
            case .en:
                (
                    language.fillNote + " Last year: confirmed / demand in \(year - 1).", "## Provinces", "## Counties",
                    "## Counties left behind", "None."
                )
            case .zh: (language.fillNote + "上年：\(year - 1)年已确认 / 需求总量。", "## 省（区、市）", "## 县", "## 进展滞后的县", "无。")
            }
        return [title, "", ReportFiles.escaped(summary(language)), "", ReportFiles.escaped(filing.line), "", intro, "", provincesHeading, ""]
            + table(language.column("province"), rows.filter { $0.level == "province" }) + ["", countiesHeading, ""]
            + table(language.column("county"), rows.filter { $0.level == "county" }) + ["", behindHeading, ""]
            + (behind.isEmpty
                ? [none] : behind.map { "- \(ReportFiles.escaped($0.name)) (\($0.code)): \(ReportFiles.escaped($0.why(language)))" })
            + filing.changes
    }
}

extension YearReport.Row {
    /// The row a filed copy stored; figures it lacks (filed before they were kept) are 0.
    init(stored object: [String: Any]) {
        let int = { (key: String) in (object[key] as? NSNumber)?.intValue ?? 0 }
        let text = { (key: String) in object[key] as? String ?? "" }
        let open = object["open"] as? [String: Any] ?? [:]
        self.init(level: text("level"), code: text("code"), name: text("name"), province: text("province"))
        needs = int("needs")
        demand = int("demand")
        confirmed = int("confirmed")
        for kind in Kind.allCases {
            byKind[kind] = int(kind.rawValue)
            self.open[kind] = (open[kind.rawValue] as? NSNumber)?.intValue ?? 0
        }
        people.placed = int("placed")
        people.poverty = int("poverty-placed")
        people.monitored = int("monitored-placed")
        people.working = int("working")
        people.reopened = int("reopened")
        people.stable3 = int("stable-3m")
        people.stable6 = int("stable-6m")
        plan = (object["plan"] as? NSNumber)?.intValue
        planConfirmed = int("plan-confirmed")
        lastDemand = int("last-demand")
        lastConfirmed = int("last-confirmed")
        leftBehind = int("left-behind")
        proposed = int("proposed")
        for reason in DeclineReason.allCases where object[reason.field] != nil { declined[reason] = int(reason.field) }
        // Filed before declines had codes: their count, as migration 017 turned those declines into `other`.
        if declined.isEmpty && int("declined-matches") > 0 { declined[.other] = int("declined-matches") }
    }
}

extension YearReport {
    /// The report a filing froze.
    init(year: Int, provinceName: String?, storedRows: String) throws(ProtocolError) {
        guard let objects = (try? JSONSerialization.jsonObject(with: Data(storedRows.utf8))) as? [[String: Any]] else {
            throw ProtocolError(.internal, "the filed report of \(year) cannot be read back")
        }
        self.init(year: year, provinceName: provinceName, rows: objects.map(Row.init(stored:)))
    }
}
