import CommandProtocol
import MatchingEngine

/// Administrators' queries: who still waits, how full each county, province, pairing, kind and
/// occupation is, what flows along a pairing, the year's plan and the yearly progress report.
/// A west coordinator gets the same for its own county or province; east coordinators see the
/// open needs (as NEED LIST shows them) and the flows of their own province or city.
enum ReportCommands {
    static let all: [CommandSpec] = [stats, unmet, fill, report, reportSubmit, pairingFlow, planSet, planList]

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
            "UNMET [kind=labor|training|enrolment|school_partnership|talent|secondment] [province=<province>] [county=<code>] [occupation=<code>] [limit=N] [after=<cursor>]",
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
                ("priority", .int(need.priority)), ("poverty", .int(need.poverty)), ("monitored", .int(need.monitored)), ("from", .text(need.from.description)),
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
        let candidates = try input.builder()
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
            "FILL by=county|province|pairing|kind|occupation [year=YYYY] [kind=labor|training|enrolment|school_partnership|talent|secondment] [declines] [limit=N] [after=<key>]",
        summary:
            "demand, proposed and confirmed units and the fill ratio per group, the lowest first (west: its scope); declines: the declined matches by reason",
        access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...1, options: ["by", "year", "kind", "limit", "after"])
        let scope = try context.scope(session)
        guard let grouping = try request.choice("by", FillGrouping.self) else {
            throw ProtocolError(.badArg, "by= is required (county|province|pairing|kind|occupation)")
        }
        if let word = request.words.first, asciiLowercased(word) != "declines" {
            throw ProtocolError(.badArg, "unexpected argument '\(word)'; usage: \(context.spec.usage)")
        }
        let declines = !request.words.isEmpty
        // Declines are counted per need cell (year, county, kind): a pairing's or an occupation
        // group's share of them is not defined, and the word would be ignored.
        if declines && (grouping == .pairing || grouping == .occupation) {
            throw ProtocolError(.badArg, "declines: only with by=county|province|kind, not by=\(grouping.rawValue)")
        }
        let page = try Page.from(request, settings: context.settings)
        let year = try request.integer("year", in: 2000...2100).map { Int($0) }
        let kind = try request.choice("kind", Kind.self)
        let (groups, plans, declined) = try await context.read { db -> ([FillGroup], [String: Int]?, [String: [DeclineReason: Int]]) in
        var plans: [String: Int]?
        var declined: [String: [DeclineReason: Int]] = [:]
        let groups: [FillGroup]
        switch grouping {
        case .county, .province, .kind:
            let cells = try db.reports.needFill(years: year.map { [$0] }, kind: kind, within: scope)
            let names: [String: String]
            // A cell's group, from its county and kind.
            let key: (String, Kind) -> String
            switch grouping {
            case .county:
                names = Dictionary(try counties(db, province: nil).map { ($0.code, $0.name) }, uniquingKeysWith: { a, _ in a })
                key = { county, _ in county }
            case .province:
                names = Dictionary(uniqueKeysWithValues: try db.registry.provinces().map { ($0.code, $0.name) })
                key = { county, _ in String(county.prefix(2)) }
                if let year {
                    plans = Dictionary(
                        try db.reports.plans(year: year, province: nil).filter { kind == nil || $0.kind == kind }
                            .map { ($0.province, $0.units) }, uniquingKeysWith: +)
                }
            default:
                names = [:]
                key = { _, kind in kind.rawValue }
            }
            if declines {
                // From match_flow, as REPORT and PAIRING FLOW count declines.
                var filter = FlowFilter()
                filter.year = year
                switch scope {
                case .county(let code): filter.county = code
                case .westProvince(let code): filter.westProvince = code
                default: break
                }
                for flow in try db.reports.flows(filter) where kind == nil || flow.kind == kind {
                    declined[key(flow.county, flow.kind), default: [:]].merge(flow.declined, uniquingKeysWith: +)
                }
            }
            groups = Dictionary(grouping: cells, by: { key($0.county, $0.kind) }).map { code, cells in
                FillGroup(
                    key: code, name: names[code] ?? "", demand: cells.reduce(0) { $0 + $1.demand },
                    proposed: cells.reduce(0) { $0 + $1.proposed }, confirmed: cells.reduce(0) { $0 + $1.confirmed })
            }
        case .occupation:
            groups = try db.reports.occupationFill(year: year, kind: kind, within: scope)
        case .pairing:
            groups = try db.reports.pairingFill(year: year, kind: kind, within: scope)
        }
        return (groups, plans, declined)
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
            if declines { fields += declineFields(declined[group.key] ?? [:]) }
            return Record(fields)
        }
        return .page(Reply.Header(grouping.plural), records, page: page, cursor: { _ in shown.last?.key })
    }

    /// Declined matches by reason, a field each (`declined-wage` …), as FILL and REPORT give them.
    static func declineFields(_ declined: [DeclineReason: Int]) -> [(String, Record.Value)] {
        DeclineReason.allCases.map { ($0.field, .int(declined[$0] ?? 0)) }
    }

    // MARK: REPORT

    enum ReportFormat: String, CaseIterable { case text, csv, md }
    enum ReportSide: String, CaseIterable { case west, east }

    /// Provinces file the year's report with the ministry by 15 December (每年12月15日前报送).
    static func deadline(_ year: Int) -> Day { Day(String(year) + "-12-15")! }

    static let report = CommandSpec(
        "REPORT",
        usage:
            "REPORT year=YYYY [side=west|east] [province=<province>] [submitted] [format=text|csv|md] [lang=en|zh] [limit=N] [after=<code>]",
        summary:
            "the yearly progress report per western province and county with last year, the counties left behind, the deadline "
            + "and what changed since filed (west: its scope; submitted: the copy as filed); "
            + "side=east: per eastern province and city (east: its province or city)"
    ) { request, session, context in
        try context.validate(request, words: 0...1, options: ["year", "side", "province", "format", "lang", "limit", "after"])
        if let word = request.words.first, asciiLowercased(word) != "submitted" {
            throw ProtocolError(.badArg, "unexpected argument '\(word)'; usage: \(context.spec.usage)")
        }
        let submitted = !request.words.isEmpty
        let scope = try context.scope(session)
        guard let year = try request.integer("year", in: 2001...2100).map({ Int($0) }) else {
            throw ProtocolError(.badArg, "year= is required (YYYY)")
        }
        let format = try request.choice("format", ReportFormat.self) ?? .text
        let language = try request.choice("lang", ReportLanguage.self) ?? .en
        let side = try request.choice("side", ReportSide.self) ?? .west
        if format != .text, let option = ["limit", "after"].first(where: { request.option($0) != nil }) {
            throw ProtocolError(.badArg, "\(option): format=\(format.rawValue) returns the whole file; limit and after page text records")
        }
        let given = request.option("province")
        let page = try Page.from(request, settings: context.settings)
        let header = { (fields: [(String, Record.Value)]) in Record([("year", .int(year))] + fields) }

        if side == .east {
            if submitted { throw ProtocolError(.badArg, "submitted: only western provinces file their report (REPORT SUBMIT)") }
            let report = try await context.read { db in
                let province = try given.map { try CommandContext.province($0, side: .east, field: "province", in: db.registry) }
                return try EastReport.load(year: year, province: province, scope: scope, db: db)
            }
            switch format {
            case .csv: return .lines(header: Reply.Header("lines csv", header([])), report.csv(language))
            case .md: return .lines(header: Reply.Header("lines md", header([])), report.markdown(language))
            case .text:
                let rows = try slice(report.rows, page: page, key: \.code)
                return .page(
                    Reply.Header("rows", header([("side", .text("east")), ("summary", .text(report.summary(language)))])),
                    rows.map { Record($0.fields) }, page: page, cursor: { _ in rows.last?.code })
            }
        }

        if scope.isEast {
            throw ProtocolError(
                .denied,
                "REPORT side=west is for west tokens and administrators; this connection acts as east "
                    + "(an eastern province's or city's token reads REPORT side=east)")
        }
        let own: String? =
            switch scope {
            case .county(let code): String(code.prefix(2))
            case .westProvince(let code): code
            default: nil
            }
        if submitted {
            if case .county = scope {
                throw ProtocolError(.denied, "the filed report is its province's; a county's token reads its own rows in the live REPORT")
            }
            if given == nil && own == nil { throw ProtocolError(.badArg, "submitted needs province=<province>") }
        }
        let (live, filings, province) = try await context.read { db in
            let province =
                try given.map { try CommandContext.province($0, side: .west, field: "province", in: db.registry) }
                ?? own.map { try CommandContext.province($0, field: "province", in: db.registry) }
            if let province, let own, province.code != own {
                throw ProtocolError(.denied, "province \(province.name) is outside this token's scope")
            }
            let filings = try db.reports.filings(year: year, province: province?.code)
            // The filed copy is read from the filing alone.
            let live = submitted ? nil : try YearReport.load(year: year, province: province?.code, scope: scope, db: db)
            return (live, filings, province)
        }
        let deadlineField: (String, Record.Value) = ("deadline", .text(deadline(year).description))

        if submitted {
            guard let province, let filing = filings.latest[province.code] else {
                throw ProtocolError(.notFound, "no filed report of \(province?.name ?? "this province") for \(year); REPORT SUBMIT files it")
            }
            let report = try YearReport(year: year, provinceName: province.name, storedRows: filing.rows)
            let state = ReportLanguage.Filing.of(year: year, submittedOn: filing.submittedOn, today: filings.today)
            let fields = header(
                [("province", .text(province.code))] + submissionFields(filing) + [deadlineField, ("filing", .text(state.rawValue))])
            switch format {
            case .csv:
                // The file as filed, whose SHA-256 the fingerprint is; in Chinese it is told again from the rows.
                let lines =
                    language == .en
                    ? filing.csv.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                    : report.csv(language)
                return .lines(header: Reply.Header("lines csv", fields), lines)
            case .md:
                let line = language.filingLine(
                    year: year, state, submittedAt: filing.submittedAt, fingerprint: filing.fingerprint, changed: nil)
                let note = ReportFiles.FilingNote(line: line)
                return .lines(header: Reply.Header("lines md", fields), report.markdown(language, filing: note))
            case .text:
                let rows = try slice(report.rows, page: page, key: \.code)
                return .page(
                    Reply.Header("rows", Record(fields.fields + [("summary", .text(report.summary(language)))])),
                    rows.map { $0.record(language) }, page: page, cursor: { _ in rows.last?.code })
            }
        }

        let report = live!
        // A county's token sees its province row summed over its own county only: that row is
        // not the province's, so nothing is compared with the province's filing.
        let compares: Bool = if case .county = scope { false } else { true }
        var filed: [String: YearReport] = [:]
        if compares {
            for (code, filing) in filings.latest {
                filed[code] = try YearReport(year: year, provinceName: nil, storedRows: filing.rows)
            }
        }
        // Each row against its own province's filing: same, changed, or new since it was filed.
        var marks: [String: Record.Value] = [:]
        var changedCount = 0
        for (code, copy) in filed {
            let current = YearReport(year: year, provinceName: nil, rows: report.rows.filter { $0.province == code })
            let (codes, count) = current.changes(since: copy)
            changedCount += count
            let filedCodes = Set(copy.rows.map(\.code))
            for row in current.rows {
                marks[row.code] = .text(!filedCodes.contains(row.code) ? "new" : codes.contains(row.code) ? "changed" : "same")
            }
        }
        var fields: [(String, Record.Value)] = [deadlineField]
        var note = ReportFiles.FilingNote(line: "")
        if let code = province?.code {
            let filing = filings.latest[code]
            let state = ReportLanguage.Filing.of(year: year, submittedOn: filing?.submittedOn, today: filings.today)
            fields += [
                ("filing", .text(state.rawValue)), ("submitted", .optional(filing?.submittedAt)),
                ("fingerprint", .optional(filing?.fingerprint)), ("changed", filing != nil && compares ? .int(changedCount) : .null),
            ]
            note.line = language.filingLine(
                year: year, state, submittedAt: filing?.submittedAt, fingerprint: filing?.fingerprint,
                changed: filing != nil && compares ? changedCount : nil)
            if let copy = filed[code] { note.changes = changeLines(report, since: copy, language) }
        } else {
            let provinces = Set(report.rows.map(\.province))
            fields += [("filed", .int(filings.latest.keys.filter(provinces.contains).count)), ("changed", .int(changedCount))]
        }
        switch format {
        case .csv: return .lines(header: Reply.Header("lines csv", header(fields)), report.csv(language))
        case .md: return .lines(header: Reply.Header("lines md", header(fields)), report.markdown(language, filing: note))
        case .text:
            let rows = try slice(report.rows, page: page, key: \.code)
            let records = rows.map { Record($0.fields(language) + [("since-filed", marks[$0.code] ?? .null)]) }
            return .page(
                Reply.Header("rows", header(fields + [("summary", .text(report.summary(language)))])), records, page: page,
                cursor: { _ in rows.last?.code })
        }
    }

    static func submissionFields(_ filing: ReportSubmission) -> [(String, Record.Value)] {
        [
            ("submission", .integer(filing.id)), ("version", .int(filing.version)), ("submitted-at", .text(filing.submittedAt)),
            ("by", filing.tokenID.map { .integer($0) } ?? .null), ("label", .text(filing.label)),
            ("fingerprint", .text(filing.fingerprint)),
        ]
    }

    /// The Markdown section naming each row that changed since the filing, field by field.
    static func changeLines(_ report: YearReport, since filed: YearReport, _ language: ReportLanguage) -> [String] {
        let before = Dictionary(filed.rows.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        for row in report.rows {
            guard let old = before[row.code] else {
                let absent = language == .en ? "not in the filed copy" : "报送稿中没有此行"
                lines.append("- \(ReportFiles.escaped(row.name)) (\(row.code)): " + absent)
                continue
            }
            let differences = zip(old.fields(language), row.fields(language)).filter { $0.0.1 != $0.1.1 }.map { was, now in
                "\(language.heading(now.0)) \(ReportFiles.plain(was.1)) → \(ReportFiles.plain(now.1))"
            }
            if !differences.isEmpty {
                lines.append(
                    "- \(ReportFiles.escaped(row.name)) (\(row.code)): "
                        + ReportFiles.escaped(differences.joined(separator: language == .en ? "; " : "；")))
            }
        }
        guard !lines.isEmpty else { return [] }
        return ["", language == .en ? "## Changed since filed" : "## 报送后的变化", ""] + lines
    }

    static let reportSubmit = CommandSpec(
        "REPORT SUBMIT", usage: "REPORT SUBMIT year=YYYY province=<province>",
        summary:
            "file a western province's yearly report as it stands: its rows frozen with the SHA-256 of its CSV, who and when; "
            + "filing again replaces it, the earlier filings kept (west: the province's token, not a county's)",
        access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province"])
        let scope = try context.scope(session)
        let principal = try context.principal(session)
        guard let year = try request.integer("year", in: 2001...2100).map({ Int($0) }) else {
            throw ProtocolError(.badArg, "year= is required (YYYY)")
        }
        let given = try request.requiredText("province")
        if case .county = scope {
            throw ProtocolError(.denied, "REPORT SUBMIT files a province's report: the province's token or an administrator files it")
        }
        let (filing, rows) = try await context.write(target: "report", changes: [("year", String(year)), ("province", given)]) { db, audit in
            let province = try CommandContext.province(given, side: .west, field: "province", in: db.registry)
            if case .westProvince(let code) = scope, code != province.code {
                throw ProtocolError(.denied, "province \(province.name) is outside this token's scope")
            }
            let report = try YearReport.load(year: year, province: province.code, scope: .everything, db: db)
            let csv = report.csv(.en).map { $0 + "\n" }.joined()
            let filing = try db.reports.submitReport(year: year, province: province.code, rows: report.storedRows, csv: csv, by: principal)
            audit.target = "report:\(year):\(province.code)"
            audit.changes += [("fingerprint", filing.fingerprint), ("version", String(filing.version)), ("rows", String(report.rows.count))]
            return (filing, report.rows.count)
        }
        let state = ReportLanguage.Filing.of(year: year, submittedOn: filing.submittedOn, today: filing.submittedOn)
        return .record(
            Record(
                [("year", .int(year)), ("province", .text(filing.province)), ("rows", .int(rows))] + submissionFields(filing) + [
                    ("deadline", .text(deadline(year).description)), ("filing", .text(state.rawValue)),
                ]))
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
                ("confirmed", .int(cells.reduce(0) { $0 + $1.confirmedUnits })),
                ("declined-matches", .int(cells.reduce(0) { $0 + $1.declinedMatches })),
            ] + FlowPeople.total(cells).fields)
        }
        return .records(header: Reply.Header("kinds", Record([("east", .text(east.code)), ("west", .text(west.code))])), records)
    }

    // MARK: PLAN

    static let planSet = CommandSpec(
        "PLAN SET",
        usage: "PLAN SET year=YYYY province=<province> [city=<name>] kind=labor|training|enrolment|school_partnership|talent|secondment units=<n>",
        summary: "set a target for a year and kind: a western province's, or an eastern province's or city's (its agreement target)",
        access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province", "city", "kind", "units"])
        guard let year = try request.integer("year", in: 2000...2100).map({ Int($0) }) else {
            throw ProtocolError(.badArg, "year= is required (YYYY)")
        }
        let given = try request.requiredText("province")
        let givenCity = try request.text("city")
        if let givenCity, givenCity.trimmingSpaces.isEmpty { throw ProtocolError(.badArg, "city must not be empty") }
        let kind = try SubmissionCommands.kind(request)
        guard let units = try request.integer("units", in: 0...100_000_000).map({ Int($0) }) else {
            throw ProtocolError(.badArg, "units= is required")
        }
        let plan = try await context.write(target: "plan", changes: request.changes(["city", "units"])) { db, audit in
            let province = try CommandContext.province(given, field: "province", in: db.registry)
            switch (province.side, givenCity) {
            case (.other, _):
                throw ProtocolError(
                    .badArg, "province: \(province.name) takes no part in the east–west cooperation; plans are for western and eastern provinces")
            case (.west, _?):
                throw ProtocolError(.badArg, "city: only eastern provinces set targets per city; \(province.name) is western")
            default: break
            }
            let city = givenCity.map { EastReport.shortCity($0.trimmingSpaces, provinceName: province.name) } ?? ""
            try db.reports.setPlan(Plan(year: year, province: province.code, city: city, side: province.side, kind: kind, units: units))
            audit.target = "plan:\(year):\(province.code)" + (city.isEmpty ? "" : ":\(city)") + ":\(kind.rawValue)"
            // Read back, so the reply shows the units confirmed towards it as PLAN LIST does.
            guard let stored = try db.reports.plans(year: year, province: province.code).first(where: { $0.city == city && $0.kind == kind })
            else { throw ProtocolError(.internal, "the plan just set cannot be read back") }
            return stored
        }
        return .record(record(plan))
    }

    static let planList = CommandSpec(
        "PLAN LIST", usage: "PLAN LIST [year=YYYY] [province=<province>] [limit=N] [after=<year/province/city/kind>]",
        summary:
            "the targets per year, province (and eastern city) and kind with the units confirmed so far "
            + "(west: its province; east: its province, city or organisation's province)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["year", "province", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings)
        let given = request.option("province")
        let year = try request.integer("year", in: 2000...2100).map { Int($0) }
        let plans = try await context.read { db in
            var province = try given.map { try CommandContext.province($0, field: "province", in: db.registry).code }
            var city: String?
            switch scope {
            case .everything: break
            case .county(let code): province = try narrowed(province, to: String(code.prefix(2)))
            case .westProvince(let code), .eastProvince(let code): province = try narrowed(province, to: code)
            case .eastCity(let name): city = name
            case .organisation(let id):
                guard let organisation = try db.registry.organisation(id: id) else {
                    throw ProtocolError(.denied, "this token's organisation \(id) no longer exists")
                }
                province = try narrowed(province, to: organisation.province)
            }
            let names = Dictionary(uniqueKeysWithValues: try db.registry.provinces().map { ($0.code, $0.name) })
            return try db.reports.plans(year: year, province: province).filter { plan in
                city.map { EastReport.shortCity($0, provinceName: names[plan.province] ?? "") == plan.city } ?? true
            }
        }
        let shown = try slice(plans, page: page, key: planKey)
        return .page("plans", shown.map(record), page: page, cursor: { _ in shown.last.map(planKey) })
    }

    static func planKey(_ plan: Plan) -> String { "\(plan.year)/\(plan.province)/\(plan.city)/\(plan.kind.rawValue)" }

    static func record(_ plan: Plan) -> Record {
        Record([
            ("year", .int(plan.year)), ("side", .text(plan.side.rawValue)), ("province", .text(plan.province)),
            ("city", .text(plan.city)), ("kind", .text(plan.kind.rawValue)), ("units", .int(plan.units)),
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
