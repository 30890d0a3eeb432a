import CommandProtocol
import Dispatch
import MatchingEngine

/// Matching runs: snapshot → solve → fingerprint → store, and the stored runs (admin).
extension MatchCommands {
    static let matchRun = CommandSpec(
        "MATCH RUN",
        usage:
            "MATCH RUN [mode=optimal|fair|stable] [objective=score|units-first] [share=0.3] [side=needs|offers] [kind=…] [province=<province>] [county=<code>] [dry] [wait=SECONDS]",
        summary: "match open needs with open offers and store the proposals (one run commits at a time)", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...1, options: ["mode", "objective", "share", "side", "kind", "province", "county", "wait"])
        let principal = try context.principal(session)
        if let word = request.words.first, asciiLowercased(word) != "dry" {
            throw ProtocolError(.badArg, "unexpected argument '\(word)'; usage: \(context.spec.usage)")
        }
        let dry = !request.words.isEmpty
        let mode = try Self.mode(request)
        let kind = try request.choice("kind", Kind.self)
        let provinceGiven = request.option("province")
        let county = try request.option("county").map(RegistryCommands.countyCode)
        let wait = try request.integer("wait", in: 0...600).map { Duration.seconds($0) } ?? .zero
        let lifetime = context.settings.proposalLifetimeDays
        let token = principal.tokenID
        let audit = context.audit(principal, target: "run", changes: [])
        // One REPEATABLE READ transaction from the lock to the stored proposals: the run reads
        // one snapshot and stores against it. Inside a batch the batch's transaction is used,
        // and the run is stored or dropped with the batch.
        return try await context.runsInProgress.track(token: token) { phases in
            try await whenRunLockTaken(wait: wait) {
                try await context.withLongUnit(.repeatableRead, commit: !dry) { unit in
                    if !dry, try await !unit.read(token: token, { try $0.matches.tryLockRuns() }) { throw RunLockTaken() }
                    let (filter, input) = try await unit.read(token: token) { db in
                        // A filter naming no county, or a county outside the named province,
                        // would store an empty run: refused instead.
                        var filter = RunFilter(kind: kind, county: county)
                        if let county, try db.registry.county(code: county) == nil {
                            throw ProtocolError(.badArg, "county: no county \(county); COUNTY LIST shows them")
                        }
                        if let provinceGiven {
                            let province = try CommandContext.province(provinceGiven, side: .west, field: "province", in: db.registry)
                            if let county, !county.hasPrefix(province.code) {
                                throw ProtocolError(.badArg, "county: \(county) is not in province=\(province.name)")
                            }
                            filter.province = province.code
                        }
                        if !dry { try db.matches.expireProposals(olderThanDays: lifetime) }
                        return (filter, try db.matches.runInput(filter, needID: nil))
                    }
                    let weights = ScoreWeights.default
                    let outcome = try await Self.solve(input, mode: mode, weights: weights, phases: phases)
                    var parameters: [(String, String)] = [("mode", "\(mode)")]
                    if !filter.text.isEmpty { parameters.append(("filter", filter.text)) }
                    var record = RunRecord(
                        mode: "\(mode)", parameters: parameters, weights: weights, fingerprint: outcome.fingerprint,
                        figures: RunRecord.figures(outcome.summary, needs: input.needs.count, offers: input.offers.count, pairs: outcome.pairs))
                    if dry {
                        let laps = phases.finished()
                        context.metrics.recordRunPhases(laps)
                        record.figures += RunRecord.phaseFigures(laps)
                        return .record(Self.summary(run: "dry", record, proposals: outcome.proposals.count))
                    }
                    phases.begin("store")
                    let proposals = outcome.proposals
                    let (id, laps) = try await unit.write(audit: audit) { [parameters, record] db, audit in
                        let id = try db.matches.storeRun(record, proposals: proposals, filter: filter, startedBy: token)
                        // The store phase ends here, before its own figures are written and committed.
                        let laps = phases.finished()
                        try db.matches.addFigures(run: id, RunRecord.phaseFigures(laps))
                        audit.target = "run:\(id)"
                        audit.changes = parameters + [("proposals", "\(proposals.count)")]
                        return (id, laps)
                    }
                    context.metrics.recordRunPhases(laps)
                    record.figures += RunRecord.phaseFigures(laps)
                    return .record(Self.summary(run: .integer(id), record, proposals: proposals.count))
                }
            }
        }
    }

    private struct RunLockTaken: Error {}

    /// Runs `body` until it gets the run lock, for up to `wait`. The lock is the first statement
    /// of a fresh unit each time: a REPEATABLE READ unit that waited would read the snapshot of
    /// before the other run's commit and fail to store over its proposals. (In a batch the unit
    /// is the batch's, READ COMMITTED: each try sees what committed before it.)
    static func whenRunLockTaken<T>(wait: Duration, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + wait
        while true {
            do {
                return try await body()
            } catch is RunLockTaken {
                guard ContinuousClock.now < deadline else {
                    throw StoreError.busy("another matching run is being stored; try again, or give wait=SECONDS")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func mode(_ request: Request) throws(ProtocolError) -> Mode {
        let name = asciiLowercased(request.option("mode") ?? "optimal")
        guard ["optimal", "fair", "stable"].contains(name) else {
            throw ProtocolError(.badArg, "mode must be one of optimal|fair|stable, not '\(name)'")
        }
        // Each of these options steers one mode only; given with another it would be ignored.
        for (key, owner) in [("objective", "optimal"), ("share", "fair"), ("side", "stable")]
        where request.option(key) != nil && name != owner {
            throw ProtocolError(.badArg, "\(key)= applies to mode=\(owner) only, not to mode=\(name)")
        }
        switch name {
        case "fair":
            guard let text = request.option("share") else { return .fair }
            guard let share = Fraction(share: text), share.numerator > 0 else {
                throw ProtocolError(.badArg, "share must be above 0 and at most 1, as a decimal (0.3) or a fraction (3/10), not '\(text)'")
            }
            return .fair(share: share)
        case "stable":
            return .stable(try request.choice("side", Mode.Side.self) ?? .needs)
        default:
            return .optimal(try request.choice("objective", Mode.Objective.self) ?? .score)
        }
    }

    struct Outcome: Sendable {
        var proposals: [Proposal]
        var summary: Summary
        var pairs: Int
        var fingerprint: String
    }

    /// Fingerprints the input, builds candidates, solves, checks the certificate and explains
    /// the proposals on a Dispatch thread: seconds of arithmetic must not hold one of the few
    /// threads that serve every connection.
    static func solve(_ input: RunInput, mode: Mode, weights: ScoreWeights, phases: RunPhases) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(
                    with: Result { () throws -> Outcome in
                        let fingerprint = Self.fingerprint(input, mode: mode, weights: weights)
                        phases.begin("candidates")
                        let builder = input.builder(weights: weights)
                        let onEveryCore: Solver.ForEachIndex = { count, body in
                            DispatchQueue.concurrentPerform(iterations: count, execute: body)
                        }
                        let candidates = try builder.build(needs: input.needs, offers: input.offers, forEachPart: onEveryCore)
                        phases.begin("solve")
                        // A kind never pairs with another: its part solves beside the others.
                        let solution = try Solver.solve(candidates.problem, mode: mode, forEachPart: onEveryCore)
                        phases.begin("certificate")
                        let verification = Verifier.verify(candidates.problem, solution)
                        guard verification == .verified else {
                            throw ProtocolError(.internal, "the solution failed its own check: \(verification)")
                        }
                        phases.begin("explanations")
                        let matches = candidates.matches(solution)
                        let ranges = Solver.ranges(matches.count, parts: 16, minimum: 1_024)
                        let proposals = Solver.collect(ranges.count, onEveryCore) { k in
                            matches[ranges[k]].map { match in
                                Proposal(
                                    need: match.need, offer: match.offer, units: match.units, score: match.score.total,
                                    explanation: explanation(match.score).json)
                            }
                        }.flatMap { $0 }
                        return Outcome(
                            proposals: proposals, summary: Summary(candidates.problem, solution),
                            pairs: candidates.problem.edgeCount, fingerprint: fingerprint)
                    })
            }
        }
    }

    /// A score part by part, with its total and what it rests on: what a proposal stores and
    /// MATCH EXPLAIN shows. The pairing's level has a key of its own; under `pairing`, a JSON
    /// object would hold the points or the level, never both.
    static func explanation(_ score: ScoreBreakdown) -> Record.Value {
        scoreObject(total: score.total, parts: score.parts, fit: score.fit.description, pairing: score.pairing.description)
    }

    static func scoreObject(total: Int64, parts: [(name: String, points: Int64)], fit: String, pairing: String) -> Record.Value {
        .object(parts.map { ($0.name, .integer($0.points)) } + [("total", .integer(total)), ("fit", .text(fit)), ("pairing-level", .text(pairing))])
    }

    /// The same records, in any order, give the same fingerprint: everything is sorted first.
    static func fingerprint(_ input: RunInput, mode: Mode, weights: ScoreWeights) -> String {
        var hasher = Fingerprint()
        hasher.add("mode \(mode) weights \(weights)")
        for need in input.needs.sorted(by: { $0.id < $1.id }) {
            hasher.add(
                "n \(need.id) \(need.county) \(need.province) \(need.kind.rawValue) \(need.occupations.map(\.description).sorted()) \(need.quantity) \(need.window.start) \(need.window.end) \(need.priority) \(need.povertyAlleviated) \(need.keyCounty) \(need.wantedConditions.map(\.rawValue).sorted())"
                    + (need.variant == .any ? "" : " v\(need.variant.rawValue)"))
        }
        for offer in input.offers.sorted(by: { $0.id < $1.id }) {
            hasher.add(
                "o \(offer.id) \(offer.province) \(offer.city) \(offer.kind.rawValue) \(offer.occupations.map(\.description).sorted()) \(offer.capacity) \(offer.window.start) \(offer.window.end) \(offer.quality) \(offer.conditions.map(\.rawValue).sorted())"
                    + (offer.variant == .any ? "" : " v\(offer.variant.rawValue)") + (offer.employmentBase ? " base" : ""))
        }
        for key in input.pairings.countyLevel.map({ "c \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for key in input.pairings.provinceLevel.map({ "p \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for key in input.pairings.earlier.map({ "e \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for key in input.pairings.earlierCountyLevel.map({ "ec \($0.west) \($0.east)" }).sorted() { hasher.add(key) }
        for pair in input.declined.sorted(by: { ($0.need, $0.offer) < ($1.need, $1.offer) }) { hasher.add("d \(pair.need) \(pair.offer)") }
        for pair in input.continued.sorted(by: { ($0.need, $0.offer) < ($1.need, $1.offer) }) { hasher.add("k \(pair.need) \(pair.offer)") }
        return hasher.hex
    }

    /// `run` is the stored run's id, or `dry`.
    static func summary(run: Record.Value, _ record: RunRecord, proposals: Int) -> Record {
        Record(
            [("run", run), ("mode", .text(record.mode)), ("proposals", .int(proposals))] + figures(record.figures)
                + [("fingerprint", .text(record.fingerprint))])
    }

    /// Figures are kept as text; scripts get them as numbers.
    static func figures(_ figures: [(String, String)]) -> [(String, Record.Value)] {
        figures.map { ($0.0, .numeric($0.1)) }
    }

    // MARK: Runs

    /// Read from a second connection while a run works: `ewmatch match run` shows it on a terminal.
    static let runProgress = CommandSpec(
        "RUN PROGRESS", usage: "RUN PROGRESS",
        summary: "the matching runs working on this server: the phase each is in and the phases it has passed", access: .admin
    ) { request, _, context in
        try context.validate(request, words: 0...0)
        let now = ContinuousClock.now
        let records = context.runsInProgress.current.map { run in
            let laps = run.laps(now: now)
            return Record(
                [
                    ("token", .integer(run.token)), ("phase", .text(laps.current)),
                    ("phase-s", .decimal(fixed(seconds(laps.currentFor), 3))),
                    ("elapsed-s", .decimal(fixed(seconds(now - run.started), 3))),
                ] + laps.passed.map { ("\($0.0)-s", .decimal(fixed(seconds($0.1), 3))) })
        }
        return .records(header: Reply.Header("runs in progress"), records)
    }

    static let runList = CommandSpec(
        "RUN LIST", usage: "RUN LIST [limit=N] [after=<id>]", summary: "matching runs, oldest first, with their figures"
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "a run id")
        let runs = try await context.read { try $0.matches.runs(page: page) }
        return .page("runs", runs.map(record), page: page, cursor: { _ in runs.last.map { "\($0.id)" } })
    }

    static let runShow = CommandSpec(
        "RUN SHOW", usage: "RUN SHOW <id>", summary: "one run: parameters, weights, input fingerprint and figures"
    ) { request, _, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "run id")
        guard let run = try await context.read({ try $0.matches.run(id: id) }) else { throw ProtocolError(.notFound, "no run \(id)") }
        var fields = record(run).fields
        let weights = run.weights.named
        fields.append(
            ("weights", .spelled(.object(weights.map { ($0.0, .integer($0.1)) }), text: Field.line(weights.map { ($0.0, "\($0.1)") }))))
        return .record(Record(fields))
    }

    static let runDiff = CommandSpec(
        "RUN DIFF", usage: "RUN DIFF <a> <b>", summary: "pairs added, removed and changed from run a to run b"
    ) { request, _, context in
        try context.validate(request, words: 2...2)
        let a = try request.id(at: 0, name: "run id a")
        let b = try request.id(at: 1, name: "run id b")
        let (before, after) = try await context.read { db in
            for id in [a, b] where try db.matches.run(id: id) == nil { throw ProtocolError(.notFound, "no run \(id)") }
            return (try db.matches.proposals(run: a), try db.matches.proposals(run: b))
        }
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
        return .records(header: Reply.Header("differences run=\(a) run=\(b)"), records)
    }

    static func record(_ run: RunRecord) -> Record {
        Record(
            [("id", .integer(run.id)), ("at", .text(run.createdAt)), ("mode", .text(run.mode))]
                + run.parameters.filter { $0.0 != "mode" }.map { ($0.0, .text($0.1)) }
                + figures(run.figures) + [("fingerprint", .text(run.fingerprint))])
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
