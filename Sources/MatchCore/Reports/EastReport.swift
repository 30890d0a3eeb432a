import CommandProtocol
import MatchingEngine

/// The eastern side's yearly report (REPORT side=east): what each eastern province and each of
/// its cities gave the key counties — workers taken in, people trained, schools partnered,
/// talents dispatched — against its plan, from the match_flow summaries. A province row heads
/// its cities (code `32`, then `32/苏州市`).
struct EastReport {
    struct Row {
        var level: String
        var code: String
        var name: String
        var province: String
        var byKind: [Kind: Int] = [:]
        var placed = 0
        var plan: Int?
        /// Confirmed units of the kinds the plan sets targets for.
        var planConfirmed = 0

        var confirmed: Int { Kind.allCases.reduce(0) { $0 + (byKind[$1] ?? 0) } }

        var fields: [(String, Record.Value)] {
            [
                ("level", .text(level)), ("code", .text(code)), ("name", .text(name)), ("province", .text(province)),
                ("confirmed", .int(confirmed)),
            ] + Kind.allCases.map { ($0.rawValue, .int(byKind[$0] ?? 0)) } + [
                ("placed", .int(placed)), ("plan", plan.map { .int($0) } ?? .null),
                ("of-plan", plan.map { ReportCommands.fraction(planConfirmed, $0) } ?? .null),
            ]
        }
    }

    var year: Int
    var rows: [Row]

    /// The rows `scope` may read: an administrator every eastern province (or the one asked for),
    /// a province's token its own, a city's token its city's rows.
    static func load(year: Int, province given: Province?, scope: Scope, db: Gateways) throws -> EastReport {
        var province = given
        let provinces = try db.registry.provinces().filter { $0.side == .east }
        switch scope {
        case .everything, .eastCity: break
        case .eastProvince(let code):
            if let given, given.code != code { throw ProtocolError(.denied, "province \(given.name) is outside this token's scope") }
            province = provinces.first { $0.code == code }
        case .organisation:
            throw ProtocolError(
                .denied, "REPORT side=east sums a province's or city's flows; an organisation's token sees its own matches with MATCH LIST")
        case .county, .westProvince:
            throw ProtocolError(.denied, "REPORT side=east is for east tokens and administrators; this token reads REPORT side=west")
        }
        let shown = provinces.filter { province == nil || $0.code == province!.code }
        let flows = try db.reports.eastFlows(year: year, province: province?.code)
        let plans = try db.reports.plans(year: year, province: province?.code).filter { $0.side == .east }
        let organisations = try db.registry.organisations(province: province?.code, kind: nil, page: Page(limit: Int.max))

        var rows: [Row] = []
        for east in shown {
            let short = { (city: String) in shortCity(city, provinceName: east.name) }
            let own = flows.filter { $0.province == east.code }
            let ownPlans = plans.filter { $0.province == east.code }
            let cities = Set(organisations.filter { $0.province == east.code }.map { short($0.city) } + own.map { short($0.city) })
                .union(ownPlans.map(\.city)).subtracting([""])
            func row(level: String, code: String, name: String, flows: [EastFlowCell], plans: [Plan]) -> Row {
                var row = Row(level: level, code: code, name: name, province: east.code)
                for cell in flows {
                    row.byKind[cell.kind, default: 0] += cell.confirmedUnits
                    row.placed += cell.placedUnits
                }
                row.plan = plans.isEmpty ? nil : plans.reduce(0) { $0 + $1.units }
                row.planConfirmed = plans.reduce(0) { $0 + (row.byKind[$1.kind] ?? 0) }
                return row
            }
            if case .eastCity = scope {} else {
                rows.append(row(level: "province", code: east.code, name: east.name, flows: own, plans: ownPlans.filter { $0.city.isEmpty }))
            }
            for city in cities {
                if case .eastCity(let name) = scope, short(name) != city { continue }
                rows.append(
                    row(level: "city", code: "\(east.code)/\(city)", name: city, flows: own.filter { short($0.city) == city },
                        plans: ownPlans.filter { $0.city == city }))
            }
        }
        if case .eastCity(let name) = scope, rows.isEmpty, let province {
            throw ProtocolError(.denied, "province \(province.name) has no city \(name): outside this token's scope")
        }
        // "32" sorts before "32/苏州市": each province heads its cities.
        rows.sort { $0.code < $1.code }
        return EastReport(year: year, rows: rows)
    }

    /// A city as the commands keep it: without its province's name in front (江苏省苏州市 → 苏州市).
    static func shortCity(_ city: String, provinceName: String) -> String {
        city.hasPrefix(provinceName) && city.count > provinceName.count ? String(city.dropFirst(provinceName.count)) : city
    }

    func summary(_ language: ReportLanguage) -> String {
        let provinces = rows.filter { $0.level == "province" }
        let heads = provinces.isEmpty ? rows : provinces
        var units: [Kind: Int] = [:]
        for row in heads { units.merge(row.byKind, uniquingKeysWith: +) }
        return ReportSummary(
            subject: ReportSummary.subject(heads.map(\.name), level: provinces.isEmpty ? "city" : "province", language), year: year,
            side: .east, units: units
        ).sentence(language)
    }

    func csv(_ language: ReportLanguage) -> [String] {
        ReportFiles.csv(
            names: Row(level: "", code: "", name: "", province: "").fields.map(\.0), rows.map(\.fields), summary: summary(language),
            language)
    }

    func markdown(_ language: ReportLanguage) -> [String] {
        let header =
            [language == .en ? "Province or city" : "省（市）", language.column("confirmed")] + Kind.allCases.map(language.kind)
            + ["placed", "plan", "of-plan"].map(language.column)
        let cells = rows.map { row in
            ["\(ReportFiles.escaped(row.name)) (\(row.code))", "\(row.confirmed)"] + Kind.allCases.map { "\(row.byKind[$0] ?? 0)" } + [
                "\(row.placed)", row.plan.map { "\($0)" } ?? "–", row.plan.map { ReportLanguage.percent(row.planConfirmed, $0) } ?? "–",
            ]
        }
        let (title, intro) =
            switch language {
            case .en:
                (
                    "# Yearly report of the eastern side \(year)",
                    "What eastern provinces and cities gave the national key assistance counties (东西部协作): confirmed units "
                        + "by kind, labour actually placed, and the agreement targets (plan)."
                )
            case .zh:
                (
                    "# \(year)年度东部地区东西部协作工作情况",
                    "东部省市对国家乡村振兴重点帮扶县的帮扶：按类别统计的已确认数、实际到岗人数及协议目标（年度计划）。"
                )
            }
        return [title, "", ReportFiles.escaped(summary(language)), "", intro, ""] + ReportFiles.markdownTable(header, cells)
    }
}
