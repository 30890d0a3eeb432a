import CommandProtocol
import Dispatch
import MatchingEngine

/// Matching runs and their proposals: admins run, each side answers for its own.
enum MatchCommands {
    static let all: [CommandSpec] = [
        matchRun, runList, runShow, runDiff, matchList, matchShow, matchExplain, matchAccept, matchDecline, matchPlace,
        matchCancel,
    ]

    static let matchRun = CommandSpec(
        "MATCH RUN",
        usage:
            "MATCH RUN [mode=optimal|fair|stable] [objective=score|units-first] [share=0.3] [side=needs|offers] [kind=…] [province=<province>] [county=<code>] [dry] [wait=SECONDS]",
        summary: "match open needs with open offers and store the proposals (admin; one run commits at a time)"
    ) { request, session, context in
        try context.validate(request, words: 0...1, options: ["mode", "objective", "share", "side", "kind", "province", "county", "wait"])
        let principal = try context.requireAdmin(session)
        if let word = request.words.first, asciiLowercased(word) != "dry" {
            throw ProtocolError(.badArg, "unexpected argument '\(word)'; usage: \(context.spec.usage)")
        }
        let dry = !request.words.isEmpty
        let mode = try Self.mode(request)
        var filter = RunFilter(kind: try request.choice("kind", Kind.self))
        if let given = request.option("province") { filter.province = try await context.province(given, side: .west, field: "province").code }
        filter.county = try request.option("county").map(RegistryCommands.countyCode)
        let wait = try request.integer("wait", in: 0...600).map { Duration.seconds($0) }

        try await context.repository.expireProposals(olderThanDays: context.settings.proposalLifetimeDays)
        let started = ContinuousClock.now
        let run = try await context.repository.beginRun(lock: !dry, wait: wait)
        do {
            let input = try await run.snapshot(filter)
            let loaded = ContinuousClock.now
            let weights = ScoreWeights.default
            let outcome = try await Self.solve(input, mode: mode, weights: weights)
            let solved = ContinuousClock.now
            let figures = RunRecord.figures(
                outcome.summary, seconds: seconds(solved - loaded), needs: input.needs.count, offers: input.offers.count,
                pairs: outcome.pairs)
            var parameters: [(String, String)] = [("mode", "\(mode)")]
            if !filter.text.isEmpty { parameters.append(("filter", filter.text)) }
            let record = RunRecord(
                mode: "\(mode)", parameters: parameters, weights: weights, fingerprint: Self.fingerprint(input, mode: mode, weights: weights),
                figures: figures)
            if dry {
                await run.rollback()
                return .ok(Self.summaryLine(id: "dry", record, proposals: outcome.proposals.count, phases: [
                    ("load-s", seconds(loaded - started)), ("solve-s", seconds(solved - loaded)),
                ]))
            }
            let id = try await run.store(
                record, proposals: outcome.proposals, filter: filter,
                audit: context.audit(principal, target: "run", changes: parameters))
            let stored = ContinuousClock.now
            return .ok(Self.summaryLine(id: "\(id)", record, proposals: outcome.proposals.count, phases: [
                ("load-s", seconds(loaded - started)), ("solve-s", seconds(solved - loaded)), ("store-s", seconds(stored - solved)),
            ]))
        } catch {
            await run.rollback()
            throw error
        }
    }

    static func mode(_ request: Request) throws(ProtocolError) -> Mode {
        let name = asciiLowercased(request.option("mode") ?? "optimal")
        switch name {
        case "optimal":
            return .optimal(try request.choice("objective", Mode.Objective.self) ?? .score)
        case "fair":
            guard let text = request.option("share") else { return .fair }
            guard let share = Double(text), share > 0, share <= 1 else {
                throw ProtocolError(.badArg, "share must be a number above 0 and at most 1, not '\(text)'")
            }
            return .fair(share: Fraction(Int64((share * 1000).rounded()), 1000))
        case "stable":
            return .stable(try request.choice("side", Mode.Side.self) ?? .needs)
        default:
            throw ProtocolError(.badArg, "mode must be one of optimal|fair|stable, not '\(name)'")
        }
    }

    struct Outcome: Sendable {
        var proposals: [Proposal]
        var summary: Summary
        var pairs: Int
    }

    /// Builds candidates, solves and checks the certificate on a Dispatch thread: seconds of
    /// arithmetic must not hold one of the few threads that serve every connection.
    static func solve(_ input: RunInput, mode: Mode, weights: ScoreWeights) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(
                    with: Result { () throws -> Outcome in
                        let builder = CandidateBuilder(weights: weights, pairings: input.pairings, declined: input.declined)
                        let candidates = try builder.build(needs: input.needs, offers: input.offers)
                        let solution = try Solver.solve(candidates.problem, mode: mode)
                        let verification = Verifier.verify(candidates.problem, solution)
                        guard verification == .verified else {
                            throw ProtocolError(.internal, "the solution failed its own check: \(verification)")
                        }
                        let proposals = candidates.matches(solution).map { match in
                            Proposal(
                                need: match.need, offer: match.offer, units: match.units, score: match.score.total,
                                explanation: explanationJSON(match.score))
                        }
                        return Outcome(
                            proposals: proposals, summary: Summary(candidates.problem, solution),
                            pairs: candidates.problem.edgeCount)
                    })
            }
        }
    }

    static func explanationJSON(_ score: ScoreBreakdown) -> String {
        var fields = score.parts.map { "\(JSON.string($0.name)):\($0.points)" }
        fields.append("\"total\":\(score.total)")
        fields.append("\"fit\":\(JSON.string(score.fit.description))")
        fields.append("\"pairing\":\(JSON.string(score.pairing.description))")
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The same records, in any order, give the same fingerprint: everything is sorted first.
    static func fingerprint(_ input: RunInput, mode: Mode, weights: ScoreWeights) -> String {
        var hasher = Fingerprint()
        hasher.add("mode \(mode) weights \(weights)")
        for need in input.needs.sorted(by: { $0.id < $1.id }) {
            hasher.add(
                "n \(need.id) \(need.county) \(need.province) \(need.kind.rawValue) \(need.occupations.map(\.description).sorted()) \(need.quantity) \(need.window.start) \(need.window.end) \(need.priority) \(need.povertyAlleviated) \(need.wantedConditions.map(\.rawValue).sorted())")
        }
        for offer in input.offers.sorted(by: { $0.id < $1.id }) {
            hasher.add(
                "o \(offer.id) \(offer.province) \(offer.city) \(offer.kind.rawValue) \(offer.occupations.map(\.description).sorted()) \(offer.capacity) \(offer.window.start) \(offer.window.end) \(offer.quality) \(offer.conditions.map(\.rawValue).sorted())")
        }
        for key in input.pairings.countyLevel.map({ "c \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for key in input.pairings.provinceLevel.map({ "p \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for key in input.pairings.earlier.map({ "e \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for pair in input.declined.sorted(by: { ($0.need, $0.offer) < ($1.need, $1.offer) }) { hasher.add("d \(pair.need) \(pair.offer)") }
        return hasher.hex
    }

    static func summaryLine(id: String, _ record: RunRecord, proposals: Int, phases: [(String, Double)]) -> String {
        Field.line(
            [("run", id), ("mode", record.mode), ("proposals", "\(proposals)")] + record.figures.filter { $0.0 != "seconds" }
                + phases.map { ($0.0, fixed($0.1, 3)) } + [("fingerprint", record.fingerprint)])
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    // MARK: Runs

    static let runList = CommandSpec(
        "RUN LIST", usage: "RUN LIST [limit=N] [after=<id>]", summary: "matching runs, oldest first, with their figures"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "a run id")
        let runs = try await context.repository.runs(page: page)
        return .page("runs", runs.map(record), page: page, cursor: { _ in runs.last.map { "\($0.id)" } }, format: session.format)
    }

    static let runShow = CommandSpec(
        "RUN SHOW", usage: "RUN SHOW <id>", summary: "one run: parameters, weights, input fingerprint and figures"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "run id")
        guard let run = try await context.repository.run(id: id) else { throw ProtocolError(.notFound, "no run \(id)") }
        var fields = record(run).fields
        fields.append(("weights", .text("\(run.weights)")))
        return .ok(Record(fields).rendered(as: session.format))
    }

    static let runDiff = CommandSpec(
        "RUN DIFF", usage: "RUN DIFF <a> <b>", summary: "pairs added, removed and changed from run a to run b"
    ) { request, session, context in
        try context.validate(request, words: 2...2)
        let a = try request.id(at: 0, name: "run id a")
        let b = try request.id(at: 1, name: "run id b")
        for id in [a, b] where try await context.repository.run(id: id) == nil { throw ProtocolError(.notFound, "no run \(id)") }
        let before = try await context.repository.proposals(run: a)
        let after = try await context.repository.proposals(run: b)
        var records: [Record] = []
        for pair in Set(before.keys).union(after.keys).sorted(by: { ($0.need, $0.offer) < ($1.need, $1.offer) }) {
            let old = before[pair]
            let new = after[pair]
            let change: String
            switch (old, new) {
            case (nil, .some): change = "added"
            case (.some, nil): change = "removed"
            case (.some(let x), .some(let y)) where x.units != y.units || x.score != y.score: change = "changed"
            default: continue
            }
            records.append(
                Record([
                    ("change", .text(change)), ("need", .integer(pair.need)), ("offer", .integer(pair.offer)),
                    ("units-a", old.map { .integer($0.units) } ?? .null), ("units-b", new.map { .integer($0.units) } ?? .null),
                    ("score-a", old.map { .integer($0.score) } ?? .null), ("score-b", new.map { .integer($0.score) } ?? .null),
                ]))
        }
        return .records(header: "differences run=\(a) run=\(b)", records.map { $0.rendered(as: session.format) })
    }

    static func record(_ run: RunRecord) -> Record {
        Record(
            [("id", .integer(run.id)), ("at", .text(run.createdAt)), ("mode", .text(run.mode))]
                + run.parameters.filter { $0.0 != "mode" }.map { ($0.0, .text($0.1)) }
                + run.figures.map { ($0.0, .text($0.1)) } + [("fingerprint", .text(run.fingerprint))])
    }

    // MARK: Matches

    static let matchList = CommandSpec(
        "MATCH LIST",
        usage:
            "MATCH LIST [run=<id>] [county=<code>] [org=<id>] [status=proposed|confirmed|declined|expired|superseded|cancelled] [limit=N] [after=<id>]",
        summary: "proposals and matches (each side sees those of its scope)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["run", "county", "org", "status", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "a match id")
        var filter = MatchFilter()
        filter.run = try request.integer("run", in: 1...Int64.max)
        filter.county = try request.option("county").map(RegistryCommands.countyCode)
        filter.organisation = try request.integer("org", in: 1...Int64.max)
        filter.status = try request.choice("status", MatchStatus.self)
        let matches = try await context.repository.matches(filter: filter, within: scope, page: page)
        return .page("matches", matches.map(record), page: page, cursor: { _ in matches.last.map { "\($0.id)" } }, format: session.format)
    }

    static let matchShow = CommandSpec(
        "MATCH SHOW", usage: "MATCH SHOW <id>", summary: "one proposal or match with both sides' answers"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let match = try await visibleMatch(request, session, context)
        return .ok(record(match).rendered(as: session.format))
    }

    static let matchExplain = CommandSpec(
        "MATCH EXPLAIN", usage: "MATCH EXPLAIN <id>",
        summary: "the score part by part, and the offer's and the need's next-best alternatives and why they lost"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let match = try await visibleMatch(request, session, context)
        let input = try await context.repository.explainInput(need: match.need)
        let runProposals = try await context.repository.proposals(run: match.run)
        var lines: [Record] = []
        lines.append(Record([("match", .integer(match.id)), ("need", .integer(match.need)), ("offer", .integer(match.offer)), ("units", .integer(match.units)), ("score", .integer(match.score))]))
        lines.append(Record([("parts", .text(match.explanation))]))
        let builder = CandidateBuilder(pairings: input.pairings, declined: input.declined)
        // The offer's alternatives: other open needs it could serve, best first.
        if let offer = input.offers.first(where: { $0.id == match.offer }) {
            let others = input.needs.filter { $0.id != match.need }
                .compactMap { need in builder.explain(need, offer).map { (need, $0) } }
                .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
                .prefix(5)
            for (need, score) in others {
                let elsewhere = runProposals.filter { $0.key.need == need.id && $0.key.offer != match.offer }.reduce(Int64(0)) { $0 + $1.value.units }
                let why =
                    score.total < match.score
                    ? "scores \(score.total) < \(match.score)"
                    : "scores \(score.total); it was given \(elsewhere) units by other offers, which served the whole better"
                lines.append(
                    Record([
                        ("alternative", .text("need")), ("need", .integer(need.id)), ("score", .integer(score.total)),
                        ("why-not", .text(why)), ("parts", .text(score.description)),
                    ]))
            }
        }
        guard let need = input.needs.first(where: { $0.id == match.need }) else {
            return .records(header: "explanation", lines.map { $0.rendered(as: session.format) })
        }
        // The need's alternatives: every other open offer that could serve it, best first.
        let alternatives = input.offers.filter { $0.id != match.offer }
            .compactMap { offer in builder.explain(need, offer).map { (offer, $0) } }
            .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
            .prefix(5)
        for (offer, score) in alternatives {
            let taken = runProposals.filter { $0.key.offer == offer.id && $0.key.need != match.need }.reduce(Int64(0)) { $0 + $1.value.units }
            let why =
                score.total < match.score
                ? "scores \(score.total) < \(match.score)"
                : "scores \(score.total) but its open capacity went to \(taken) units of needs that scored higher or fit the whole better"
            lines.append(
                Record([
                    ("alternative", .text("offer")), ("offer", .integer(offer.id)), ("score", .integer(score.total)),
                    ("why-not", .text(why)), ("parts", .text(score.description)),
                ]))
        }
        return .records(header: "explanation", lines.map { $0.rendered(as: session.format) })
    }

    static let matchAccept = CommandSpec(
        "MATCH ACCEPT", usage: "MATCH ACCEPT <id> [units=N] [side=west|east]",
        summary: "accept a proposal for your side (admin names the side); both sides accepting confirms it"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["units", "side"])
        let (match, side, principal) = try await answering(request, session, context)
        let units = try request.integer("units", in: 1...match.units)
        let updated = try await context.repository.answer(
            match: match.id, side: side, accept: true, units: units, reason: "",
            audit: context.audit(principal, target: "match:\(match.id)", changes: [("side", side.rawValue)] + request.changes(["units"])))
        return .ok(record(updated).rendered(as: session.format))
    }

    static let matchDecline = CommandSpec(
        "MATCH DECLINE", usage: "MATCH DECLINE <id> reason=… [side=west|east]",
        summary: "decline a proposal for your side; the pair is never proposed again"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason", "side"])
        let (match, side, principal) = try await answering(request, session, context)
        let reason = try request.requiredText("reason", maxLength: 2_000)
        let updated = try await context.repository.answer(
            match: match.id, side: side, accept: false, units: nil, reason: reason,
            audit: context.audit(principal, target: "match:\(match.id)", changes: [("side", side.rawValue), ("reason", reason)]))
        return .ok(record(updated).rendered(as: session.format))
    }

    static let matchPlace = CommandSpec(
        "MATCH PLACE", usage: "MATCH PLACE <id> units=N date=<YYYY-MM-DD>",
        summary: "record what really happened on a confirmed match: people arrived, seats taken, staff on post"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["units", "date"])
        let match = try await visibleMatch(request, session, context, mustOwn: true)
        let principal = try context.principal(session)
        guard let units = try request.integer("units", in: 0...1_000_000) else { throw ProtocolError(.badArg, "units= is required") }
        guard let text = request.option("date"), let day = Day(text) else {
            throw ProtocolError(.badArg, "date= is required as YYYY-MM-DD")
        }
        let updated = try await context.repository.place(
            match: match.id, units: units, on: day,
            audit: context.audit(principal, target: "match:\(match.id)", changes: request.changes(["units", "date"])))
        return .ok(record(updated).rendered(as: session.format))
    }

    static let matchCancel = CommandSpec(
        "MATCH CANCEL", usage: "MATCH CANCEL <id> reason=…",
        summary: "end a confirmed match (either side or admin); its unplaced units go back to the need and the offer"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason"])
        let match = try await visibleMatch(request, session, context, mustOwn: true)
        let principal = try context.principal(session)
        let reason = try request.requiredText("reason", maxLength: 2_000)
        let updated = try await context.repository.cancel(
            match: match.id, reason: reason, audit: context.audit(principal, target: "match:\(match.id)", changes: [("reason", reason)]))
        return .ok(record(updated).rendered(as: session.format))
    }

    /// The match named by the first word, if this connection's scope may see it (either side).
    static func visibleMatch(_ request: Request, _ session: Session, _ context: CommandContext, mustOwn: Bool = false) async throws
        -> MatchInfo
    {
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        guard let match = try await context.repository.match(id: id) else { throw ProtocolError(.notFound, "no match \(id)") }
        guard try await side(of: match, scope, context) != nil || scope == .everything else {
            throw ProtocolError(.denied, "match \(id) is outside this token's scope")
        }
        return match
    }

    /// Which side of the match a scope speaks for, if any.
    static func side(of match: MatchInfo, _ scope: Scope, _ context: CommandContext) async throws -> MatchSide? {
        if SubmissionCommands.contains(scope, county: match.county) && scope.isWest { return .west }
        if scope.isEast, let organisation = try await context.repository.organisation(id: match.organisation),
            SubmissionCommands.contains(scope, organisation: organisation.id, province: organisation.province, city: organisation.city)
        {
            return .east
        }
        return nil
    }

    static func answering(_ request: Request, _ session: Session, _ context: CommandContext) async throws -> (MatchInfo, MatchSide, Principal) {
        let principal = try context.principal(session)
        let scope = try context.scope(session)
        let match = try await visibleMatch(request, session, context)
        if scope == .everything {
            guard let side = try request.choice("side", MatchSide.self) else {
                throw ProtocolError(.badArg, "side= is required for an administrator (west|east)")
            }
            return (match, side, principal)
        }
        guard let side = try await side(of: match, scope, context) else {
            throw ProtocolError(.denied, "match \(match.id) is outside this token's scope")
        }
        if let given = try request.choice("side", MatchSide.self), given != side {
            throw ProtocolError(.denied, "this token answers for the \(side.rawValue) side only")
        }
        return (match, side, principal)
    }

    static func record(_ match: MatchInfo) -> Record {
        Record([
            ("id", .integer(match.id)), ("run", .integer(match.run)), ("need", .integer(match.need)),
            ("offer", .integer(match.offer)), ("county", .text(match.county)), ("org", .integer(match.organisation)),
            ("units", .integer(match.units)), ("score", .integer(match.score)), ("status", .text(match.status.rawValue)),
            ("west", .optional(match.westAnswer.map { answer in match.westUnits.map { "\(answer):\($0)" } ?? answer })),
            ("east", .optional(match.eastAnswer.map { answer in match.eastUnits.map { "\(answer):\($0)" } ?? answer })),
            ("confirmed", match.confirmedUnits.map { .integer($0) } ?? .null), ("placed", .integer(match.placedUnits)),
            ("placed-on", .optional(match.placedOn)), ("reason", .text(match.reason)),
        ])
    }
}

/// FNV-1a, twice with different offsets (128 bits): a deterministic fingerprint of a run's
/// input, so the same data can be shown to give the same result. Not a security hash.
struct Fingerprint {
    private var a: UInt64 = 0xcbf2_9ce4_8422_2325
    private var b: UInt64 = 0x6c62_272e_07bb_0142

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        a = (a ^ 0x0A) &* 0x100_0000_01b3
        b = (b ^ 0x0A) &* 0x100_0000_01b3
    }

    var hex: String {
        [a, b].map { value in
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }
}
