import CommandProtocol
import MatchingEngine

/// Administrators' queries: who still waits, how full each county, province, pairing, kind and
/// occupation is, what flows along a pairing, the year's plan and the yearly progress report.
/// A west coordinator gets the same for its own county or province; east coordinators see the
/// open needs (as NEED LIST shows them) and the flows of their own province or city.
enum ReportCommands {
    static let all: [CommandSpec] = [stats, unmet, fill, report, pairingFlow, planSet, planList]

    /// Below this fill ratio a county with demand is left behind: the engine's fair first share.
    static let leftBehindBelow = 0.3
    /// Candidate offers UNMET shows per need, and how many promising ones per code and group of
    /// the need it scores.
    static let shownCandidates = 3
    static let scoredCandidates = 10

    // MARK: STATS

    static let stats = CommandSpec(
        "STATS", usage: "STATS",
        summary: "counts of counties, organisations, needs, offers, open units, matches by status and the last run (west: its scope)", access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        let scope = try context.scope(session)
        let stats = try await context.read { try $0.reports.stats(within: scope) }
        return .record(
            Record([
                ("counties", .int(stats.counties)), ("organisations", .int(stats.organisations)), ("needs", .int(stats.needs)),
                ("open-needs", .int(stats.openNeeds)), ("open-units", .int(stats.openUnits)), ("offers", .int(stats.offers)),
                ("open-offers", .int(stats.openOffers)), ("open-capacity", .int(stats.openCapacity)),
                ("proposed", .int(stats.proposedMatches)), ("confirmed", .int(stats.confirmedMatches)),
                ("declined", .int(stats.declinedMatches)), ("last-run", stats.lastRun.map { .integer($0) } ?? .null),
                ("last-run-at", .optional(stats.lastRunAt)),
                ("replica-lag-s", stats.replicaLagSeconds.map { .decimal($0) } ?? .null),
            ]))
    }

    // MARK: UNMET

    static let unmet = CommandSpec(
        "UNMET",
        usage:
            "UNMET [kind=labor|training|school_partnership|talent] [province=<province>] [county=<code>] [occupation=<code>] [limit=N] [after=<cursor>]",
        summary: "needs with units still open, most urgent first, with the best candidate offers the engine finds"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["kind", "province", "county", "occupation", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings)
        let cursor = try page.after.map { text throws(ProtocolError) in
            guard let cursor = UnmetCursor(text) else {
                throw ProtocolError(.badArg, "after must be the next= cursor of an earlier UNMET page (priority/poverty/start/id), not '\(text)'")
            }
            return cursor
        }
        var filter = NeedFilter()
        filter.county = try request.option("county").map(RegistryCommands.countyCode)
        let province = request.option("province")
        filter.kind = try request.choice("kind", Kind.self)
        filter.occupation = request.option("occupation")
        if let code = filter.occupation, Occupation.level(of: code) == nil {
            throw ProtocolError(.badArg, "occupation must be a classification code like 6-01, not '\(code)'")
        }
        // East coordinators browse every open need (as NEED LIST); their candidates are their own offers.
        let (needs, candidates) = try await context.read { [filter] db in
            var filter = filter
            if let province { filter.province = try CommandContext.province(province, field: "province", in: db.registry).code }
            let needs = try db.reports.unmetNeeds(
                filter: filter, within: scope.isEast ? .everything : scope, after: cursor, limit: page.limit)
            let candidates =
                needs.isEmpty
                ? nil : try db.reports.candidateOffers(for: needs, within: scope.isEast ? scope : .everything, perKey: scoredCandidates)
            return (needs, candidates)
        }
        let best = try candidates.map(bestCandidates) ?? [:]
        let records = needs.map { need in
            Record([
                ("id", .integer(need.id)), ("county", .text(need.county)), ("kind", .text(need.kind.rawValue)),
                ("occupations", .text(need.occupations.joined(separator: ","))), ("qty", .int(need.quantity)),
                ("matched", .int(need.matched)), ("missing", .int(need.quantity - need.matched)),
                ("priority", .int(need.priority)), ("poverty", .bool(need.povertyFocus)), ("from", .text(need.from.description)),
                ("to", .text(need.to.description)),
                ("candidates", Self.candidates(best[need.id] ?? [])),
            ])
        }
        return .page(
            "needs", records, page: page,
            cursor: { _ in needs.last.map { UnmetCursor(priority: $0.priority, poverty: $0.povertyFocus, start: $0.from, id: $0.id).text } })
    }

    /// The engine's best-scoring offers for each need, best first (ties by offer id).
    static func bestCandidates(_ input: RunInput) throws -> [Int64: [(offer: Int64, score: Int64)]] {
        let candidates = try CandidateBuilder(pairings: input.pairings, declined: input.declined)
            .build(needs: input.needs, offers: input.offers)
        var byNeed: [Int64: [(offer: Int64, score: Int64)]] = [:]
        let problem = candidates.problem
        for e in 0..<problem.edgeCount {
            byNeed[candidates.needs[Int(problem.edgeNeed[e])].id, default: []].append(
                (candidates.offers[Int(problem.edgeOffer[e])].id, problem.score[e]))
        }
        return byNeed.mapValues { pairs in
            Array(pairs.sorted { ($1.score, $0.offer) < ($0.score, $1.offer) }.prefix(shownCandidates))
        }
    }

    /// The candidates as `offer:score,…` in text and as objects in JSON.
    static func candidates(_ best: [(offer: Int64, score: Int64)]) -> Record.Value {
        .spelled(
            .array(best.map { .object([("offer", .integer($0.offer)), ("score", .integer($0.score))]) }),
            text: best.map { "\($0.offer):\($0.score)" }.joined(separator: ","))
    }

    // MARK: FILL

    enum FillGrouping: String, CaseIterable {
        case county, province, pairing, kind, occupation

        var plural: String { self == .county ? "counties" : rawValue + "s" }
    }

    static let fill = CommandSpec(
        "FILL",
        usage:
            "FILL by=county|province|pairing|kind|occupation [year=YYYY] [kind=labor|training|school_partnership|talent] [limit=N] [after=<key>]",
        summary: "demand, proposed and confirmed units and the fill ratio per group, the lowest first (west: its scope)", access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["by", "year", "kind", "limit", "after"])
        let scope = try context.scope(session)
        guard let grouping = try request.choice("by", FillGrouping.self) else {
            throw ProtocolError(.badArg, "by= is required (county|province|pairing|kind|occupation)")
        }
        let page = try Page.from(request, settings: context.settings)
        let year = try request.integer("year", in: 2000...2100).map { Int($0) }
        let kind = try request.choice("kind", Kind.self)
        let (groups, plans) = try await context.read { db -> ([FillGroup], [String: Int]?) in
        var plans: [String: Int]?
        let groups: [FillGroup]
        switch grouping {
        case .county, .province, .kind:
            let cells = try db.reports.needFill(years: year.map { [$0] }, kind: kind, within: scope)
            let names: [String: String]
            let key: (FillCell) -> String
            switch grouping {
            case .county:
                names = Dictionary(try counties(db, province: nil).map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
                key = \.county
            case .province:
                names = Dictionary(uniqueKeysWithValues: try db.registry.provinces().map { ($0.code, $0.name) })
                key = { String($0.county.prefix(2)) }
                if let year {
                    plans = Dictionary(
                        try db.reports.plans(year: year, province: nil).filter { kind == nil || $0.kind == kind }
                            .map { ($0.province, $0.units) }, uniquingKeysWith: +)
                }
            default:
                names = [:]
                key = \.kind.rawValue
            }
            groups = Dictionary(grouping: cells, by: key).map { code, cells in
                FillGroup(
                    key: code, name: names[code] ?? "", demand: cells.reduce(0) { $0 + $1.demand },
                    proposed: cells.reduce(0) { $0 + $1.proposed }, confirmed: cells.reduce(0) { $0 + $1.confirmed })
            }
        case .occupation:
            groups = try db.reports.occupationFill(year: year, kind: kind, within: scope)
        case .pairing:
            groups = try db.reports.pairingFill(year: year, kind: kind, within: scope)
        }
        return (groups, plans)
        }
        let sorted = groups.sorted { a, b in
            switch (ratio(a.confirmed, a.demand), ratio(b.confirmed, b.demand)) {
            case (let x?, let y?) where x != y: x < y
            case (nil, _?): false
            case (_?, nil): true
            default: a.key < b.key
            }
        }
        let shown = try slice(sorted, page: page, key: \.key)
        let records = shown.map { group in
            var fields: [(String, Record.Value)] = [
                ("key", .text(group.key)), ("name", .text(group.name)), ("demand", .int(group.demand)),
                ("proposed", .int(group.proposed)), ("confirmed", .int(group.confirmed)),
                ("fill", fraction(group.confirmed, group.demand)),
            ]
            if let plans {
                let plan = plans[group.key]
                fields.append(("plan", plan.map { .int($0) } ?? .null))
                fields.append(("of-plan", plan.map { fraction(group.confirmed, $0) } ?? .null))
            }
            return Record(fields)
        }
        return .page(Reply.Header(grouping.plural), records, page: page, cursor: { _ in shown.last?.key })
    }

    // MARK: REPORT

    enum ReportFormat: String, CaseIterable { case text, csv, md }

    static let report = CommandSpec(
        "REPORT", usage: "REPORT year=YYYY [province=<province>] [format=text|csv|md] [limit=N] [after=<code>]",
        summary: "the yearly progress report per province and county, with last year and the counties left behind (west: its scope)", access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province", "format", "limit", "after"])
        let scope = try context.scope(session)
        guard let year = try request.integer("year", in: 2001...2100).map({ Int($0) }) else {
            throw ProtocolError(.badArg, "year= is required (YYYY)")
        }
        let format = try request.choice("format", ReportFormat.self) ?? .text
        if format != .text, let option = ["limit", "after"].first(where: { request.option($0) != nil }) {
            throw ProtocolError(.badArg, "\(option): format=\(format.rawValue) returns the whole file; limit and after page text records")
        }
        let given = request.option("province")
        let report = try await context.read { db in
            let province = try given.map { try CommandContext.province($0, side: .west, field: "province", in: db.registry) }
            return try YearReport.load(year: year, province: province?.code, scope: scope, db: db)
        }
        switch format {
        case .csv: return .lines(header: "lines csv", report.csv())
        case .md: return .lines(header: "lines md", report.markdown())
        case .text:
            let page = try Page.from(request, settings: context.settings)
            let rows = try slice(report.rows, page: page, key: \.code)
            return .page(Reply.Header("rows", Record([("year", .int(year))])), rows.map(\.record), page: page, cursor: { _ in rows.last?.code })
        }
    }

    // MARK: PAIRING FLOW

    static let pairingFlow = CommandSpec(
        "PAIRING FLOW", usage: "PAIRING FLOW <east> <west> [year=YYYY]",
        summary: "what flows from an eastern to a western province: proposed, confirmed and placed units by kind"
    ) { request, session, context in
        try context.validate(request, words: 2...2, options: ["year"])
        let scope = try context.scope(session)
        let year = try request.integer("year", in: 2000...2100).map { Int($0) }
        let (eastGiven, westGiven) = (request.words[0], request.words[1])
        let (east, west, cells) = try await context.read { db in
        let east = try CommandContext.province(eastGiven, side: .east, field: "east", in: db.registry)
        let west = try CommandContext.province(westGiven, side: .west, field: "west", in: db.registry)
        var filter = FlowFilter()
        filter.year = year
        filter.eastProvince = east.code
        filter.westProvince = west.code
        let outside = ProtocolError(.denied, "PAIRING FLOW \(east.code) \(west.code) is outside this token's scope")
        switch scope {
        case .everything: break
        case .county(let code):
            guard code.hasPrefix(west.code) else { throw outside }
            filter.county = code
        case .westProvince(let code): guard code == west.code else { throw outside }
        case .eastProvince(let code): guard code == east.code else { throw outside }
        case .eastCity(let city): filter.eastCity = city
        case .organisation:
            throw ProtocolError(.denied, "PAIRING FLOW sums a province's or city's flows; an organisation's token sees its own matches with MATCH LIST")
        }
        return (east, west, try db.reports.flows(filter))
        }
        let byKind = Dictionary(grouping: cells, by: \.kind)
        let rows = Kind.allCases.map { kind in (kind.rawValue, byKind[kind] ?? []) } + [("all", cells)]
        let records = rows.map { name, cells in
            Record([
                ("kind", .text(name)), ("proposed-matches", .int(cells.reduce(0) { $0 + $1.proposedMatches })),
                ("proposed", .int(cells.reduce(0) { $0 + $1.proposedUnits })),
                ("confirmed-matches", .int(cells.reduce(0) { $0 + $1.confirmedMatches })),
                ("confirmed", .int(cells.reduce(0) { $0 + $1.confirmedUnits })), ("placed", .int(cells.reduce(0) { $0 + $1.placedUnits })),
                ("declined-matches", .int(cells.reduce(0) { $0 + $1.declinedMatches })),
            ])
        }
        return .records(header: Reply.Header("kinds", Record([("east", .text(east.code)), ("west", .text(west.code))])), records)
    }

    // MARK: PLAN

    static let planSet = CommandSpec(
        "PLAN SET", usage: "PLAN SET year=YYYY province=<province> kind=labor|training|school_partnership|talent units=<n>",
        summary: "set a western province's target for a year and kind", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province", "kind", "units"])
        guard let year = try request.integer("year", in: 2000...2100) else { throw ProtocolError(.badArg, "year= is required (YYYY)") }
        let given = try request.requiredText("province")
        let kind = try SubmissionCommands.kind(request)
        guard let units = try request.integer("units", in: 0...100_000_000) else { throw ProtocolError(.badArg, "units= is required") }
        let plan = try await context.write(target: "plan", changes: request.changes(["units"])) { db, audit in
            let province = try CommandContext.province(given, side: .west, field: "province", in: db.registry)
            let plan = Plan(year: Int(year), province: province.code, kind: kind, units: Int(units))
            try db.reports.setPlan(plan)
            audit.target = "plan:\(year):\(province.code):\(kind.rawValue)"
            return plan
        }
        return .record(record(plan))
    }

    static let planList = CommandSpec(
        "PLAN LIST", usage: "PLAN LIST [year=YYYY] [province=<province>] [limit=N] [after=<year/province/kind>]",
        summary: "the targets per year, province and kind with the units confirmed so far (west: its province)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings)
        let given = request.option("province")
        let year = try request.integer("year", in: 2000...2100).map { Int($0) }
        let plans = try await context.read { db in
            var province = try given.map { try CommandContext.province($0, field: "province", in: db.registry).code }
            switch scope {
            case .county(let code): province = try narrowed(province, to: String(code.prefix(2)))
            case .westProvince(let code): province = try narrowed(province, to: code)
            default: break
            }
            return try db.reports.plans(year: year, province: province)
        }
        let shown = try slice(plans, page: page, key: planKey)
        return .page("plans", shown.map(record), page: page, cursor: { _ in shown.last.map(planKey) })
    }

    static func planKey(_ plan: Plan) -> String { "\(plan.year)/\(plan.province)/\(plan.kind.rawValue)" }

    static func record(_ plan: Plan) -> Record {
        Record([
            ("year", .int(plan.year)), ("province", .text(plan.province)), ("kind", .text(plan.kind.rawValue)), ("units", .int(plan.units)),
            ("confirmed", .int(plan.confirmed)), ("remaining", .int(max(0, plan.units - plan.confirmed))),
            ("of-plan", fraction(plan.confirmed, plan.units)),
        ])
    }

    static func narrowed(_ given: String?, to own: String) throws(ProtocolError) -> String {
        if let given, given != own { throw ProtocolError(.denied, "province \(given) is outside this token's scope") }
        return own
    }

    // MARK: Shared

    static func counties(_ db: Gateways, province: String?) throws -> [County] {
        try db.registry.counties(province: province, isKey: nil, page: Page(limit: Int.max))
    }

    static func ratio(_ part: Int, _ whole: Int) -> Double? {
        whole > 0 ? Double(part) / Double(whole) : nil
    }

    /// A ratio with three decimals, or null when there is nothing to divide by.
    static func fraction(_ part: Int, _ whole: Int) -> Record.Value {
        ratio(part, whole).map { .decimal(fixed($0, 3)) } ?? .null
    }

    /// The page of an ordered list held whole (summaries are a few hundred rows): the records
    /// after the one whose key is `after`.
    static func slice<T>(_ items: [T], page: Page, key: (T) -> String) throws(ProtocolError) -> ArraySlice<T> {
        var start = items.startIndex
        if let after = page.after {
            guard let index = items.firstIndex(where: { key($0) == after }) else {
                throw ProtocolError(.badArg, "after: '\(after)' is not a key of this list")
            }
            start = index + 1
        }
        return items[start...].prefix(page.limit)
    }
}
