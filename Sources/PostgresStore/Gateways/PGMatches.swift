import CommandProtocol
import Foundation
import MatchCore
import MatchingEngine

/// Matching runs, their proposals and the answers to them.
struct PGMatches: MatchGateway {
    let connection: PGConnection

    /// The advisory lock that lets one run commit at a time ("ewmr").
    static let runLockKey: Int64 = 0x6577_6D72

    func tryLockRuns() throws -> Bool {
        try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.runLockKey))").first?[0] == "t"
    }

    func runInput(_ filter: RunFilter, needID: Int64?) throws -> RunInput {
        try Self.loadInput(filter, needID: needID, on: connection)
    }

    func addFigures(run: Int64, _ figures: [(String, String)]) throws {
        try connection.query("UPDATE match_run SET figures = figures || \(PGText.jsonObject(figures))::jsonb WHERE id = \(run)")
    }

    func storeRun(_ run: RunRecord, proposals: [Proposal], filter: RunFilter, startedBy: Int64) throws -> Int64 {
        guard
            let row = try connection.query(
                """
                INSERT INTO match_run (mode, parameters, weights, input_hash, figures, started_by)
                VALUES (\(run.mode), \(PGText.jsonObject(run.parameters))::jsonb, \(Self.weightsJSON(run.weights))::jsonb,
                        \(run.fingerprint), \(PGText.jsonObject(run.figures))::jsonb, \(startedBy))
                RETURNING id
                """
            ).first
        else { throw PGError(sqlState: nil, message: "INSERT … RETURNING gave no row") }
        let id = try row.int64(0)
        // Unanswered proposals of earlier runs for the needs this run considered; one that a side
        // has accepted waits for the other side (the run left that pair out).
        try connection.query(
            """
            UPDATE match m SET status = 'superseded', updated_at = now()
            FROM need n
            WHERE m.need = n.id AND m.status = 'proposed' AND m.run <> \(id)
              AND m.west_answer IS NULL AND m.east_answer IS NULL
              AND (\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
              AND (\(filter.province)::text IS NULL OR left(n.county, 2) = \(filter.province))
              AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))
            """)
        try connection.copyStart("COPY match (run, need, offer, units, score, explanation) FROM STDIN")
        var chunk: [UInt8] = []
        chunk.reserveCapacity(300_000)
        do {
            for proposal in proposals {
                PGText.appendCopyRow(
                    ["\(id)", "\(proposal.need)", "\(proposal.offer)", "\(proposal.units)", "\(proposal.score)", proposal.explanation],
                    to: &chunk)
                if chunk.count > 256 * 1024 {
                    try connection.copyPut(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try connection.copyPut(chunk) }
        } catch {
            connection.copyAbort("storing the run failed")
            throw error
        }
        try connection.copyEnd()
        return id
    }

    /// Weights as a JSON object of numbers, named as the engine names them.
    static func weightsJSON(_ weights: ScoreWeights) -> String {
        Record.Value.object(weights.named.map { ($0.0, .integer($0.1)) }).json
    }

    /// Open needs (all in the filter, or just `needID`) and open offers as engine records, with
    /// the pairings and declined pairs. Windows become days since 2000-01-01, half-open.
    /// Units that proposals which outlive this run still promise are not offered again: a proposal
    /// one side has accepted waits for the other, and the unanswered proposals of needs outside
    /// the run's filter are not superseded by it. (Those of needs inside it are.)
    static func loadInput(_ filter: RunFilter, needID: Int64?, on connection: PGConnection) throws -> RunInput {
        let needs = try connection.query(
            """
            SELECT n.id, n.county, c.province, n.kind, array_to_string(n.occupations, ','),
                   n.quantity - n.matched - coalesce(held.units, 0),
                   n.window_start - date '2000-01-01', n.window_end - date '2000-01-01' + 1, n.priority, n.poverty_focus,
                   array_to_string(n.conditions, ','), c.is_key, \(unsafeSQL: Self.needVariant)
            FROM need n JOIN county c ON c.code = n.county
            LEFT JOIN LATERAL (
                SELECT sum(m.units) AS units FROM match m
                WHERE m.need = n.id AND m.status = 'proposed' AND (m.west_answer IS NOT NULL OR m.east_answer IS NOT NULL)
            ) held ON true
            WHERE n.status IN ('open', 'partly_matched') AND n.quantity - n.matched - coalesce(held.units, 0) > 0
              AND (\(needID)::bigint IS NULL OR n.id = \(needID))
              AND (\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
              AND (\(filter.province)::text IS NULL OR c.province = \(filter.province))
              AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))
            """
        ).rows.map { row in
            NeedRecord(
                id: try row.int64(0), county: try row.string(1), province: try row.string(2), kind: try kind(row, 3),
                occupations: try codes(row, 4), quantity: try row.int64(5),
                window: TimeWindow(start: try row.int(6), end: try row.int(7)), priority: try row.int(8),
                povertyAlleviated: try row.bool(9), keyCounty: try row.bool(11), wantedConditions: conditions(try row.string(10)),
                variant: variant(try row.string(12)))
        }
        let offers = try connection.query(
            """
            SELECT o.id, g.province, g.city, o.kind, array_to_string(o.occupations, ','),
                   o.capacity - o.matched - coalesce(held.units, 0),
                   o.window_start - date '2000-01-01', o.window_end - date '2000-01-01' + 1, o.conditions,
                   \(unsafeSQL: Self.offerQuality), \(unsafeSQL: Self.offerVariant), g.employment_base
            FROM offer o JOIN organisation g ON g.id = o.organisation
            LEFT JOIN LATERAL (
                SELECT sum(m.units) AS units FROM match m JOIN need n ON n.id = m.need
                WHERE m.offer = o.id AND m.status = 'proposed'
                  AND (m.west_answer IS NOT NULL OR m.east_answer IS NOT NULL
                       OR NOT ((\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
                               AND (\(filter.province)::text IS NULL OR left(n.county, 2) = \(filter.province))
                               AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))))
            ) held ON true
            WHERE o.status IN ('open', 'partly_matched') AND o.capacity - o.matched - coalesce(held.units, 0) > 0
              AND (\(filter.kind?.rawValue)::text IS NULL OR o.kind = \(filter.kind?.rawValue))
            """
        ).rows.map { row in
            OfferRecord(
                id: try row.int64(0), province: try row.string(1), city: try row.string(2), kind: try kind(row, 3),
                occupations: try codes(row, 4), capacity: try row.int64(5),
                window: TimeWindow(start: try row.int(6), end: try row.int(7)), quality: try row.int(9),
                conditions: conditions(try row.string(8)), variant: variant(try row.string(10)), employmentBase: try row.bool(11))
        }
        let pairings = try PGReports.loadPairings(on: connection)
        // Declined pairs never return; pairs waiting for the second side's answer are not proposed twice.
        let declined = Set(
            try connection.query(
                """
                SELECT need, offer FROM declined_pair
                UNION SELECT need, offer FROM match
                WHERE status = 'proposed' AND (west_answer IS NOT NULL OR east_answer IS NOT NULL)
                """
            ).rows.map { PairID(need: try $0.int64(0), offer: try $0.int64(1)) })
        return RunInput(
            needs: needs, offers: offers, pairings: pairings, declined: declined,
            continued: try continued(needs: needs, offers: offers, on: connection))
    }

    static func kind(_ row: PGRow, _ index: Int) throws -> Kind {
        guard let kind = Kind(rawValue: try row.string(index)) else {
            throw PGError(sqlState: nil, message: "unknown kind \(row[index] ?? "NULL")")
        }
        return kind
    }

    static func codes(_ row: PGRow, _ index: Int) throws -> [OccupationCode] {
        try row.string(index).split(separator: ",").compactMap { OccupationCode(String($0)) }
    }

    /// An offer scores its own rating, or its organisation's when it states none.
    static let offerQuality = "CASE WHEN o.quality > 0 THEN o.quality ELSE g.quality END"

    /// The pairs among `needs` and `offers` that continue a link that worked: the offer's
    /// organisation had a match confirmed with the need's county, for a need of the year before
    /// (`confirmed_link`, kept by the match triggers). The offers are looked up one by one:
    /// `id = ANY(…)` of a thousand offers had the planner scan the whole table.
    static func continued(needs: [NeedRecord], offers: [OfferRecord], on connection: PGConnection) throws -> Set<PairID> {
        guard !needs.isEmpty, !offers.isEmpty else { return [] }
        return Set(
            try connection.query(
                """
                WITH n AS (
                    SELECT id, county, extract(year FROM window_start)::integer - 1 AS year FROM need
                    WHERE id = ANY(\(PGText.int64Array(needs.map(\.id)))::bigint[])
                )
                SELECT n.id, o.id
                FROM unnest(\(PGText.int64Array(offers.map(\.id)))::bigint[]) AS wanted(id)
                JOIN offer o ON o.id = wanted.id
                JOIN confirmed_link link ON link.organisation = o.organisation AND link.matches > 0
                JOIN n ON n.county = link.county AND n.year = link.year
                """
            ).rows.map { PairID(need: try $0.int64(0), offer: try $0.int64(1)) })
    }

    static let needVariant = "coalesce(n.partnership, n.direction, '')"
    static let offerVariant = "coalesce(o.partnership, o.direction, '')"

    /// What the two sides of a kind must agree on (a school partnership's partner, a
    /// secondment's direction), as `variant` reads it.
    static func variant(_ text: String) -> KindVariant {
        switch text {
        case Partnership.school.rawValue: .schoolPartner
        case Partnership.enterprise.rawValue: .enterprisePartner
        case SecondmentDirection.toEast.rawValue: .toEast
        case SecondmentDirection.toWest.rawValue: .toWest
        default: .any
        }
    }

    /// The conditions a need asks for (stored as codes), or an offer states in its text
    /// (`housing, travel_support`: the codes it names count).
    static func conditions(_ text: String) -> Set<Condition> {
        Set(text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " || $0 == "，" || $0 == "、" }).compactMap {
            Condition(word: String($0))
        })
    }

    func expireProposals(olderThanDays days: Int) throws {
        try connection.query(
            """
            UPDATE match SET status = 'expired', updated_at = now()
            WHERE status = 'proposed' AND created_at < now() - make_interval(days => \(days))
            """)
    }

    // MARK: Reading runs and matches

    static let runColumns = """
        id, mode, parameters::text, weights::text, input_hash, figures::text,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        """

    static func runRecord(_ row: PGRow) throws -> RunRecord {
        let parameters = try jsonObject(try row.string(2))
        let figures = try jsonObject(try row.string(5))
        let storedWeights = try jsonObject(try row.string(3))
        var named: [String: Int64] = [:]
        for (key, value) in storedWeights { named[key] = (value as? NSNumber)?.int64Value }
        guard let weights = ScoreWeights(named: named) else {
            throw PGError(sqlState: nil, message: "run \(row[0] ?? "?") has weights ewmatch cannot read")
        }
        return RunRecord(
            id: try row.int64(0), mode: try row.string(1), parameters: textPairs(parameters), weights: weights,
            fingerprint: try row.string(4), figures: textPairs(figures), createdAt: try row.string(6))
    }

    private static func jsonObject(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw PGError(sqlState: nil, message: "a stored JSON value is not an object")
        }
        return object
    }

    /// jsonb keeps keys sorted, not in the order they were written; sorted is what they come back in.
    private static func textPairs(_ object: [String: Any]) -> [(String, String)] {
        object.keys.sorted().map { key in (key, object[key].map { "\($0)" } ?? "") }
    }

    func runs(page: Page) throws -> [RunRecord] {
        let afterID = page.after.flatMap { Int64($0) }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.runColumns) FROM match_run
            WHERE (\(afterID)::bigint IS NULL OR id > \(afterID)) ORDER BY id LIMIT \(page.limit)
            """
        ).rows.map(Self.runRecord)
    }

    func run(id: Int64) throws -> RunRecord? {
        try connection.query("SELECT \(unsafeSQL: Self.runColumns) FROM match_run WHERE id = \(id)").first.map(Self.runRecord)
    }

    static let matchColumns = """
        m.id, m.run, m.need, m.offer, n.county, o.organisation, m.units, m.score, m.explanation::text, m.status,
        m.west_answer, m.west_units, m.east_answer, m.east_units, m.confirmed_units, m.placed_units, m.placed_on::text, m.reason,
        m.placed_poverty, m.placed_monitored, m.left_units, m.reopened_units, m.stable3_units, m.stable6_units, m.note
        """

    static func matchInfo(_ row: PGRow) throws -> MatchInfo {
        MatchInfo(
            id: try row.int64(0), run: try row.int64(1), need: try row.int64(2), offer: try row.int64(3), county: try row.string(4),
            organisation: try row.int64(5), units: try row.int64(6), score: try row.int64(7), explanation: try row.string(8),
            status: MatchStatus(rawValue: try row.string(9)) ?? .proposed, westAnswer: row[10], westUnits: row[11].flatMap { Int64($0) },
            eastAnswer: row[12], eastUnits: row[13].flatMap { Int64($0) }, confirmedUnits: row[14].flatMap { Int64($0) },
            people: try placedPeople(row), reason: try row.string(17), note: try row.string(24))
    }

    static func placedPeople(_ row: PGRow) throws -> PlacedPeople {
        var people = PlacedPeople()
        people.placed = try row.int64(15)
        people.lastPlacedOn = row[16]
        people.poverty = try row.int64(18)
        people.monitored = try row.int64(19)
        people.left = try row.int64(20)
        people.reopened = try row.int64(21)
        people.stable3 = try row.int64(22)
        people.stable6 = try row.int64(23)
        return people
    }

    func list(filter: MatchFilter, within scope: Scope, page: Page) throws -> [MatchInfo] {
        let afterID = page.after.flatMap { Int64($0) }
        let (county, province, organisation, eastProvince, eastCity): (String?, String?, Int64?, String?, String?) =
            switch scope {
            case .county(let code): (code, nil, nil, nil, nil)
            case .westProvince(let code): (nil, code, nil, nil, nil)
            case .organisation(let id): (nil, nil, id, nil, nil)
            case .eastProvince(let code): (nil, nil, nil, code, nil)
            case .eastCity(let name): (nil, nil, nil, nil, name)
            case .everything: (nil, nil, nil, nil, nil)
            }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.matchColumns)
            FROM match m JOIN need n ON n.id = m.need JOIN offer o ON o.id = m.offer JOIN organisation g ON g.id = o.organisation
            WHERE (\(filter.run)::bigint IS NULL OR m.run = \(filter.run))
              AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))
              AND (\(filter.organisation)::bigint IS NULL OR o.organisation = \(filter.organisation))
              AND (\(filter.status?.rawValue)::text IS NULL OR m.status = \(filter.status?.rawValue))
              AND (\(county)::text IS NULL OR n.county = \(county))
              AND (\(province)::text IS NULL OR left(n.county, 2) = \(province))
              AND (\(organisation)::bigint IS NULL OR o.organisation = \(organisation))
              AND (\(eastProvince)::text IS NULL OR g.province = \(eastProvince))
              AND (\(eastCity)::text IS NULL OR g.city = \(eastCity))
              AND (\(afterID)::bigint IS NULL OR m.id > \(afterID))
            ORDER BY m.id LIMIT \(page.limit)
            """
        ).rows.map(Self.matchInfo)
    }

    func proposals(run: Int64) throws -> [PairID: (units: Int64, score: Int64)] {
        var result: [PairID: (units: Int64, score: Int64)] = [:]
        for row in try connection.query("SELECT need, offer, units, score FROM match WHERE run = \(run)").rows {
            result[PairID(need: try row.int64(0), offer: try row.int64(1))] = (try row.int64(2), try row.int64(3))
        }
        return result
    }

    func load(_ id: Int64, lock: Bool) throws -> MatchInfo? {
        try connection.query(
            """
            SELECT \(unsafeSQL: Self.matchColumns) FROM match m JOIN need n ON n.id = m.need JOIN offer o ON o.id = m.offer
            WHERE m.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE OF m" : "")
            """
        ).first.map(Self.matchInfo)
    }

    func save(_ match: MatchInfo) throws {
        try connection.query(
            """
            UPDATE match SET status = \(match.status.rawValue), west_answer = \(match.westAnswer), west_units = \(match.westUnits),
                east_answer = \(match.eastAnswer), east_units = \(match.eastUnits), confirmed_units = \(match.confirmedUnits),
                placed_units = \(match.people.placed), placed_on = \(match.people.lastPlacedOn)::date,
                placed_poverty = \(match.people.poverty), placed_monitored = \(match.people.monitored),
                left_units = \(match.people.left), reopened_units = \(match.people.reopened),
                stable3_units = \(match.people.stable3), stable6_units = \(match.people.stable6), reason = \(match.reason),
                note = \(match.note), updated_at = now()
            WHERE id = \(match.id)
            """)
    }

    func rememberDeclined(need: Int64, offer: Int64) throws {
        try connection.query("INSERT INTO declined_pair (need, offer) VALUES (\(need), \(offer)) ON CONFLICT DO NOTHING")
    }
}
