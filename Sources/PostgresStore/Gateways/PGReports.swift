import MatchCore
import MatchingEngine

/// Administrators' queries over the summary tables of `sql/004_reports.sql`.
/// The administrators' figures, read from the summary tables the writes' triggers keep.
struct PGReports: ReportGateway {
    let connection: PGConnection

    /// A west scope as (county, province) filters; nil, nil for everything.
    static func westFilter(_ scope: Scope) -> (county: String?, province: String?) {
        switch scope {
        case .county(let code): (code, nil)
        case .westProvince(let code): (nil, code)
        default: (nil, nil)
        }
    }

    func stats(within scope: Scope) throws -> Stats {
        let (county, province) = Self.westFilter(scope)
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM county
                    WHERE (\(county)::text IS NULL OR code = \(county)) AND (\(province)::text IS NULL OR province = \(province))),
                   (SELECT count(*) FROM organisation),
                   f.needs, f.open_needs, f.open_units, o.offers, o.open_offers, o.open_capacity,
                   m.proposed, m.confirmed, m.declined, r.id,
                   to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   -- A standby that has replayed all it received is current; otherwise it is as
                   -- old as the last transaction it replayed.
                   CASE WHEN pg_is_in_recovery() THEN
                       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.000
                            ELSE round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 3) END::text
                   END
            FROM (SELECT coalesce(sum(needs), 0) AS needs, coalesce(sum(open_needs), 0) AS open_needs,
                         coalesce(sum(open_units), 0) AS open_units
                  FROM need_fill
                  WHERE (\(county)::text IS NULL OR county = \(county))
                    AND (\(province)::text IS NULL OR left(county, 2) = \(province))) f,
                 (SELECT coalesce(sum(offers), 0) AS offers, coalesce(sum(open_offers), 0) AS open_offers,
                         coalesce(sum(open_capacity), 0) AS open_capacity
                  FROM offer_totals) o,
                 (SELECT coalesce(sum(proposed_matches), 0) AS proposed, coalesce(sum(confirmed_matches), 0) AS confirmed,
                         coalesce(sum(declined_matches), 0) AS declined
                  FROM match_flow
                  WHERE (\(county)::text IS NULL OR county = \(county))
                    AND (\(province)::text IS NULL OR left(county, 2) = \(province))) m
                 LEFT JOIN LATERAL (SELECT id, created_at FROM match_run ORDER BY id DESC LIMIT 1) r ON true
            """
        ).first!
        var stats = Stats()
        stats.counties = try row.int(0)
        stats.organisations = try row.int(1)
        stats.needs = try row.int(2)
        stats.openNeeds = try row.int(3)
        stats.openUnits = try row.int(4)
        stats.offers = try row.int(5)
        stats.openOffers = try row.int(6)
        stats.openCapacity = try row.int(7)
        stats.proposedMatches = try row.int(8)
        stats.confirmedMatches = try row.int(9)
        stats.declinedMatches = try row.int(10)
        stats.lastRun = row[11].flatMap { Int64($0) }
        stats.lastRunAt = row[12]
        stats.replicaLagSeconds = row[13]
        return stats
    }

    func unmetNeeds(filter: NeedFilter, within scope: Scope, after cursor: UnmetCursor?, limit: Int) throws -> [Need] {
        let (scopeCounty, scopeProvince) = Self.westFilter(scope)
        // The sort key as need_unmet holds it, so one row comparison pages through it. A county
        // is a key of need_county and a province a range of it (six-digit codes under its prefix,
        // as left(county, 2) would say, but one the planner can read and estimate): where they
        // hold few open needs, the planner sorts those instead of walking need_unmet.
        return try connection.query(
            """
            SELECT \(unsafeSQL: PGNeeds.columns) FROM need n
            WHERE n.status IN ('open', 'partly_matched')
              AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))
              AND (\(filter.province)::text IS NULL
                   OR n.county BETWEEN (\(filter.province) || '0000')::char(6) AND (\(filter.province) || '9999')::char(6))
              AND (\(scopeCounty)::text IS NULL OR n.county = \(scopeCounty))
              AND (\(scopeProvince)::text IS NULL
                   OR n.county BETWEEN (\(scopeProvince) || '0000')::char(6) AND (\(scopeProvince) || '9999')::char(6))
              AND (\(filter.kind?.rawValue)::text IS NULL OR n.kind = \(filter.kind?.rawValue))
              AND (\(filter.occupation)::text IS NULL OR EXISTS (
                    SELECT 1 FROM unnest(n.occupations) AS o(code)
                    WHERE o.code = \(filter.occupation) OR o.code LIKE \(filter.occupation.map(PGText.likeLiteral)) || '-%'))
              AND (\(cursor?.id)::bigint IS NULL
                   OR (-n.priority, NOT n.poverty_focus, n.window_start, n.id)
                      > (-\(cursor?.priority)::integer, NOT \(cursor?.poverty)::boolean, \(cursor?.start.description)::date,
                         \(cursor?.id)::bigint))
            ORDER BY -n.priority, NOT n.poverty_focus, n.window_start, n.id
            LIMIT \(limit)
            """
        ).rows.map(PGNeeds.decode)
    }

    func candidateOffers(for needs: [Need], within scope: Scope, perKey: Int) throws -> RunInput {
        let (organisation, province, city): (Int64?, String?, String?) =
            switch scope {
            case .organisation(let id): (id, nil, nil)
            case .eastProvince(let code): (nil, code, nil)
            case .eastCity(let name): (nil, nil, name)
            default: (nil, nil, nil)
            }
        let ids = needs.map(\.id)
        // Windows as days since 2000-01-01, half-open, as matching runs give them to the engine.
        let needRecords = try connection.query(
            """
            SELECT n.id, n.county, left(n.county, 2), n.kind, array_to_string(n.occupations, ','), n.quantity - n.matched,
                   n.window_start - date '2000-01-01', n.window_end - date '2000-01-01' + 1, n.priority, n.poverty_focus,
                   array_to_string(n.conditions, ','), c.is_key, \(unsafeSQL: PGMatches.needVariant)
            FROM need n JOIN county c ON c.code = n.county WHERE n.id = ANY(\(PGText.int64Array(ids))::bigint[])
            """
        ).rows.map { row in
            NeedRecord(
                id: try row.int64(0), county: try row.string(1), province: try row.string(2), kind: try PGMatches.kind(row, 3),
                occupations: try PGMatches.codes(row, 4), quantity: try row.int64(5),
                window: TimeWindow(start: try row.int(6), end: try row.int(7)), priority: try row.int(8),
                povertyAlleviated: try row.bool(9), keyCounty: try row.bool(11),
                wantedConditions: PGMatches.conditions(try row.string(10)), variant: PGMatches.variant(try row.string(12)))
        }
        // The most promising offers per need: for each of its codes and their groups, the open
        // offers of its kind with the most open capacity (an index range of offer_slot); the
        // engine then scores them exactly.
        let offers = try connection.query(
            """
            WITH picked AS (
                SELECT DISTINCT s.offer
                FROM need n
                CROSS JOIN LATERAL unnest(n.occupations || occupation_groups(n.occupations)) AS k(key)
                CROSS JOIN LATERAL (
                    SELECT s.offer FROM offer_slot s
                    WHERE s.kind = n.kind AND s.key = k.key
                      AND s.window_start <= n.window_end AND s.window_end >= n.window_start
                      AND (\(organisation)::bigint IS NULL OR s.organisation = \(organisation))
                      AND (\(province)::text IS NULL AND \(city)::text IS NULL
                           OR EXISTS (SELECT 1 FROM organisation g WHERE g.id = s.organisation
                                      AND g.province = coalesce(\(province), g.province) AND g.city = coalesce(\(city), g.city)))
                      AND NOT EXISTS (SELECT 1 FROM declined_pair d WHERE d.need = n.id AND d.offer = s.offer)
                    ORDER BY s.open_units DESC, s.offer
                    LIMIT \(perKey)
                ) s
                WHERE n.id = ANY(\(PGText.int64Array(ids))::bigint[])
            )
            SELECT o.id, g.province, g.city, o.kind, array_to_string(o.occupations, ','),
                   o.capacity - o.matched, o.window_start - date '2000-01-01', o.window_end - date '2000-01-01' + 1,
                   \(unsafeSQL: PGMatches.offerQuality), o.conditions, \(unsafeSQL: PGMatches.offerVariant), g.employment_base
            FROM picked p JOIN offer o ON o.id = p.offer JOIN organisation g ON g.id = o.organisation
            ORDER BY o.id
            """
        ).rows.map { row in
            OfferRecord(
                id: try row.int64(0), province: try row.string(1), city: try row.string(2), kind: try PGMatches.kind(row, 3),
                occupations: try PGMatches.codes(row, 4), capacity: try row.int64(5),
                window: TimeWindow(start: try row.int(6), end: try row.int(7)), quality: try row.int(8),
                conditions: PGMatches.conditions(try row.string(9)), variant: PGMatches.variant(try row.string(10)),
                employmentBase: try row.bool(11))
        }
        let declined = Set(
            try connection.query(
                "SELECT need, offer FROM declined_pair WHERE need = ANY(\(PGText.int64Array(ids))::bigint[])"
            ).rows.map { PairID(need: try $0.int64(0), offer: try $0.int64(1)) })
        return RunInput(
            needs: needRecords, offers: offers, pairings: try Self.loadPairings(on: connection), declined: declined,
            continued: try PGMatches.continued(needs: needRecords, offers: offers, on: connection))
    }

    func needFill(years: [Int]?, kind: Kind?, within scope: Scope) throws -> [FillCell] {
        let (county, province) = Self.westFilter(scope)
        return try connection.query(
            """
            SELECT year, county, kind, needs, cancelled, demand, confirmed, open_needs, open_units, proposed
            FROM need_fill
            WHERE (\(years.map { PGText.int64Array($0.map(Int64.init)) })::integer[] IS NULL
                   OR year = ANY(\(years.map { PGText.int64Array($0.map(Int64.init)) })::integer[]))
              AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
              AND (\(county)::text IS NULL OR county = \(county))
              AND (\(province)::text IS NULL OR left(county, 2) = \(province))
              AND needs <> 0
            """
        ).rows.map { row in
            FillCell(
                year: try row.int(0), county: try row.string(1), kind: try PGMatches.kind(row, 2), needs: try row.int(3),
                cancelled: try row.int(4), demand: try row.int(5), confirmed: try row.int(6), openNeeds: try row.int(7),
                openUnits: try row.int(8), proposed: try row.int(9))
        }
    }

    func occupationFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup] {
        let (county, province) = Self.westFilter(scope)
        return try connection.query(
            """
            SELECT f.occupation, coalesce(min(c.name), ''), sum(f.demand), sum(f.proposed), sum(f.confirmed)
            FROM need_occupation_fill f LEFT JOIN occupation c ON c.code = f.occupation
            WHERE (\(year)::integer IS NULL OR f.year = \(year))
              AND (\(kind?.rawValue)::text IS NULL OR f.kind = \(kind?.rawValue))
              AND (\(county)::text IS NULL OR f.county = \(county))
              AND (\(province)::text IS NULL OR left(f.county, 2) = \(province))
            GROUP BY f.occupation
            HAVING sum(f.needs) <> 0
            """
        ).rows.map(Self.fillGroup)
    }

    func pairingFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup] {
        let (county, province) = Self.westFilter(scope)
        // The current pairings, which the agreements and plans are about (the earlier tier counts
        // in the score only). A pairing's western side is its counties (the pairing_county view, which matching runs
        // read too). Its eastern side: the province, or the organisations of one city
        // ("江苏省无锡市" in pairing tables, "无锡市" on organisations).
        return try connection.query(
            """
            WITH sides AS (
                SELECT pc.pairing AS id, pc.county
                FROM pairing_county pc
                WHERE (\(county)::text IS NULL OR pc.county = \(county))
                  AND (\(province)::text IS NULL OR left(pc.county, 2) = \(province))
            )
            SELECT p.id::text, coalesce(nullif(p.east_city, ''), e.name) || ' → ' || w.name || coalesce(nullif(' ' || p.west_area, ' '), ''),
                   coalesce(d.demand, 0), coalesce(f.proposed, 0), coalesce(f.confirmed, 0)
            FROM pairing p JOIN province e ON e.code = p.east_province JOIN province w ON w.code = p.west_province
            LEFT JOIN LATERAL (
                SELECT sum(nf.demand) AS demand FROM sides s JOIN need_fill nf ON nf.county = s.county
                WHERE s.id = p.id AND (\(year)::integer IS NULL OR nf.year = \(year))
                  AND (\(kind?.rawValue)::text IS NULL OR nf.kind = \(kind?.rawValue))
            ) d ON true
            LEFT JOIN LATERAL (
                SELECT sum(mf.proposed_units) AS proposed, sum(mf.confirmed_units) AS confirmed
                FROM sides s JOIN match_flow mf ON mf.county = s.county
                WHERE s.id = p.id AND mf.east_province = p.east_province
                  AND (p.east_city = '' OR (mf.east_city <> '' AND right(p.east_city, length(mf.east_city)) = mf.east_city))
                  AND (\(year)::integer IS NULL OR mf.year = \(year))
                  AND (\(kind?.rawValue)::text IS NULL OR mf.kind = \(kind?.rawValue))
            ) f ON true
            WHERE p.period = 'current' AND EXISTS (SELECT 1 FROM sides s WHERE s.id = p.id)
            """
        ).rows.map(Self.fillGroup)
    }

    static func fillGroup(_ row: PGRow) throws -> FillGroup {
        FillGroup(key: try row.string(0), name: try row.string(1), demand: try row.int(2), proposed: try row.int(3), confirmed: try row.int(4))
    }

    func flows(_ filter: FlowFilter) throws -> [FlowCell] {
        try connection.query(
            """
            SELECT county, kind, sum(proposed_matches), sum(proposed_units), sum(confirmed_matches), sum(confirmed_units),
                   sum(placed_units), sum(placed_poverty), sum(placed_monitored), sum(working_units),
                   sum(reopened_units), sum(stable3_units), sum(stable6_units),
                   \(unsafeSQL: DeclineReason.allCases.map { "sum(declined_\($0.rawValue))" }.joined(separator: ", "))
            FROM match_flow
            WHERE (\(filter.year)::integer IS NULL OR year = \(filter.year))
              AND (\(filter.eastProvince)::text IS NULL OR east_province = \(filter.eastProvince))
              AND (\(filter.eastCity)::text IS NULL OR east_city = \(filter.eastCity))
              AND (\(filter.westProvince)::text IS NULL OR left(county, 2) = \(filter.westProvince))
              AND (\(filter.county)::text IS NULL OR county = \(filter.county))
            GROUP BY county, kind
            """
        ).rows.map { row in
            var people = FlowPeople()
            people.placed = try row.int(6)
            people.poverty = try row.int(7)
            people.monitored = try row.int(8)
            people.working = try row.int(9)
            people.reopened = try row.int(10)
            people.stable3 = try row.int(11)
            people.stable6 = try row.int(12)
            return FlowCell(
                county: try row.string(0), kind: try PGMatches.kind(row, 1), proposedMatches: try row.int(2),
                proposedUnits: try row.int(3), confirmedMatches: try row.int(4), confirmedUnits: try row.int(5),
                declined: Dictionary(uniqueKeysWithValues: try DeclineReason.allCases.enumerated().map { ($1, try row.int(13 + $0)) }),
                people: people)
        }
    }

    func plans(year: Int?, province: String?) throws -> [Plan] {
        // A western plan counts what its counties were given; an eastern one what its province's
        // (or city's, however the organisations wrote it) organisations gave.
        try connection.query(
            """
            SELECT p.year, p.province, p.city, r.side, p.kind, p.units,
                   CASE WHEN r.side = 'west' THEN
                       (SELECT coalesce(sum(f.confirmed), 0) FROM need_fill f
                        WHERE f.year = p.year AND left(f.county, 2) = p.province AND f.kind = p.kind)
                   ELSE
                       (SELECT coalesce(sum(m.confirmed_units), 0) FROM match_flow m
                        WHERE m.east_province = p.province AND m.year = p.year AND m.kind = p.kind
                          AND (p.city = '' OR m.east_city IN (p.city, r.name || p.city)))
                   END
            FROM plan p JOIN province r ON r.code = p.province
            WHERE (\(year)::integer IS NULL OR p.year = \(year)) AND (\(province)::text IS NULL OR p.province = \(province))
            ORDER BY p.year, p.province, p.city, p.kind
            """
        ).rows.map { row in
            Plan(
                year: try row.int(0), province: try row.string(1), city: try row.string(2),
                side: Side(rawValue: try row.string(3)) ?? .other, kind: try PGMatches.kind(row, 4), units: try row.int(5),
                confirmed: try row.int(6))
        }
    }

    func setPlan(_ plan: Plan) throws {
        try connection.query(
            """
            INSERT INTO plan (year, province, city, kind, units)
            VALUES (\(plan.year), \(plan.province), \(plan.city), \(plan.kind.rawValue), \(plan.units))
            ON CONFLICT (year, province, city, kind) DO UPDATE SET units = excluded.units
            """)
    }

    func eastFlows(year: Int, province: String?) throws -> [EastFlowCell] {
        try connection.query(
            """
            SELECT m.east_province, m.east_city, m.kind, sum(m.confirmed_units), sum(m.placed_units)
            FROM match_flow m JOIN province r ON r.code = m.east_province AND r.side = 'east'
            WHERE m.year = \(year) AND (\(province)::text IS NULL OR m.east_province = \(province))
            GROUP BY m.east_province, m.east_city, m.kind
            """
        ).rows.map { row in
            EastFlowCell(
                province: try row.string(0), city: try row.string(1), kind: try PGMatches.kind(row, 2), confirmedUnits: try row.int(3),
                placedUnits: try row.int(4))
        }
    }

    /// The filing columns in `ReportSubmission`'s order; the China day is UTC+8 (no summer time).
    static let submissionColumns = """
        s.id, s.year, s.province, (SELECT count(*) FROM report_submission v
                                   WHERE v.year = s.year AND v.province = s.province AND v.id <= s.id),
        s.rows::text, s.csv, s.fingerprint, s.token_id, s.label,
        to_char(s.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        to_char(s.submitted_at AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY-MM-DD')
        """

    static func submission(_ row: PGRow, from index: Int = 0) throws -> ReportSubmission {
        let day = try row.string(index + 10)
        guard let submittedOn = Day(day) else { throw PGError(sqlState: nil, message: "a filing's day '\(day)' is not a date") }
        return ReportSubmission(
            id: try row.int64(index), year: try row.int(index + 1), province: try row.string(index + 2), version: try row.int(index + 3),
            rows: try row.string(index + 4), csv: try row.string(index + 5), fingerprint: try row.string(index + 6),
            tokenID: row[index + 7].flatMap { Int64($0) }, label: try row.string(index + 8), submittedAt: try row.string(index + 9),
            submittedOn: submittedOn)
    }

    func submitReport(year: Int, province: String, rows: String, csv: String, by principal: Principal) throws -> ReportSubmission {
        let id = try connection.query(
            """
            INSERT INTO report_submission (year, province, rows, csv, fingerprint, token_id, label)
            VALUES (\(year), \(province), \(rows)::jsonb, \(csv), encode(sha256(convert_to(\(csv), 'UTF8')), 'hex'),
                    \(principal.tokenID), \(principal.label))
            RETURNING id
            """
        ).first!.int64(0)
        return try Self.submission(
            try connection.query("SELECT \(unsafeSQL: Self.submissionColumns) FROM report_submission s WHERE s.id = \(id)").first!)
    }

    func filings(year: Int, province: String?) throws -> Filings {
        let result = try connection.query(
            """
            SELECT to_char(now() AT TIME ZONE 'UTC' + interval '8 hours', 'YYYY-MM-DD'), l.*
            FROM (SELECT 1) one LEFT JOIN LATERAL (
                SELECT DISTINCT ON (s.province) \(unsafeSQL: Self.submissionColumns)
                FROM report_submission s
                WHERE s.year = \(year) AND (\(province)::text IS NULL OR s.province = \(province))
                ORDER BY s.province, s.id DESC
            ) l ON true
            """)
        let text = try result.first!.string(0)
        guard let today = Day(text) else { throw PGError(sqlState: nil, message: "today '\(text)' is not a date") }
        var latest: [String: ReportSubmission] = [:]
        for row in result.rows where row[1] != nil {
            let submission = try Self.submission(row, from: 1)
            latest[submission.province] = submission
        }
        return Filings(today: today, latest: latest)
    }

    /// The pairing tables as the engine reads them.
    /// The pairing tables as the engine scores them. A city- or county-level pairing links each of
    /// its western counties (the pairing_county view, as FILL by=pairing reads it) with its eastern
    /// city, written every way an organisation may write it ("江苏省无锡市" or "无锡市"); one whose
    /// eastern side is a whole province links them with every city of that province's organisations.
    static func loadPairings(on connection: PGConnection) throws -> Pairings {
        var pairings = Pairings()
        let provinceNames = Dictionary(
            uniqueKeysWithValues: try connection.query("SELECT code, name FROM province").rows.map { (try $0.string(0), try $0.string(1)) })
        var citiesByProvince: [String: Set<String>] = [:]
        for row in try connection.query("SELECT DISTINCT province, city FROM organisation WHERE city <> ''").rows {
            citiesByProvince[try row.string(0), default: []].insert(try row.string(1))
        }
        for row in try connection.query("SELECT east_province, west_province, level, period FROM pairing").rows {
            let key = PairKey(west: try row.string(1), east: try row.string(0))
            guard try row.string(2) == "province" else { continue }
            if try row.string(3) == "earlier" {
                pairings.earlier.insert(key)
            } else {
                pairings.provinceLevel.insert(key)
            }
        }
        for row in try connection.query(
            """
            SELECT p.east_province, p.east_city, pc.county, p.period FROM pairing p JOIN pairing_county pc ON pc.pairing = p.id
            WHERE p.level <> 'province'
            """
        ).rows {
            let east = try row.string(0)
            let county = try row.string(2)
            let city = try row.string(1)
            let current = try row.string(3) == "current"
            let cities = city.isEmpty ? citiesByProvince[east] ?? [] : [city]
            for city in cities {
                for spelling in Self.spellings(of: city, provinceName: provinceNames[east] ?? "") {
                    let key = PairKey(west: county, east: spelling)
                    if current { pairings.countyLevel.insert(key) } else { pairings.earlierCountyLevel.insert(key) }
                }
            }
        }
        return pairings
    }

    /// A city with and without its province's name in front.
    static func spellings(of city: String, provinceName: String) -> Set<String> {
        guard !provinceName.isEmpty else { return [city] }
        if city.hasPrefix(provinceName) && city.count > provinceName.count {
            return [city, String(city.dropFirst(provinceName.count))]
        }
        return [city, provinceName + city]
    }
}

