import CommandProtocol
import MatchingEngine

/// Needs (west) and offers (east). Each side writes only within its scope, browses the other
/// side's open submissions without their private notes, and administrators do everything.
enum SubmissionCommands {
    static let all: [CommandSpec] = [
        needAdd, needShow, needList, needUpdate, needCancel,
        offerAdd, offerShow, offerList, offerUpdate, offerWithdraw,
    ]

    static let maximumUnits: ClosedRange<Int64> = 1...1_000_000
    static let needFields = [
        "occupations", "qty", "from", "to", "priority", "poverty", "monitored", "conditions", "note", "private-note",
    ]
    static let offerFields = ["occupations", "capacity", "from", "to", "place", "conditions", "quality", "note", "private-note"]
    /// What a kind says beyond the fields above (KindDetails), given when a need or offer is submitted.
    static let detailFields = ["years", "months", "school", "partnership", "direction"]

    // MARK: Needs

    static let needAdd = CommandSpec(
        "NEED ADD",
        usage:
            "NEED ADD county=<code> kind=labor|training|enrolment|school_partnership|talent|secondment occupations=<code,…> qty=<n> from=<YYYY-MM-DD> to=<YYYY-MM-DD> [priority=1-5] [poverty=N] [monitored=N] [conditions=<condition,…>] [years=N] [months=N] [school=…] [partnership=school|enterprise] [direction=to_east|to_west] [note=…] [private-note=…] [req=<key>]",
        summary: "submit a county's need (west: a county of its scope); a retry with the same req= stores it once", access: .west
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: Set(["county", "kind", ClientRequests.option] + needFields + detailFields))
        let key = try ClientRequests.key(request)
        let principal = try context.principal(session)
        let scope = try context.scope(session)
        let countyCode = try RegistryCommands.countyCode(try request.requiredText("county"))
        // The store checks that the county exists, in the write itself.
        try requireWest(scope, countyCode: countyCode, spec: context.spec)
        let (from, to) = try window(request, required: true)
        let kind = try kind(request)
        let need = Need(
            county: countyCode, kind: kind, occupations: try occupations(request, required: true)!,
            quantity: Int(try request.integer("qty", in: maximumUnits) ?? { throw ProtocolError(.badArg, "qty= is required") }()),
            from: from!, to: to!, priority: Int(try request.integer("priority", in: 1...5) ?? 3),
            poverty: try people(request, "poverty") ?? 0, monitored: try people(request, "monitored") ?? 0,
            conditions: try wantedConditions(request) ?? [], details: try details(request, kind: kind, side: .need),
            note: try request.text("note", maxLength: 2_000) ?? "",
            privateNote: try request.text("private-note", maxLength: 2_000) ?? "")
        for (name, count) in [("poverty", need.poverty), ("monitored", need.monitored)] where count > need.quantity {
            throw ProtocolError(.badArg, "\(name): \(count) is more than the need's \(need.quantity) people (qty)")
        }
        let audit = context.audit(principal, target: "need", changes: request.changes(["county", "kind"] + needFields + detailFields))
        if let key {
            let token = principal.tokenID
            let stored = try await context.write(target: "need", changes: audit.changes + [("req", key)]) { db, audit in
                if let earlier = try db.requests.earlier(token: token, key: key, withinHours: ClientRequests.windowHours) {
                    let id = try ClientRequests.storedID(earlier, noun: "need", key: key)
                    guard let stored = try db.needs.load(id, lock: false) else { throw ProtocolError(.notFound, "no need \(id)") }
                    audit.target = earlier.target
                    audit.changes.append(("replay", "yes"))
                    return stored
                }
                guard try db.registry.county(code: need.county) != nil else {
                    throw ProtocolError(.badArg, "county: no county \(need.county); COUNTY LIST shows them")
                }
                try checkOccupationsExist(need.occupations, in: db.registry)
                var stored = need
                stored.id = try db.needs.add(need)
                audit.target = "need:\(stored.id)"
                try ClientRequests.remember(EarlierRequest(target: audit.target, rows: 1), token: token, key: key, in: db)
                return stored
            }
            return .record(record(stored, showPrivate: true))
        }
        // Outside a batch concurrent NEED ADDs share one statement (group commit); inside one the
        // need is part of the batch's transaction.
        let outcome: NeedInsertOutcome
        if let batch = context.batch {
            outcome = try await batch.read(token: nil) { try $0.needs.insert([need], audits: [audit])[0] }
        } else {
            outcome = try await context.store.submitNeed(need, audit: audit)
        }
        switch outcome {
        case .stored(let stored): return .record(record(stored, showPrivate: true))
        case .tokenRevoked: throw StoreError.tokenRevoked
        case .unknownCounty: throw ProtocolError(.badArg, "county: no county \(need.county); COUNTY LIST shows them")
        case .unknownOccupation(let code): throw ProtocolError(.badArg, "occupations: unknown code \(code); OCCUPATION LIST shows them")
        }
    }

    static let needShow = CommandSpec(
        "NEED SHOW", usage: "NEED SHOW <id>", summary: "show one need (the other side sees open needs without private notes)"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "need id")
        guard let need = try await context.read({ try $0.needs.load(id, lock: false) }) else {
            throw ProtocolError(.notFound, "no need \(id)")
        }
        let own = scope == .everything || contains(scope, county: need.county)
        guard own || (scope.isEast && isOpen(need.status)) else {
            throw ProtocolError(.denied, "need \(id) is outside this token's scope")
        }
        return .record(record(need, showPrivate: own))
    }

    static let needList = CommandSpec(
        "NEED LIST",
        usage:
            "NEED LIST [county=<code>] [province=<province>] [kind=…] [occupation=<code>] [status=open|partly_matched|filled|cancelled] [limit=N] [after=<id>]",
        summary: "list needs, oldest first (west: its own; east: every open need)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["county", "province", "kind", "occupation", "status", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "a need id")
        let needs = try await visibleNeeds(request, scope, context, page: page)
        return .page(
            "needs", needs.map { record($0, showPrivate: !scope.isEast) }, page: page, cursor: { _ in needs.last.map { "\($0.id)" } })
    }

    static let needUpdate = CommandSpec(
        "NEED UPDATE",
        usage:
            "NEED UPDATE <id> [occupations=<code,…>] [qty=<n>] [from=<date>] [to=<date>] [priority=1-5] [poverty=N] [monitored=N] [conditions=<condition,…>] [note=…] [private-note=…]",
        summary: "change an open need; refused where confirmed matches depend on it", access: .west
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: Set(needFields))
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "need id")
        var changes = SubmissionChanges()
        changes.occupations = try occupations(request, required: false)
        changes.quantity = try request.integer("qty", in: maximumUnits).map { Int($0) }
        (changes.from, changes.to) = try window(request, required: false)
        changes.priority = try request.integer("priority", in: 1...5).map { Int($0) }
        changes.poverty = try people(request, "poverty")
        changes.monitored = try people(request, "monitored")
        changes.wantedConditions = try wantedConditions(request)
        changes.note = try request.text("note", maxLength: 2_000)
        changes.privateNote = try request.text("private-note", maxLength: 2_000)
        let audited = request.changes(needFields)
        guard !audited.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let spec = context.spec
        let updated = try await context.write(target: "need:\(id)", changes: audited) { [changes] db, _ in
            guard let need = try db.needs.load(id, lock: true) else { throw ProtocolError(.notFound, "no need \(id)") }
            try requireWest(scope, countyCode: need.county, spec: spec)
            let updated = try need.updated(by: changes)
            // Only a lowered count can fall below what placements already count.
            if updated.poverty < need.poverty || updated.monitored < need.monitored,
                case let placed = try db.placements.placedCounts(need: id),
                updated.poverty < placed.poverty || updated.monitored < placed.monitored
            {
                throw ProtocolError(
                    .conflict,
                    "need \(id) has \(placed.poverty) 脱贫劳动力 and \(placed.monitored) 防止返贫监测对象 placed; its counts cannot go below them")
            }
            try checkOccupationsExist(changes.occupations, in: db.registry)
            try db.needs.save(updated, supersedingProposals: true)
            return updated
        }
        return .record(record(updated, showPrivate: true))
    }

    static let needCancel = CommandSpec(
        "NEED CANCEL", usage: "NEED CANCEL <id> [reason=…]",
        summary: "cancel a need; refused while confirmed matches depend on it", access: .west
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason"])
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "need id")
        let spec = context.spec
        let cancelled = try await context.write(target: "need:\(id)", changes: request.changes(["reason"])) { db, _ in
            guard let need = try db.needs.load(id, lock: true) else { throw ProtocolError(.notFound, "no need \(id)") }
            try requireWest(scope, countyCode: need.county, spec: spec)
            let cancelled = try need.cancelled()
            try db.needs.save(cancelled, supersedingProposals: true)
            return cancelled
        }
        return .record(record(cancelled, showPrivate: true))
    }

    static func record(_ need: Need, showPrivate: Bool) -> Record {
        var fields: [(String, Record.Value)] = [
            ("id", .integer(need.id)), ("county", .text(need.county)), ("kind", .text(need.kind.rawValue)),
            ("occupations", .text(need.occupations.joined(separator: ","))), ("qty", .int(need.quantity)),
            ("matched", .int(need.matched)), ("open", .int(need.quantity - need.matched)), ("from", .text(need.from.description)),
            ("to", .text(need.to.description)), ("priority", .int(need.priority)), ("poverty", .int(need.poverty)),
            ("monitored", .int(need.monitored)),
        ] + need.details.fields(for: need.kind) + [
            ("conditions", .text(need.conditions.joined(separator: ","))), ("status", .text(need.status.rawValue)),
            ("note", .text(need.note)),
        ]
        if showPrivate { fields.append(("private-note", .text(need.privateNote))) }
        return Record(fields)
    }

    // MARK: Offers

    static let offerAdd = CommandSpec(
        "OFFER ADD",
        usage:
            "OFFER ADD org=<id> kind=labor|training|enrolment|school_partnership|talent|secondment occupations=<code,…> capacity=<n> from=<YYYY-MM-DD> to=<YYYY-MM-DD> [place=…] [conditions=…] [quality=0-50] [years=N] [months=N] [partnership=school|enterprise] [direction=to_east|to_west] [employer=<org id>] [note=…] [private-note=…] [req=<key>]",
        summary: "submit an organisation's offer (east: an organisation of its scope); a retry with the same req= stores it once",
        access: .east
    ) { request, session, context in
        try context.validate(
            request, words: 0...0, options: Set(["org", "kind", "employer", ClientRequests.option] + offerFields + detailFields))
        let key = try ClientRequests.key(request)
        let token = try context.principal(session).tokenID
        let scope = try context.scope(session)
        guard let orgID = try request.integer("org", in: 1...Int64.max) else { throw ProtocolError(.badArg, "org= is required") }
        let (from, to) = try window(request, required: true)
        let kind = try kind(request)
        let employerID = try request.integer("employer", in: 1...Int64.max)
        let offer = Offer(
            organisation: orgID, kind: kind, occupations: try occupations(request, required: true)!,
            capacity: Int(
                try request.integer("capacity", in: maximumUnits) ?? { throw ProtocolError(.badArg, "capacity= is required") }()),
            from: from!, to: to!, place: try request.text("place", maxLength: 200) ?? "",
            conditions: try request.text("conditions", maxLength: 2_000) ?? "",
            quality: Int(try request.integer("quality", in: 0...50) ?? 0), details: try details(request, kind: kind, side: .offer),
            employer: employerID, note: try request.text("note", maxLength: 2_000) ?? "",
            privateNote: try request.text("private-note", maxLength: 2_000) ?? "")
        let spec = context.spec
        let changes = request.changes(["org", "kind", "employer"] + offerFields + detailFields) + (key.map { [("req", $0)] } ?? [])
        let stored = try await context.write(target: "offer", changes: changes) { db, audit in
            if let key, let earlier = try db.requests.earlier(token: token, key: key, withinHours: ClientRequests.windowHours) {
                let id = try ClientRequests.storedID(earlier, noun: "offer", key: key)
                guard let stored = try db.offers.load(id, lock: false) else { throw ProtocolError(.notFound, "no offer \(id)") }
                audit.target = earlier.target
                audit.changes.append(("replay", "yes"))
                return stored.offer
            }
            guard let organisation = try db.registry.organisation(id: orgID) else {
                throw ProtocolError(.badArg, "org: no organisation \(orgID); ORG LIST shows them")
            }
            try requireEast(scope, organisation: organisation.id, province: organisation.province, city: organisation.city, spec: spec)
            try checkOccupationsExist(offer.occupations, in: db.registry)
            var stored = try offer.madeBy(organisation, employer: try employerID.map { id in
                guard let employer = try db.registry.organisation(id: id) else {
                    throw ProtocolError(.badArg, "employer: no organisation \(id); ORG LIST shows them")
                }
                return employer
            })
            stored.id = try db.offers.insert(stored)
            audit.target = "offer:\(stored.id)"
            if let key { try ClientRequests.remember(EarlierRequest(target: audit.target, rows: 1), token: token, key: key, in: db) }
            return stored
        }
        return .record(record(stored, showPrivate: true))
    }

    static let offerShow = CommandSpec(
        "OFFER SHOW", usage: "OFFER SHOW <id>", summary: "show one offer (the other side sees open offers without private notes)"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "offer id")
        guard let owned = try await context.read({ try $0.offers.load(id, lock: false) }) else {
            throw ProtocolError(.notFound, "no offer \(id)")
        }
        let (offer, province, city) = (owned.offer, owned.province, owned.city)
        let own = scope == .everything || contains(scope, organisation: offer.organisation, province: province, city: city)
        guard own || (scope.isWest && isOpen(offer.status)) else {
            throw ProtocolError(.denied, "offer \(id) is outside this token's scope")
        }
        return .record(record(offer, showPrivate: own))
    }

    static let offerList = CommandSpec(
        "OFFER LIST",
        usage:
            "OFFER LIST [org=<id>] [province=<province>] [kind=…] [occupation=<code>] [status=open|partly_matched|filled|withdrawn] [limit=N] [after=<id>]",
        summary: "list offers, oldest first (east: its own; west: every open offer)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["org", "province", "kind", "occupation", "status", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "an offer id")
        let offers = try await visibleOffers(request, scope, context, page: page)
        return .page(
            "offers", offers.map { record($0, showPrivate: !scope.isWest) }, page: page,
            cursor: { _ in offers.last.map { "\($0.id)" } })
    }

    static let offerUpdate = CommandSpec(
        "OFFER UPDATE",
        usage:
            "OFFER UPDATE <id> [occupations=<code,…>] [capacity=<n>] [from=<date>] [to=<date>] [place=…] [conditions=…] [quality=0-50] [note=…] [private-note=…]",
        summary: "change an open offer; refused where confirmed matches depend on it", access: .east
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: Set(offerFields))
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "offer id")
        var changes = SubmissionChanges()
        changes.occupations = try occupations(request, required: false)
        changes.quantity = try request.integer("capacity", in: maximumUnits).map { Int($0) }
        (changes.from, changes.to) = try window(request, required: false)
        changes.place = try request.text("place", maxLength: 200)
        changes.conditions = try request.text("conditions", maxLength: 2_000)
        changes.quality = try request.integer("quality", in: 0...50).map { Int($0) }
        changes.note = try request.text("note", maxLength: 2_000)
        changes.privateNote = try request.text("private-note", maxLength: 2_000)
        let audited = request.changes(offerFields)
        guard !audited.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let spec = context.spec
        let updated = try await context.write(target: "offer:\(id)", changes: audited) { [changes] db, _ in
            guard let owned = try db.offers.load(id, lock: true) else { throw ProtocolError(.notFound, "no offer \(id)") }
            try requireEast(scope, organisation: owned.offer.organisation, province: owned.province, city: owned.city, spec: spec)
            let updated = try owned.offer.updated(by: changes)
            try checkOccupationsExist(changes.occupations, in: db.registry)
            try db.offers.save(updated, supersedingProposals: true)
            return updated
        }
        return .record(record(updated, showPrivate: true))
    }

    static let offerWithdraw = CommandSpec(
        "OFFER WITHDRAW", usage: "OFFER WITHDRAW <id> [reason=…]",
        summary: "withdraw an offer; refused while confirmed matches depend on it", access: .east
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["reason"])
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "offer id")
        let spec = context.spec
        let withdrawn = try await context.write(target: "offer:\(id)", changes: request.changes(["reason"])) { db, _ in
            guard let owned = try db.offers.load(id, lock: true) else { throw ProtocolError(.notFound, "no offer \(id)") }
            try requireEast(scope, organisation: owned.offer.organisation, province: owned.province, city: owned.city, spec: spec)
            let withdrawn = try owned.offer.withdrawn()
            try db.offers.save(withdrawn, supersedingProposals: true)
            return withdrawn
        }
        return .record(record(withdrawn, showPrivate: true))
    }

    static func record(_ offer: Offer, showPrivate: Bool) -> Record {
        var fields: [(String, Record.Value)] = [
            ("id", .integer(offer.id)), ("org", .integer(offer.organisation)), ("kind", .text(offer.kind.rawValue)),
            ("occupations", .text(offer.occupations.joined(separator: ","))), ("capacity", .int(offer.capacity)),
            ("matched", .int(offer.matched)), ("open", .int(offer.capacity - offer.matched)),
            ("from", .text(offer.from.description)), ("to", .text(offer.to.description)), ("place", .text(offer.place)),
            ("conditions", .text(offer.conditions)), ("quality", .int(offer.quality)),
        ] + offer.details.fields(for: offer.kind) + [
            ("employer", offer.employer.map { .integer($0) } ?? .null), ("status", .text(offer.status.rawValue)),
            ("note", .text(offer.note)),
        ]
        if showPrivate { fields.append(("private-note", .text(offer.privateNote))) }
        return Record(fields)
    }

    // MARK: Shared checks

    /// The needs a LIST or EXPORT asks for, as the scope may see them: the west side its own,
    /// the east side every open one.
    static func visibleNeeds(_ request: Request, _ scope: Scope, _ context: CommandContext, page: Page) async throws -> [Need] {
        var filter = NeedFilter()
        filter.county = try request.option("county").map(RegistryCommands.countyCode)
        let province = request.option("province")
        filter.kind = try request.choice("kind", Kind.self)
        filter.occupation = request.option("occupation")
        filter.status = try request.choice("status", NeedStatus.self)
        return try await context.read { [filter] db in
            var filter = filter
            if let province { filter.province = try CommandContext.province(province, field: "province", in: db.registry).code }
            return try db.needs.list(filter: filter, within: scope.isEast ? .everything : scope, openOnly: scope.isEast, page: page)
        }
    }

    /// The offers a LIST or EXPORT asks for: the east side its own, the west side every open one.
    static func visibleOffers(_ request: Request, _ scope: Scope, _ context: CommandContext, page: Page) async throws -> [Offer] {
        var filter = OfferFilter()
        filter.organisation = try request.integer("org", in: 1...Int64.max)
        let province = request.option("province")
        filter.kind = try request.choice("kind", Kind.self)
        filter.occupation = request.option("occupation")
        filter.status = try request.choice("status", OfferStatus.self)
        return try await context.read { [filter] db in
            var filter = filter
            if let province { filter.province = try CommandContext.province(province, field: "province", in: db.registry).code }
            return try db.offers.list(filter: filter, within: scope.isWest ? .everything : scope, openOnly: scope.isWest, page: page)
        }
    }

    /// What a need asks for beyond the occupation, as the score counts it: comma-separated
    /// condition codes, checked here (`conditions=` with nothing clears them).
    static func wantedConditions(_ request: Request) throws(ProtocolError) -> [String]? {
        try request.option("conditions").map(wantedConditions)
    }

    /// Condition codes separated by commas (or semicolons, as spreadsheets write lists), sorted.
    static func wantedConditions(_ text: String) throws(ProtocolError) -> [String] {
        let words = text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "，" || $0 == "、" })
            .map { asciiLowercased(String($0).trimmingSpaces) }.filter { !$0.isEmpty }
        var codes: Set<String> = []
        for word in words {
            guard let condition = Condition(word: word) else {
                throw ProtocolError(
                    .badArg,
                    "conditions: '\(word)' is not one of \(Condition.allCases.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", "))")
            }
            codes.insert(condition.rawValue)
        }
        return codes.sorted()
    }

    /// Occupation codes are checked for existence inside the write that uses them.
    static func checkOccupationsExist(_ codes: [String]?, in registry: any RegistryGateway) throws {
        guard let codes else { return }
        let unknown = try registry.unknownOccupations(codes)
        if !unknown.isEmpty {
            throw ProtocolError(.badArg, "occupations: unknown code \(unknown.joined(separator: ", ")); OCCUPATION LIST shows them")
        }
    }

    static func kind(_ request: Request) throws(ProtocolError) -> Kind {
        guard let kind = try request.choice("kind", Kind.self) else {
            throw ProtocolError(.badArg, "kind= is required (labor|training|enrolment|school_partnership|talent|secondment)")
        }
        return kind
    }

    /// Comma-separated classification codes, checked for shape here and for existence by the store.
    static func occupations(_ request: Request, required: Bool) throws(ProtocolError) -> [String]? {
        guard let text = request.option("occupations") else {
            if required { throw ProtocolError(.badArg, "occupations= is required (codes like 6-02-01, comma-separated)") }
            return nil
        }
        let codes = text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard !codes.isEmpty, codes.count <= 20 else { throw ProtocolError(.badArg, "occupations: give 1 to 20 codes") }
        for code in codes where Occupation.level(of: code) == nil {
            throw ProtocolError(.badArg, "occupations: '\(code)' is not a classification code like 6-02-01")
        }
        for code in codes { if let problem = Occupation.unmatchable(code) { throw ProtocolError(.badArg, "occupations: \(problem)") } }
        return Array(Set(codes)).sorted()
    }

    static func details(_ request: Request, kind: Kind, side: KindDetails.Side) throws(ProtocolError) -> KindDetails {
        try KindDetails.parse({ request.option($0) }, kind: kind, side: side)
    }

    /// How many of a need's people are in a group: a count, 0 to qty (checked against qty by the caller).
    static func people(_ request: Request, _ key: String) throws(ProtocolError) -> Int? {
        guard let value = request.option(key) else { return nil }
        guard let count = Int(wholeNumber: value), (0...Int(maximumUnits.upperBound)).contains(count) else {
            throw ProtocolError(
                .badArg, "\(key) is the number of the need's people in the group (0 to qty), not '\(value)'")
        }
        return count
    }

    static func window(_ request: Request, required: Bool) throws(ProtocolError) -> (Day?, Day?) {
        func day(_ key: String) throws(ProtocolError) -> Day? {
            guard let text = request.option(key) else {
                if required { throw ProtocolError(.badArg, "\(key)= is required (YYYY-MM-DD)") }
                return nil
            }
            guard let day = Day(text) else { throw ProtocolError(.badArg, "\(key): '\(text)' is not a date YYYY-MM-DD between 2000 and 2100") }
            return day
        }
        let from = try day("from")
        let to = try day("to")
        if let from, let to, from > to { throw ProtocolError(.badArg, "from: \(from) is after to \(to)") }
        return (from, to)
    }

    static func isOpen(_ status: NeedStatus) -> Bool { status == .open || status == .partlyMatched }
    static func isOpen(_ status: OfferStatus) -> Bool { status == .open || status == .partlyMatched }

    static func contains(_ scope: Scope, county: String) -> Bool {
        switch scope {
        case .everything: true
        case .county(let code): code == county
        case .westProvince(let province): county.hasPrefix(province)
        default: false
        }
    }

    static func contains(_ scope: Scope, organisation: Int64, province: String, city: String) -> Bool {
        switch scope {
        case .everything: true
        case .organisation(let id): id == organisation
        case .eastProvince(let code): code == province
        case .eastCity(let name): name == city
        default: false
        }
    }

    static func requireWest(_ scope: Scope, countyCode: String, spec: CommandSpec) throws(ProtocolError) {
        guard contains(scope, county: countyCode) else {
            throw ProtocolError(.denied, "\(spec.name): county \(countyCode) is outside this token's scope")
        }
    }

    static func requireEast(_ scope: Scope, organisation: Int64, province: String, city: String, spec: CommandSpec)
        throws(ProtocolError)
    {
        guard contains(scope, organisation: organisation, province: province, city: city) else {
            throw ProtocolError(.denied, "\(spec.name): organisation \(organisation) is outside this token's scope")
        }
    }
}
