import CommandProtocol

/// Placements and their follow-ups: who arrived, who is still at work at 3 and 6 months, and
/// which follow-ups are due. Each side sees the placements of the matches it sees.
enum PlacementCommands {
    static let all: [CommandSpec] = [placementList, placementShow, placementCheck, placementDue]

    static let placementList = CommandSpec(
        "PLACEMENT LIST",
        usage: "PLACEMENT LIST [match=<id>] [need=<id>] [county=<code>] [org=<id>] [limit=N] [after=<id>]",
        summary: "placements with their people still at work and stable at 3 and 6 months (each side: its scope)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["match", "need", "county", "org", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "a placement id")
        var filter = PlacementFilter()
        filter.match = try request.integer("match", in: 1...Int64.max)
        filter.need = try request.integer("need", in: 1...Int64.max)
        filter.county = try request.option("county").map(RegistryCommands.countyCode)
        filter.organisation = try request.integer("org", in: 1...Int64.max)
        let placements = try await context.read { [filter] in try $0.placements.list(filter: filter, within: scope, page: page) }
        return .page("placements", placements.map(record), page: page, cursor: { _ in placements.last.map { "\($0.id)" } })
    }

    static let placementShow = CommandSpec(
        "PLACEMENT SHOW", usage: "PLACEMENT SHOW <id>", summary: "one placement with its follow-ups, oldest first"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "placement id")
        let (placement, checks) = try await context.read { db in
            let placement = try visiblePlacement(id, scope, lock: false, in: db)
            return (placement, try db.placements.checks(placement: id))
        }
        var fields = record(placement).fields
        fields.append(("checks", checksValue(checks)))
        return .record(Record(fields))
    }

    static let placementCheck = CommandSpec(
        "PLACEMENT CHECK",
        usage: "PLACEMENT CHECK <id> date=<YYYY-MM-DD> status=working|left [people=N] [reason=<code>]",
        summary:
            "record a follow-up: the people still at work, or how many left and why; people who left before the need's window ended go back to its open demand"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["date", "status", "people", "reason"])
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "placement id")
        guard let text = request.option("date") else { throw ProtocolError(.badArg, "date= is required as YYYY-MM-DD") }
        guard let day = Day(text) else { throw ProtocolError(.badArg, "date: '\(text)' is not a date YYYY-MM-DD") }
        guard let status = try request.choice("status", CheckStatus.self) else {
            throw ProtocolError(.badArg, "status= is required (working|left)")
        }
        let people = try request.integer("people", in: 1...1_000_000).map { Int($0) }
        let reason = try request.choice("reason", LeaveReason.self)
        let today = context.today
        let changes = request.changes(["date", "status", "people", "reason"])
        let checked = try await context.write(target: "placement:\(id)", changes: changes) { db, _ in
            let placement = try visiblePlacement(id, scope, lock: true, in: db)
            guard let match = try db.matches.load(placement.match, lock: true),
                let need = try db.needs.load(placement.need, lock: true)
            else { throw ProtocolError(.conflict, "placement \(id): its match or need is gone") }
            let (updated, check, givenBack) = try placement.checked(
                on: day, status: status, people: people, reason: reason, needEnds: need.to, today: today)
            try db.placements.save(updated)
            try db.placements.record(check)
            var totals = match
            totals.people = match.people.replacing(placement, with: updated)
            try db.matches.save(totals)
            if givenBack > 0 {
                // The units go back where they came from, as a cancelled match gives back its unplaced ones.
                try db.needs.save(need.confirming(-givenBack), supersedingProposals: false)
                if let offer = try db.offers.load(match.offer, lock: true)?.offer {
                    try db.offers.save(offer.confirming(-givenBack), supersedingProposals: false)
                }
            }
            return updated
        }
        return .record(record(checked))
    }

    static let placementDue = CommandSpec(
        "PLACEMENT DUE", usage: "PLACEMENT DUE [days=N] [limit=N] [after=<id>]",
        summary: "placements whose 3- or 6-month follow-up is due within N days (default 14) or overdue (each side: its scope)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["days", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "a placement id")
        let days = Int(try request.integer("days", in: 0...366) ?? 14)
        let today = context.today
        let horizon = Day(dayNumber: today.dayNumber + days) ?? today
        let placements = try await context.read { try $0.placements.due(by: horizon, within: scope, page: page) }
        let records = placements.compactMap { placement -> Record? in
            guard let milestone = placement.nextMilestone else { return nil }
            let due = placement.due(milestone)
            var fields = record(placement).fields
            fields.append(("check", .text(milestone.name)))
            fields.append(("due", .text(due.description)))
            fields.append(("overdue-days", .int(max(0, today.dayNumber - due.dayNumber))))
            return Record(fields)
        }
        return .page(
            Reply.Header("placements", Record([("today", .text(today.description)), ("horizon", .text(horizon.description))])), records,
            page: page, cursor: { _ in placements.last.map { "\($0.id)" } })
    }

    /// The placement, if this connection's scope may see its match.
    static func visiblePlacement(_ id: Int64, _ scope: Scope, lock: Bool, in db: Gateways) throws -> Placement {
        guard let placement = try db.placements.load(id, lock: lock) else { throw ProtocolError(.notFound, "no placement \(id)") }
        _ = try MatchCommands.visibleMatch(placement.match, scope, in: db)
        return placement
    }

    static func record(_ placement: Placement) -> Record {
        Record([
            ("id", .integer(placement.id)), ("match", .integer(placement.match)), ("need", .integer(placement.need)),
            ("county", .text(placement.county)), ("org", .integer(placement.organisation)), ("people", .int(placement.people)),
            ("poverty", .int(placement.poverty)), ("monitored", .int(placement.monitored)),
            ("placed-on", .text(placement.placedOn.description)), ("working", .int(placement.working)), ("left", .int(placement.left)),
            ("reopened", .int(placement.reopened)), ("stable-3m", placement.stable3.map { .int($0) } ?? .null),
            ("stable-6m", placement.stable6.map { .int($0) } ?? .null), ("last-check", .optional(placement.lastCheck?.description)),
        ])
    }

    /// The follow-ups as `date:status:people[:reason];…` in text and as objects in JSON.
    static func checksValue(_ checks: [PlacementCheck]) -> Record.Value {
        .spelled(
            .array(
                checks.map { check in
                    .object([
                        ("date", .text(check.on.description)), ("status", .text(check.status.rawValue)), ("people", .int(check.people)),
                        ("reason", .optional(check.reason?.rawValue)),
                    ])
                }),
            text: checks.map { check in
                "\(check.on):\(check.status.rawValue):\(check.people)" + (check.reason.map { ":\($0.rawValue)" } ?? "")
            }.joined(separator: ";"))
    }
}
