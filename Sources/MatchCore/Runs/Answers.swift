import CommandProtocol
import MatchingEngine

/// Proposals and matches: each side sees its own and answers for itself; both sides accepting
/// confirms a match, placements record what really happened.
enum MatchCommands {
    static let all: [CommandSpec] = [
        matchRun, runProgress, runList, runShow, runDiff, matchList, matchShow, matchExplain, matchAccept, matchDecline, matchPlace,
        matchCancel,
    ]

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
        let matches = try await context.read { [filter] in try $0.matches.list(filter: filter, within: scope, page: page) }
        return .page("matches", matches.map(record), page: page, cursor: { _ in matches.last.map { "\($0.id)" } })
    }

    static let matchShow = CommandSpec(
        "MATCH SHOW", usage: "MATCH SHOW <id>", summary: "one proposal or match with both sides' answers"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        let match = try await context.read { try visibleMatch(id, scope, in: $0) }
        return .record(record(match))
    }

    static let matchAccept = CommandSpec(
        "MATCH ACCEPT", usage: "MATCH ACCEPT <id> [units=N] [side=west|east]",
        summary: "accept a proposal for your side (admin names the side); both sides accepting confirms it"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["units", "side"])
        let units = try request.integer("units", in: 1...1_000_000)
        return try await answer(request, session, context, .accept(units: units), changes: request.changes(["units"]))
    }

    static let matchDecline = CommandSpec(
        "MATCH DECLINE", usage: "MATCH DECLINE <id> reason=wage|distance|conditions|timing|filled|other [note=…] [side=west|east]",
        summary: "decline a proposal for your side, saying why; the pair is never proposed again"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason", "note", "side"])
        guard let reason = try request.choice("reason", DeclineReason.self) else {
            throw ProtocolError(.badArg, "reason= is required (\(DeclineReason.allCases.map(\.rawValue).joined(separator: "|")))")
        }
        let note = try request.text("note", maxLength: 2_000)?.trimmingSpaces ?? ""
        return try await answer(
            request, session, context, .decline(reason: reason, note: note), changes: [("reason", reason.rawValue)] + request.changes(["note"]))
    }

    /// One side's answer, in one transaction: the proposal locked, the answer recorded, and when
    /// both sides have accepted, the match confirmed against what its need and offer still have open.
    static func answer(_ request: Request, _ session: Session, _ context: CommandContext, _ answer: Answer, changes: [(String, String)])
        async throws -> Reply
    {
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        let given = try request.choice("side", MatchSide.self)
        if scope == .everything && given == nil { throw ProtocolError(.badArg, "side= is required for an administrator (west|east)") }
        let updated = try await context.write(target: "match:\(id)", changes: changes) { db, audit in
            guard let match = try db.matches.load(id, lock: true) else { throw ProtocolError(.notFound, "no match \(id)") }
            let side = try answeringSide(match, scope, given: given, in: db)
            audit.changes.insert(("side", side.rawValue), at: 0)
            var updated = try match.answered(by: side, answer)
            if case .decline = answer { try db.matches.rememberDeclined(need: match.need, offer: match.offer) }
            if updated.needsConfirmation {
                guard let need = try db.needs.load(match.need, lock: true), let offer = try db.offers.load(match.offer, lock: true)?.offer
                else { throw ProtocolError(.conflict, "match \(id): its need or offer is gone") }
                updated = try updated.confirmed(needOpen: need.quantity - need.matched, offerOpen: offer.capacity - offer.matched)
                if let units = updated.confirmedUnits {
                    try db.needs.save(need.confirming(Int(units)), supersedingProposals: false)
                    try db.offers.save(offer.confirming(Int(units)), supersedingProposals: false)
                }
            }
            try db.matches.save(updated)
            return updated
        }
        return .record(record(updated))
    }

    static let matchPlace = CommandSpec(
        "MATCH PLACE", usage: "MATCH PLACE <id> people=N date=<YYYY-MM-DD> [poverty=N] [monitored=N]",
        summary: "add a placement to a confirmed match: people arrived, seats taken, staff on post (PLACEMENT LIST shows them)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["people", "date", "poverty", "monitored"])
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        guard let people = try request.integer("people", in: 1...1_000_000) else {
            throw ProtocolError(.badArg, "people= is required: how many arrived (1 or more)")
        }
        guard let text = request.option("date") else { throw ProtocolError(.badArg, "date= is required as YYYY-MM-DD") }
        guard let day = Day(text) else { throw ProtocolError(.badArg, "date: '\(text)' is not a date YYYY-MM-DD") }
        let placing = PlacementRequest(
            people: Int(people), poverty: Int(try request.integer("poverty", in: 0...1_000_000) ?? 0),
            monitored: Int(try request.integer("monitored", in: 0...1_000_000) ?? 0), on: day)
        let today = context.today
        let changes = request.changes(["people", "date", "poverty", "monitored"])
        let placement = try await context.write(target: "match:\(id)", changes: changes) { db, audit in
            let match = try visibleMatch(id, scope, lock: true, in: db)
            guard let need = try db.needs.load(match.need, lock: true), let offer = try db.offers.load(match.offer, lock: false)?.offer
            else { throw ProtocolError(.conflict, "match \(id): its need or offer is gone") }
            let (placed, placement) = try match.placing(
                placing, need: need, offer: offer, alreadyPlaced: try db.placements.placedCounts(need: need.id), today: today)
            var stored = placement
            stored.id = try db.placements.add(placement)
            try db.matches.save(placed)
            audit.target = "placement:\(stored.id)"
            audit.changes.insert(("match", "\(id)"), at: 0)
            return stored
        }
        return .record(PlacementCommands.record(placement))
    }

    static let matchCancel = CommandSpec(
        "MATCH CANCEL", usage: "MATCH CANCEL <id> reason=…",
        summary: "end a confirmed match (either side or admin); its unplaced units go back to the need and the offer"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason"])
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        let reason = try request.requiredText("reason", maxLength: 2_000)
        let updated = try await context.write(target: "match:\(id)", changes: [("reason", reason)]) { db, _ in
            let match = try visibleMatch(id, scope, lock: true, in: db)
            let (cancelled, released) = try match.cancelled(reason: reason)
            if released > 0 {
                guard let need = try db.needs.load(match.need, lock: true), let offer = try db.offers.load(match.offer, lock: true)?.offer
                else { throw ProtocolError(.conflict, "match \(id): its need or offer is gone") }
                try db.needs.save(need.confirming(-Int(released)), supersedingProposals: false)
                try db.offers.save(offer.confirming(-Int(released)), supersedingProposals: false)
            }
            try db.matches.save(cancelled)
            return cancelled
        }
        return .record(record(updated))
    }

    /// The match, if this connection's scope may see it (either side).
    static func visibleMatch(_ id: Int64, _ scope: Scope, lock: Bool = false, in db: Gateways) throws -> MatchInfo {
        guard let match = try db.matches.load(id, lock: lock) else { throw ProtocolError(.notFound, "no match \(id)") }
        guard try scope == .everything || side(of: match, scope, in: db) != nil else {
            throw ProtocolError(.denied, "match \(id) is outside this token's scope")
        }
        return match
    }

    /// Which side of the match a scope speaks for, if any.
    static func side(of match: MatchInfo, _ scope: Scope, in db: Gateways) throws -> MatchSide? {
        if SubmissionCommands.contains(scope, county: match.county) && scope.isWest { return .west }
        if scope.isEast, let organisation = try db.registry.organisation(id: match.organisation),
            SubmissionCommands.contains(scope, organisation: organisation.id, province: organisation.province, city: organisation.city)
        {
            return .east
        }
        return nil
    }

    /// The side an answer is for: the administrator names it, a coordinator answers for its own.
    static func answeringSide(_ match: MatchInfo, _ scope: Scope, given: MatchSide?, in db: Gateways) throws -> MatchSide {
        if scope == .everything, let given { return given }
        guard let side = try side(of: match, scope, in: db) else {
            throw ProtocolError(.denied, "match \(match.id) is outside this token's scope")
        }
        if let given, given != side { throw ProtocolError(.denied, "this token answers for the \(side.rawValue) side only") }
        return side
    }

    static func record(_ match: MatchInfo) -> Record {
        Record([
            ("id", .integer(match.id)), ("run", .integer(match.run)), ("need", .integer(match.need)),
            ("offer", .integer(match.offer)), ("county", .text(match.county)), ("org", .integer(match.organisation)),
            ("units", .integer(match.units)), ("score", .integer(match.score)), ("status", .text(match.status.rawValue)),
            ("west", .optional(match.westAnswer.map { answer in match.westUnits.map { "\(answer):\($0)" } ?? answer })),
            ("east", .optional(match.eastAnswer.map { answer in match.eastUnits.map { "\(answer):\($0)" } ?? answer })),
            ("confirmed", match.confirmedUnits.map { .integer($0) } ?? .null), ("placed", .integer(match.people.placed)),
            ("placed-on", .optional(match.people.lastPlacedOn)), ("poverty-placed", .integer(match.people.poverty)),
            ("monitored-placed", .integer(match.people.monitored)), ("working", .integer(match.people.working)),
            ("left", .integer(match.people.left)), ("reopened", .integer(match.people.reopened)),
            ("stable-3m", .integer(match.people.stable3)), ("stable-6m", .integer(match.people.stable6)),
            ("reason", .text(match.reason)), ("note", .text(match.note)),
        ])
    }
}

