import MatchCore
import MatchingEngine

/// The `need` table.
struct PGNeeds: NeedGateway {
    let connection: PGConnection

    static let columns = """
        n.id, n.county, n.kind, array_to_string(n.occupations, ','),
        n.quantity, n.matched, n.window_start::text, n.window_end::text, n.priority, n.poverty_people, n.status, n.note,
        n.private_note, array_to_string(n.conditions, ','), n.monitored_people, n.term_months, n.west_school, n.partnership,
        n.direction
        """

    static func decode(_ row: PGRow) throws -> Need {
        guard let kind = Kind(rawValue: try row.string(2)), let from = Day(try row.string(6)), let to = Day(try row.string(7)),
            let status = NeedStatus(rawValue: try row.string(10))
        else { throw PGError(sqlState: nil, message: "need \(row[0] ?? "?") has a value ewmatch cannot read") }
        return Need(
            id: try row.int64(0), county: try row.string(1), kind: kind,
            occupations: try row.string(3).split(separator: ",").map(String.init), quantity: try row.int(4),
            matched: try row.int(5), from: from, to: to, priority: try row.int(8), poverty: try row.int(9), monitored: try row.int(14),
            conditions: try row.string(13).split(separator: ",").map(String.init),
            details: KindDetails(
                termMonths: row[15].flatMap { Int($0) }, westSchool: try row.string(16),
                partnership: row[17].flatMap(Partnership.init(rawValue:)), direction: row[18].flatMap(SecondmentDirection.init(rawValue:))),
            status: status, note: try row.string(11), privateNote: try row.string(12))
    }

    func load(_ id: Int64, lock: Bool) throws -> Need? {
        try connection.query(
            "SELECT \(unsafeSQL: Self.columns) FROM need n WHERE n.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE" : "")"
        ).first.map(Self.decode)
    }

    /// One statement for a whole group: it stores each need whose actor token is valid and whose
    /// county and occupation codes exist, with its audit entry; only when some need is left out
    /// does a second query say why. The counties are read once per statement into an array: as
    /// an `EXISTS`, the generic plan scanned the county table for every need (19 µs of a
    /// 32-need group's 65 µs per need, `EXPLAIN ANALYZE`).
    func insert(_ needs: [Need], audits: [AuditEntry]) throws -> [NeedInsertOutcome] {
        let stored = try connection.query(
            """
            WITH t AS (
                SELECT * FROM unnest(
                    \(PGText.int64Array(audits.map(\.actor.tokenID)))::bigint[], \(PGText.array(needs.map(\.county)))::text[],
                    \(PGText.array(needs.map(\.kind.rawValue)))::text[],
                    \(PGText.array(needs.map { PGText.array($0.occupations) }))::text[],
                    \(PGText.array(needs.map { String($0.quantity) }))::int[], \(PGText.array(needs.map(\.from.description)))::date[],
                    \(PGText.array(needs.map(\.to.description)))::date[],
                    \(PGText.array(needs.map { String($0.priority) }))::smallint[],
                    \(PGText.array(needs.map { String($0.poverty) }))::int[], \(PGText.array(needs.map { String($0.monitored) }))::int[],
                    \(PGText.array(needs.map(\.note)))::text[], \(PGText.array(needs.map(\.privateNote)))::text[],
                    \(PGText.array(needs.map { PGText.array($0.conditions) }))::text[],
                    \(PGText.array(needs.map { $0.details.termMonths.map(String.init) ?? "" }))::text[],
                    \(PGText.array(needs.map(\.details.westSchool)))::text[],
                    \(PGText.array(needs.map { $0.details.partnership?.rawValue ?? "" }))::text[],
                    \(PGText.array(needs.map { $0.details.direction?.rawValue ?? "" }))::text[],
                    \(PGText.array(audits.map(\.actor.role.rawValue)))::text[], \(PGText.array(audits.map(\.actor.scope)))::text[],
                    \(PGText.array(audits.map(\.command)))::text[], \(PGText.array(audits.map(\.changesJSON)))::text[])
                WITH ORDINALITY AS t(token, county, kind, occupations, quantity, window_start, window_end, priority,
                                     poverty_people, monitored_people, note, private_note, conditions, term_months,
                                     west_school, partnership, direction, role, scope, command, changes, ord)
            ),
            ok AS (
                SELECT nextval('need_id_seq') AS id, t.* FROM t
                WHERE EXISTS (SELECT 1 FROM api_token a WHERE a.id = t.token AND a.revoked_at IS NULL
                                AND (a.expires_at IS NULL OR a.expires_at > now()))
                  AND t.county = ANY (ARRAY(SELECT c.code::text FROM county c))
                  AND NOT EXISTS (SELECT 1 FROM unnest(t.occupations::text[]) AS x(code)
                                  WHERE NOT EXISTS (SELECT 1 FROM occupation o WHERE o.code = x.code))
                ORDER BY ord
            ),
            stored AS (
                INSERT INTO need (id, county, kind, occupations, quantity, window_start, window_end, priority, poverty_people,
                                  monitored_people, note, private_note, conditions, term_months, west_school, partnership,
                                  direction)
                SELECT id, county, kind, occupations::text[], quantity, window_start, window_end, priority, poverty_people,
                       monitored_people, note, private_note, conditions::text[], nullif(term_months, '')::integer, west_school,
                       nullif(partnership, ''), nullif(direction, '')
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
        if ids.count < needs.count {
            return try explainRefusals(needs, audits: audits, stored: ids)
        }
        return needs.indices.map { index in
            var need = needs[index]
            need.id = ids[index]!
            return .stored(need)
        }
    }

    /// Why each need that `insert` left out was refused.
    private func explainRefusals(_ needs: [Need], audits: [AuditEntry], stored ids: [Int: Int64]) throws -> [NeedInsertOutcome] {
        let validTokens = Set(
            try connection.query(
                """
                SELECT id FROM api_token WHERE id = ANY(\(PGText.int64Array(audits.map(\.actor.tokenID)))::bigint[])
                  AND \(unsafeSQL: PGTokens.valid)
                """
            ).rows.map { try $0.int64(0) })
        let counties = Set(
            try connection.query("SELECT code FROM county WHERE code = ANY(\(PGText.array(needs.map(\.county)))::text[])")
                .rows.map { try $0.string(0) })
        let codes = Set(
            try connection.query(
                "SELECT code FROM occupation WHERE code = ANY(\(PGText.array(needs.flatMap(\.occupations)))::text[])"
            ).rows.map { try $0.string(0) })
        return needs.enumerated().map { index, need in
            if let id = ids[index] {
                var stored = need
                stored.id = id
                return .stored(stored)
            }
            if !validTokens.contains(audits[index].actor.tokenID) { return .tokenRevoked }
            if !counties.contains(need.county) { return .unknownCounty }
            return .unknownOccupation(need.occupations.first { !codes.contains($0) } ?? need.occupations.joined(separator: ","))
        }
    }

    func list(filter: NeedFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Need] {
        let afterID = page.after.flatMap { Int64($0) }
        let (scopeCounty, scopeProvince): (String?, String?) =
            switch scope {
            case .county(let code): (code, nil)
            case .westProvince(let code): (nil, code)
            default: (nil, nil)
            }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.columns) FROM need n
            WHERE (\(filter.county)::text IS NULL OR n.county = \(filter.county))
              AND (\(filter.province)::text IS NULL OR left(n.county, 2) = \(filter.province))
              AND (\(scopeCounty)::text IS NULL OR n.county = \(scopeCounty))
              AND (\(scopeProvince)::text IS NULL OR left(n.county, 2) = \(scopeProvince))
              AND (\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
              AND (\(filter.status?.rawValue)::text IS NULL OR n.status = \(filter.status?.rawValue))
              AND (NOT \(openOnly) OR n.status IN ('open', 'partly_matched'))
              AND (\(filter.occupation)::text IS NULL OR EXISTS (
                    SELECT 1 FROM unnest(n.occupations) AS o(code)
                    WHERE o.code = \(filter.occupation) OR o.code LIKE \(filter.occupation.map(PGText.likeLiteral)) || '-%'))
              AND (\(afterID)::bigint IS NULL OR n.id > \(afterID))
            ORDER BY n.id LIMIT \(page.limit)
            """
        ).rows.map(Self.decode)
    }

    func save(_ need: Need, supersedingProposals: Bool) throws {
        try connection.query(
            """
            WITH superseded AS (
                UPDATE match SET status = 'superseded', updated_at = now()
                WHERE \(supersedingProposals) AND need = \(need.id) AND status = 'proposed'
            )
            UPDATE need SET quantity = \(need.quantity), matched = \(need.matched),
                occupations = \(PGText.array(need.occupations))::text[], window_start = \(need.from.description)::date,
                window_end = \(need.to.description)::date, priority = \(need.priority), poverty_people = \(need.poverty),
                monitored_people = \(need.monitored),
                conditions = \(PGText.array(need.conditions))::text[],
                status = \(need.status.rawValue), note = \(need.note), private_note = \(need.privateNote), updated_at = now()
            WHERE id = \(need.id)
            """)
    }

    func add(_ need: Need) throws -> Int64 {
        guard
            let row = try connection.query(
                """
                INSERT INTO need (county, kind, occupations, quantity, window_start, window_end, priority, poverty_people,
                                  monitored_people, note, private_note, conditions, term_months, west_school, partnership,
                                  direction)
                VALUES (\(need.county), \(need.kind.rawValue), \(PGText.array(need.occupations))::text[], \(need.quantity),
                        \(need.from.description)::date, \(need.to.description)::date, \(need.priority), \(need.poverty), \(need.monitored),
                        \(need.note), \(need.privateNote), \(PGText.array(need.conditions))::text[], \(need.details.termMonths),
                        \(need.details.westSchool), \(need.details.partnership?.rawValue), \(need.details.direction?.rawValue))
                RETURNING id
                """
            ).first
        else { throw PGError(sqlState: nil, message: "INSERT … RETURNING gave no row") }
        return try row.int64(0)
    }

    func beginImport() throws {
        try connection.copyStart(
            """
            COPY need (county, kind, occupations, quantity, window_start, window_end, priority, poverty_people, monitored_people, note,
                       private_note, term_months, west_school, partnership, direction) FROM STDIN
            """
        )
    }

    func importRows(_ needs: [Need]) throws {
        var rows: [UInt8] = []
        rows.reserveCapacity(needs.count * 96)
        for need in needs {
            PGText.appendCopyRow(
                [
                    need.county, need.kind.rawValue, PGText.array(need.occupations), String(need.quantity), need.from.description,
                    need.to.description, String(need.priority), String(need.poverty), String(need.monitored), need.note,
                    need.privateNote, need.details.termMonths.map(String.init), need.details.westSchool,
                    need.details.partnership?.rawValue, need.details.direction?.rawValue,
                ], to: &rows)
        }
        try connection.copyPut(rows)
    }

    func endImport() throws -> Int { try connection.copyEnd() }

    func abortImport(reason: String) { connection.copyAbort(reason) }
}

/// The `offer` table, read with its organisation's province and city.
struct PGOffers: OfferGateway {
    let connection: PGConnection

    static let columns = """
        o.id, o.organisation, o.kind, array_to_string(o.occupations, ','),
        o.capacity, o.matched, o.window_start::text, o.window_end::text, o.place, o.conditions, o.status, o.note,
        o.private_note, g.province, g.city, o.quality, o.term_months, o.partnership, o.direction, o.employer
        """

    static func decode(_ row: PGRow) throws -> Offer {
        guard let kind = Kind(rawValue: try row.string(2)), let from = Day(try row.string(6)), let to = Day(try row.string(7)),
            let status = OfferStatus(rawValue: try row.string(10))
        else { throw PGError(sqlState: nil, message: "offer \(row[0] ?? "?") has a value ewmatch cannot read") }
        return Offer(
            id: try row.int64(0), organisation: try row.int64(1), kind: kind,
            occupations: try row.string(3).split(separator: ",").map(String.init), capacity: try row.int(4),
            matched: try row.int(5), from: from, to: to, place: try row.string(8), conditions: try row.string(9),
            quality: try row.int(15),
            details: KindDetails(
                termMonths: row[16].flatMap { Int($0) }, partnership: row[17].flatMap(Partnership.init(rawValue:)),
                direction: row[18].flatMap(SecondmentDirection.init(rawValue:))),
            employer: row[19].flatMap { Int64($0) }, status: status, note: try row.string(11), privateNote: try row.string(12))
    }

    func load(_ id: Int64, lock: Bool) throws -> OwnedOffer? {
        try connection.query(
            """
            SELECT \(unsafeSQL: Self.columns) FROM offer o JOIN organisation g ON g.id = o.organisation
            WHERE o.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE OF o" : "")
            """
        ).first.map { OwnedOffer(offer: try Self.decode($0), province: try $0.string(13), city: try $0.string(14)) }
    }

    func insert(_ offer: Offer) throws -> Int64 {
        guard
            let row = try connection.query(
                """
                INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end, place, conditions, note,
                                   private_note, quality, term_months, partnership, direction, employer)
                VALUES (\(offer.organisation), \(offer.kind.rawValue), \(PGText.array(offer.occupations))::text[],
                        \(offer.capacity), \(offer.from.description)::date,
                        \(offer.to.description)::date, \(offer.place), \(offer.conditions), \(offer.note), \(offer.privateNote),
                        \(offer.quality), \(offer.details.termMonths), \(offer.details.partnership?.rawValue),
                        \(offer.details.direction?.rawValue), \(offer.employer))
                RETURNING id
                """
            ).first
        else { throw PGError(sqlState: nil, message: "INSERT … RETURNING gave no row") }
        return try row.int64(0)
    }

    func list(filter: OfferFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Offer] {
        let afterID = page.after.flatMap { Int64($0) }
        let (scopeOrganisation, scopeProvince, scopeCity): (Int64?, String?, String?) =
            switch scope {
            case .organisation(let id): (id, nil, nil)
            case .eastProvince(let code): (nil, code, nil)
            case .eastCity(let name): (nil, nil, name)
            default: (nil, nil, nil)
            }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.columns) FROM offer o JOIN organisation g ON g.id = o.organisation
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
                    WHERE x.code = \(filter.occupation) OR x.code LIKE \(filter.occupation.map(PGText.likeLiteral)) || '-%'))
              AND (\(afterID)::bigint IS NULL OR o.id > \(afterID))
            ORDER BY o.id LIMIT \(page.limit)
            """
        ).rows.map(Self.decode)
    }

    func save(_ offer: Offer, supersedingProposals: Bool) throws {
        try connection.query(
            """
            WITH superseded AS (
                UPDATE match SET status = 'superseded', updated_at = now()
                WHERE \(supersedingProposals) AND offer = \(offer.id) AND status = 'proposed'
            )
            UPDATE offer SET capacity = \(offer.capacity), matched = \(offer.matched),
                occupations = \(PGText.array(offer.occupations))::text[], window_start = \(offer.from.description)::date,
                window_end = \(offer.to.description)::date, place = \(offer.place), conditions = \(offer.conditions),
                quality = \(offer.quality),
                status = \(offer.status.rawValue), note = \(offer.note), private_note = \(offer.privateNote), updated_at = now()
            WHERE id = \(offer.id)
            """)
    }

    func beginImport() throws {
        try connection.copyStart(
            """
            COPY offer (organisation, kind, occupations, capacity, window_start, window_end, place, conditions, note, private_note,
                        quality, term_months, partnership, direction, employer) FROM STDIN
            """
        )
    }

    func importRows(_ offers: [Offer]) throws {
        var rows: [UInt8] = []
        rows.reserveCapacity(offers.count * 96)
        for offer in offers {
            PGText.appendCopyRow(
                [
                    String(offer.organisation), offer.kind.rawValue, PGText.array(offer.occupations), String(offer.capacity),
                    offer.from.description, offer.to.description, offer.place, offer.conditions, offer.note, offer.privateNote,
                    String(offer.quality), offer.details.termMonths.map(String.init), offer.details.partnership?.rawValue,
                    offer.details.direction?.rawValue, offer.employer.map(String.init),
                ], to: &rows)
        }
        try connection.copyPut(rows)
    }

    func endImport() throws -> Int { try connection.copyEnd() }

    func abortImport(reason: String) { connection.copyAbort(reason) }
}
