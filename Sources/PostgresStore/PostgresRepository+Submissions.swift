import MatchCore
import MatchingEngine

extension PostgresRepository {
    // MARK: Needs

    static let needColumns = """
        n.id, n.county, n.kind, array_to_string(n.occupations, ','),
        n.quantity, n.matched, n.window_start::text, n.window_end::text, n.priority, n.poverty_focus, n.status, n.note,
        n.private_note
        """

    static func need(_ row: PGRow) throws -> Need {
        guard let kind = Kind(rawValue: try row.string(2)), let from = Day(try row.string(6)), let to = Day(try row.string(7)),
            let status = NeedStatus(rawValue: try row.string(10))
        else { throw PGError(sqlState: nil, message: "need \(row[0] ?? "?") has a value ewmatch cannot read") }
        return Need(
            id: try row.int64(0), county: try row.string(1), kind: kind,
            occupations: try row.string(3).split(separator: ",").map(String.init), quantity: try row.int(4),
            matched: try row.int(5), from: from, to: to, priority: try row.int(8), povertyFocus: try row.bool(9),
            status: status, note: try row.string(11), privateNote: try row.string(12))
    }

    public func addNeed(_ need: Need, audit: AuditEntry) async throws -> Need {
        let submission = NeedSubmission(need: need, audit: audit)
        guard let needWriter else {
            return try await write { connection in try Self.insertNeeds([submission], on: connection)[0].get() }
        }
        return try await Self.translatingErrors { try await needWriter.submit(submission) }
    }

    /// Inserts a group of needs with one statement — its own transaction unless the caller has
    /// one open. The statement stores each item whose actor token is valid and whose county and
    /// occupation codes exist; only when some item is left out does a second query say why.
    static func insertNeeds(_ submissions: [NeedSubmission], on connection: PGConnection) throws -> [Result<Need, any Error>] {
        let needs = submissions.map(\.need)
        let audits = submissions.map(\.audit)
        let stored = try connection.query(
            """
            WITH t AS (
                SELECT * FROM unnest(
                    \(int64Array(audits.map(\.actor.tokenID)))::bigint[], \(textArray(needs.map(\.county)))::text[],
                    \(textArray(needs.map(\.kind.rawValue)))::text[], \(textArray(needs.map { textArray($0.occupations) }))::text[],
                    \(textArray(needs.map { String($0.quantity) }))::int[], \(textArray(needs.map(\.from.description)))::date[],
                    \(textArray(needs.map(\.to.description)))::date[], \(textArray(needs.map { String($0.priority) }))::smallint[],
                    \(textArray(needs.map { $0.povertyFocus ? "t" : "f" }))::boolean[], \(textArray(needs.map(\.note)))::text[],
                    \(textArray(needs.map(\.privateNote)))::text[], \(textArray(audits.map(\.actor.role.rawValue)))::text[],
                    \(textArray(audits.map(\.actor.scope)))::text[], \(textArray(audits.map(\.command)))::text[],
                    \(textArray(audits.map(\.changesJSON)))::text[])
                WITH ORDINALITY AS t(token, county, kind, occupations, quantity, window_start, window_end, priority,
                                     poverty_focus, note, private_note, role, scope, command, changes, ord)
            ),
            ok AS (
                SELECT nextval('need_id_seq') AS id, t.* FROM t
                WHERE EXISTS (SELECT 1 FROM api_token a WHERE a.id = t.token AND a.revoked_at IS NULL
                                AND (a.expires_at IS NULL OR a.expires_at > now()))
                  AND EXISTS (SELECT 1 FROM county c WHERE c.code = t.county)
                  AND NOT EXISTS (SELECT 1 FROM unnest(t.occupations::text[]) AS x(code)
                                  WHERE NOT EXISTS (SELECT 1 FROM occupation o WHERE o.code = x.code))
                ORDER BY ord
            ),
            stored AS (
                INSERT INTO need (id, county, kind, occupations, quantity, window_start, window_end, priority, poverty_focus,
                                  note, private_note)
                SELECT id, county, kind, occupations::text[], quantity, window_start, window_end, priority, poverty_focus, note,
                       private_note
                FROM ok
            ),
            audited AS (
                INSERT INTO audit_log (token_id, role, scope, command, target, changes)
                SELECT token, role, scope, command, 'need:' || id, changes::jsonb FROM ok
            )
            SELECT ord, id FROM ok
            """
        )
        var ids: [Int: Int64] = [:]
        for row in stored.rows { ids[try row.int(0) - 1] = try row.int64(1) }
        if ids.count < submissions.count {
            return try explainRefusals(submissions, stored: ids, on: connection)
        }
        return submissions.indices.map { index in
            var need = needs[index]
            need.id = ids[index]!
            return .success(need)
        }
    }

    /// Why each item that `insertNeeds` left out was refused.
    private static func explainRefusals(_ submissions: [NeedSubmission], stored ids: [Int: Int64], on connection: PGConnection)
        throws -> [Result<Need, any Error>]
    {
        let validTokens = Set(
            try connection.query(
                """
                SELECT id FROM api_token WHERE id = ANY(\(int64Array(submissions.map(\.audit.actor.tokenID)))::bigint[])
                  AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                """
            ).rows.map { try $0.int64(0) })
        let counties = Set(
            try connection.query("SELECT code FROM county WHERE code = ANY(\(textArray(submissions.map(\.need.county)))::text[])")
                .rows.map { try $0.string(0) })
        let codes = Set(
            try connection.query(
                "SELECT code FROM occupation WHERE code = ANY(\(textArray(submissions.flatMap(\.need.occupations)))::text[])"
            ).rows.map { try $0.string(0) })
        return submissions.enumerated().map { index, submission in
            let need = submission.need
            if let id = ids[index] {
                var stored = need
                stored.id = id
                return .success(stored)
            }
            if !validTokens.contains(submission.audit.actor.tokenID) { return .failure(RepositoryError.tokenRevoked) }
            if !counties.contains(need.county) {
                return .failure(RepositoryError.invalid(field: "county", message: "no county \(need.county); COUNTY LIST shows them"))
            }
            let unknown = need.occupations.first { !codes.contains($0) } ?? need.occupations.joined(separator: ",")
            return .failure(RepositoryError.invalid(field: "occupations", message: "unknown code \(unknown); OCCUPATION LIST shows them"))
        }
    }

    public func need(id: Int64) async throws -> Need? {
        try await read { connection in try Self.loadNeed(id, on: connection) }
    }

    static func loadNeed(_ id: Int64, on connection: PGConnection, lock: Bool = false) throws -> Need? {
        try connection.query(
            "SELECT \(unsafeSQL: needColumns) FROM need n WHERE n.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE" : "")"
        ).first.map(need)
    }

    public func needs(filter: NeedFilter, within scope: Scope, openOnly: Bool, page: Page) async throws -> [Need] {
        let afterID = page.after.flatMap { Int64($0) }
        let (scopeCounty, scopeProvince): (String?, String?) =
            switch scope {
            case .county(let code): (code, nil)
            case .westProvince(let code): (nil, code)
            default: (nil, nil)
            }
        return try await read { connection in
            try connection.query(
                """
                SELECT \(unsafeSQL: Self.needColumns) FROM need n
                WHERE (\(filter.county)::text IS NULL OR n.county = \(filter.county))
                  AND (\(filter.province)::text IS NULL OR left(n.county, 2) = \(filter.province))
                  AND (\(scopeCounty)::text IS NULL OR n.county = \(scopeCounty))
                  AND (\(scopeProvince)::text IS NULL OR left(n.county, 2) = \(scopeProvince))
                  AND (\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
                  AND (\(filter.status?.rawValue)::text IS NULL OR n.status = \(filter.status?.rawValue))
                  AND (NOT \(openOnly) OR n.status IN ('open', 'partly_matched'))
                  AND (\(filter.occupation)::text IS NULL OR EXISTS (
                        SELECT 1 FROM unnest(n.occupations) AS o(code)
                        WHERE o.code = \(filter.occupation) OR o.code LIKE \(filter.occupation) || '-%'))
                  AND (\(afterID)::bigint IS NULL OR n.id > \(afterID))
                ORDER BY n.id LIMIT \(page.limit)
                """
            ).rows.map(Self.need)
        }
    }

    public func updateNeed(id: Int64, changes: SubmissionChanges, audit: AuditEntry) async throws -> Need {
        try await write { connection in
            guard let need = try Self.loadNeed(id, on: connection, lock: true) else {
                throw RepositoryError.notFound("no need \(id)")
            }
            guard need.status != .cancelled else {
                throw RepositoryError.conflict("need \(id) is cancelled and can no longer change")
            }
            try Self.checkChange(
                matched: need.matched, quantity: changes.quantity, unit: "qty", reshapes: changes.reshapes, what: "need \(id)")
            if let occupations = changes.occupations { try Self.checkOccupations(occupations, on: connection) }
            try connection.query(
                """
                UPDATE need SET quantity = coalesce(\(changes.quantity), quantity),
                    occupations = coalesce(\(changes.occupations.map(Self.textArray))::text[], occupations),
                    window_start = coalesce(\(changes.from?.description)::date, window_start),
                    window_end = coalesce(\(changes.to?.description)::date, window_end),
                    priority = coalesce(\(changes.priority), priority),
                    poverty_focus = coalesce(\(changes.povertyFocus), poverty_focus),
                    note = coalesce(\(changes.note), note), private_note = coalesce(\(changes.privateNote), private_note),
                    updated_at = now()
                WHERE id = \(id)
                """)
            try connection.query(
                """
                UPDATE need SET status = CASE WHEN matched = 0 THEN 'open' WHEN matched < quantity THEN 'partly_matched'
                                              ELSE 'filled' END
                WHERE id = \(id)
                """)
            try Self.supersedeProposals(column: "need", id: id, on: connection)
            try Self.insertAudit(audit, on: connection)
            return try Self.loadNeed(id, on: connection)!
        }
    }

    public func cancelNeed(id: Int64, audit: AuditEntry) async throws -> Need {
        try await write { connection in
            guard let need = try Self.loadNeed(id, on: connection, lock: true) else {
                throw RepositoryError.notFound("no need \(id)")
            }
            guard need.status != .cancelled else { throw RepositoryError.conflict("need \(id) is already cancelled") }
            guard need.matched == 0 else {
                throw RepositoryError.conflict(
                    "need \(id) has \(need.matched) confirmed units; cancel those matches first (MATCH CANCEL)")
            }
            try connection.query("UPDATE need SET status = 'cancelled', updated_at = now() WHERE id = \(id)")
            try Self.supersedeProposals(column: "need", id: id, on: connection)
            try Self.insertAudit(audit, on: connection)
            return try Self.loadNeed(id, on: connection)!
        }
    }

    // MARK: Offers

    static let offerColumns = """
        o.id, o.organisation, o.kind, array_to_string(o.occupations, ','),
        o.capacity, o.matched, o.window_start::text, o.window_end::text, o.place, o.conditions, o.status, o.note,
        o.private_note, g.province, g.city
        """

    static func offer(_ row: PGRow) throws -> Offer {
        guard let kind = Kind(rawValue: try row.string(2)), let from = Day(try row.string(6)), let to = Day(try row.string(7)),
            let status = OfferStatus(rawValue: try row.string(10))
        else { throw PGError(sqlState: nil, message: "offer \(row[0] ?? "?") has a value ewmatch cannot read") }
        return Offer(
            id: try row.int64(0), organisation: try row.int64(1), kind: kind,
            occupations: try row.string(3).split(separator: ",").map(String.init), capacity: try row.int(4),
            matched: try row.int(5), from: from, to: to, place: try row.string(8), conditions: try row.string(9),
            status: status, note: try row.string(11), privateNote: try row.string(12))
    }

    static func loadOffer(_ id: Int64, on connection: PGConnection, lock: Bool = false) throws -> (Offer, String, String)? {
        try connection.query(
            """
            SELECT \(unsafeSQL: offerColumns) FROM offer o JOIN organisation g ON g.id = o.organisation
            WHERE o.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE OF o" : "")
            """
        ).first.map { (try offer($0), try $0.string(13), try $0.string(14)) }
    }

    public func addOffer(_ offer: Offer, audit: AuditEntry) async throws -> Offer {
        try await write { connection in
            try Self.checkOccupations(offer.occupations, on: connection)
            let id = try connection.query(
                """
                INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end, place, conditions, note,
                                   private_note)
                VALUES (\(offer.organisation), \(offer.kind.rawValue), \(Self.textArray(offer.occupations))::text[],
                        \(offer.capacity), \(offer.from.description)::date,
                        \(offer.to.description)::date, \(offer.place), \(offer.conditions), \(offer.note), \(offer.privateNote))
                RETURNING id
                """
            ).first!.int64(0)
            var entry = audit
            entry.target = "offer:\(id)"
            try Self.insertAudit(entry, on: connection)
            return try Self.loadOffer(id, on: connection)!.0
        }
    }

    public func offer(id: Int64) async throws -> (offer: Offer, province: String, city: String)? {
        try await read { connection in try Self.loadOffer(id, on: connection) }
    }

    public func offers(filter: OfferFilter, within scope: Scope, openOnly: Bool, page: Page) async throws -> [Offer] {
        let afterID = page.after.flatMap { Int64($0) }
        let (scopeOrganisation, scopeProvince, scopeCity): (Int64?, String?, String?) =
            switch scope {
            case .organisation(let id): (id, nil, nil)
            case .eastProvince(let code): (nil, code, nil)
            case .eastCity(let name): (nil, nil, name)
            default: (nil, nil, nil)
            }
        return try await read { connection in
            try connection.query(
                """
                SELECT \(unsafeSQL: Self.offerColumns) FROM offer o JOIN organisation g ON g.id = o.organisation
                WHERE (\(filter.organisation)::bigint IS NULL OR o.organisation = \(filter.organisation))
                  AND (\(filter.province)::text IS NULL OR g.province = \(filter.province))
                  AND (\(scopeOrganisation)::bigint IS NULL OR o.organisation = \(scopeOrganisation))
                  AND (\(scopeProvince)::text IS NULL OR g.province = \(scopeProvince))
                  AND (\(scopeCity)::text IS NULL OR g.city = \(scopeCity))
                  AND (\(filter.kind?.rawValue)::text IS NULL OR o.kind = \(filter.kind?.rawValue))
                  AND (\(filter.status?.rawValue)::text IS NULL OR o.status = \(filter.status?.rawValue))
                  AND (NOT \(openOnly) OR o.status IN ('open', 'partly_matched'))
                  AND (\(filter.occupation)::text IS NULL OR EXISTS (
                        SELECT 1 FROM unnest(o.occupations) AS x(code)
                        WHERE x.code = \(filter.occupation) OR x.code LIKE \(filter.occupation) || '-%'))
                  AND (\(afterID)::bigint IS NULL OR o.id > \(afterID))
                ORDER BY o.id LIMIT \(page.limit)
                """
            ).rows.map(Self.offer)
        }
    }

    public func updateOffer(id: Int64, changes: SubmissionChanges, audit: AuditEntry) async throws -> Offer {
        try await write { connection in
            guard let (offer, _, _) = try Self.loadOffer(id, on: connection, lock: true) else {
                throw RepositoryError.notFound("no offer \(id)")
            }
            guard offer.status != .withdrawn else {
                throw RepositoryError.conflict("offer \(id) is withdrawn and can no longer change")
            }
            try Self.checkChange(
                matched: offer.matched, quantity: changes.quantity, unit: "capacity", reshapes: changes.reshapes,
                what: "offer \(id)")
            if let occupations = changes.occupations { try Self.checkOccupations(occupations, on: connection) }
            try connection.query(
                """
                UPDATE offer SET capacity = coalesce(\(changes.quantity), capacity),
                    occupations = coalesce(\(changes.occupations.map(Self.textArray))::text[], occupations),
                    window_start = coalesce(\(changes.from?.description)::date, window_start),
                    window_end = coalesce(\(changes.to?.description)::date, window_end),
                    place = coalesce(\(changes.place), place), conditions = coalesce(\(changes.conditions), conditions),
                    note = coalesce(\(changes.note), note), private_note = coalesce(\(changes.privateNote), private_note),
                    updated_at = now()
                WHERE id = \(id)
                """)
            try connection.query(
                """
                UPDATE offer SET status = CASE WHEN matched = 0 THEN 'open' WHEN matched < capacity THEN 'partly_matched'
                                               ELSE 'filled' END
                WHERE id = \(id)
                """)
            try Self.supersedeProposals(column: "offer", id: id, on: connection)
            try Self.insertAudit(audit, on: connection)
            return try Self.loadOffer(id, on: connection)!.0
        }
    }

    public func withdrawOffer(id: Int64, audit: AuditEntry) async throws -> Offer {
        try await write { connection in
            guard let (offer, _, _) = try Self.loadOffer(id, on: connection, lock: true) else {
                throw RepositoryError.notFound("no offer \(id)")
            }
            guard offer.status != .withdrawn else { throw RepositoryError.conflict("offer \(id) is already withdrawn") }
            guard offer.matched == 0 else {
                throw RepositoryError.conflict(
                    "offer \(id) has \(offer.matched) confirmed units; cancel those matches first (MATCH CANCEL)")
            }
            try connection.query("UPDATE offer SET status = 'withdrawn', updated_at = now() WHERE id = \(id)")
            try Self.supersedeProposals(column: "offer", id: id, on: connection)
            try Self.insertAudit(audit, on: connection)
            return try Self.loadOffer(id, on: connection)!.0
        }
    }

    // MARK: Shared

    /// Confirmed units pin what they were confirmed for: the occupations and the window stay, and
    /// the quantity may not drop below them.
    static func checkChange(matched: Int, quantity: Int?, unit: String, reshapes: Bool, what: String) throws {
        if let quantity, quantity < matched {
            throw RepositoryError.conflict("\(what): \(unit) \(quantity) is below its \(matched) confirmed units")
        }
        if matched > 0 && reshapes {
            throw RepositoryError.conflict(
                "\(what) has \(matched) confirmed units; its occupations and window can no longer change")
        }
    }

    static func checkOccupations(_ codes: [String], on connection: PGConnection) throws {
        let unknown = try connection.query(
            """
            SELECT code FROM unnest(\(textArray(codes))::text[]) AS given(code)
            WHERE NOT EXISTS (SELECT 1 FROM occupation o WHERE o.code = given.code) ORDER BY code
            """
        ).rows.compactMap { $0[0] }
        if !unknown.isEmpty {
            throw RepositoryError.invalid(
                field: "occupations", message: "unknown code \(unknown.joined(separator: ", ")); OCCUPATION LIST shows them")
        }
    }

    /// A change to a need or offer voids its unanswered proposals: they were made for other terms.
    static func supersedeProposals(column: String, id: Int64, on connection: PGConnection) throws {
        try connection.query(
            "UPDATE match SET status = 'superseded', updated_at = now() WHERE \(unsafeSQL: column) = \(id) AND status = 'proposed'")
    }

    /// A PostgreSQL array literal, every element quoted and escaped, sent as one bind parameter.
    static func textArray(_ values: [String]) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value {
                if character == "\"" || character == "\\" { literal.append("\\") }
                literal.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }

    static func int64Array(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}

/// A NEED ADD waiting for its group's commit.
struct NeedSubmission: Sendable {
    var need: Need
    var audit: AuditEntry
}

extension SubmissionChanges {
    /// Whether the change alters what confirmed matches were made for.
    var reshapes: Bool { occupations != nil || from != nil || to != nil }
}
