import MatchCore
import MatchingEngine
import Synchronization

extension PostgresRepository {
    /// The advisory lock that lets one run commit at a time ("ewmr").
    public static let runLockKey: Int64 = 0x6577_6D72

    public func beginRun(lock: Bool, wait: Duration?) async throws -> any RunTransaction {
        try await Self.translatingErrors {
            let connection = try await pool.checkout()
            var locked = false
            do {
                if lock {
                    let deadline = ContinuousClock.now + (wait ?? .zero)
                    while !locked {
                        locked = try await pool.run(on: connection) {
                            try $0.query("SELECT pg_try_advisory_lock(\(Self.runLockKey))").first![0] == "t"
                        }
                        if locked { break }
                        guard ContinuousClock.now < deadline else {
                            throw RepositoryError.busy("another matching run is being stored; try again, or give wait=SECONDS")
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                try await pool.run(on: connection) { try $0.execute(script: "BEGIN ISOLATION LEVEL REPEATABLE READ") }
                return PostgresRun(pool: pool, connection: connection, locked: lock)
            } catch {
                if locked { _ = try? await pool.run(on: connection) { try $0.query("SELECT pg_advisory_unlock(\(Self.runLockKey))") } }
                pool.checkin(connection)
                throw error
            }
        }
    }

    final class PostgresRun: RunTransaction {
        let pool: ConnectionPool
        let connection: PGConnection
        let locked: Bool
        private let ended = Atomic<Bool>(false)

        init(pool: ConnectionPool, connection: PGConnection, locked: Bool) {
            self.pool = pool
            self.connection = connection
            self.locked = locked
        }

        func snapshot(_ filter: RunFilter) async throws -> RunInput {
            try await PostgresRepository.translatingErrors {
                try await pool.run(on: connection) { try PostgresRepository.loadInput(filter, needID: nil, on: $0) }
            }
        }

        func store(_ run: RunRecord, proposals: [Proposal], filter: RunFilter, audit: AuditEntry) async throws -> Int64 {
            guard !ended.exchange(true, ordering: .relaxed) else { throw PGError(sqlState: nil, message: "the run has ended") }
            let locked = self.locked
            defer { pool.checkin(connection) }
            do {
                return try await PostgresRepository.translatingErrors {
                    try await pool.run(on: connection) { connection in
                        let id = try connection.query(
                            """
                            INSERT INTO match_run (mode, parameters, weights, input_hash, figures, started_by)
                            VALUES (\(run.mode), \(PostgresRepository.jsonObject(run.parameters))::jsonb,
                                    \(PostgresRepository.jsonObject([("weights", "\(run.weights)")]))::jsonb, \(run.fingerprint),
                                    \(PostgresRepository.jsonObject(run.figures))::jsonb, \(audit.actor.tokenID))
                            RETURNING id
                            """
                        ).first!.int64(0)
                        // Unanswered proposals of earlier runs for the needs this run considered; one that
                        // a side has accepted waits for the other side (the run left that pair out).
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
                        for proposal in proposals {
                            chunk += Array("\(id)\t\(proposal.need)\t\(proposal.offer)\t\(proposal.units)\t\(proposal.score)\t".utf8)
                            for byte in proposal.explanation.utf8 {
                                if byte == UInt8(ascii: "\\") { chunk.append(byte) }
                                chunk.append(byte)
                            }
                            chunk.append(UInt8(ascii: "\n"))
                            if chunk.count > 256 * 1024 {
                                try connection.copyPut(chunk)
                                chunk.removeAll(keepingCapacity: true)
                            }
                        }
                        if !chunk.isEmpty { try connection.copyPut(chunk) }
                        try connection.copyEnd()
                        var entry = audit
                        entry.target = "run:\(id)"
                        entry.changes.append(("proposals", "\(proposals.count)"))
                        try PostgresRepository.insertAudit(entry, on: connection)
                        try connection.execute(script: "COMMIT")
                        if locked { try connection.query("SELECT pg_advisory_unlock(\(PostgresRepository.runLockKey))") }
                        return id
                    }
                }
            } catch {
                _ = try? await pool.run(on: connection) { connection in
                    try connection.execute(script: "ROLLBACK")
                    if locked { try connection.query("SELECT pg_advisory_unlock(\(PostgresRepository.runLockKey))") }
                }
                throw error
            }
        }

        func rollback() async {
            guard !ended.exchange(true, ordering: .relaxed) else { return }
            let locked = self.locked
            _ = try? await pool.run(on: connection) { connection in
                try connection.execute(script: "ROLLBACK")
                if locked { try connection.query("SELECT pg_advisory_unlock(\(PostgresRepository.runLockKey))") }
            }
            pool.checkin(connection)
        }
    }

    /// Open needs (all in the filter, or just `needID`) and open offers as engine records, with
    /// the pairings and declined pairs. Windows become days since 2000-01-01, half-open.
    static func loadInput(_ filter: RunFilter, needID: Int64?, on connection: PGConnection) throws -> RunInput {
        let needs = try connection.query(
            """
            SELECT n.id, n.county, c.province, n.kind, array_to_string(n.occupations, ','), n.quantity - n.matched,
                   n.window_start - date '2000-01-01', n.window_end - date '2000-01-01' + 1, n.priority, n.poverty_focus
            FROM need n JOIN county c ON c.code = n.county
            WHERE n.status IN ('open', 'partly_matched') AND n.quantity > n.matched
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
                povertyAlleviated: try row.bool(9))
        }
        let offers = try connection.query(
            """
            SELECT o.id, g.province, g.city, o.kind, array_to_string(o.occupations, ','), o.capacity - o.matched,
                   o.window_start - date '2000-01-01', o.window_end - date '2000-01-01' + 1, o.conditions
            FROM offer o JOIN organisation g ON g.id = o.organisation
            WHERE o.status IN ('open', 'partly_matched') AND o.capacity > o.matched
              AND (\(filter.kind?.rawValue)::text IS NULL OR o.kind = \(filter.kind?.rawValue))
            """
        ).rows.map { row in
            OfferRecord(
                id: try row.int64(0), province: try row.string(1), city: try row.string(2), kind: try kind(row, 3),
                occupations: try codes(row, 4), capacity: try row.int64(5),
                window: TimeWindow(start: try row.int(6), end: try row.int(7)), conditions: conditions(try row.string(8)))
        }
        let pairings = try loadPairings(on: connection)
        // Declined pairs never return; pairs waiting for the second side's answer are not proposed twice.
        let declined = Set(
            try connection.query(
                """
                SELECT need, offer FROM declined_pair
                UNION SELECT need, offer FROM match
                WHERE status = 'proposed' AND (west_answer IS NOT NULL OR east_answer IS NOT NULL)
                """
            ).rows.map { PairID(need: try $0.int64(0), offer: try $0.int64(1)) })
        return RunInput(needs: needs, offers: offers, pairings: pairings, declined: declined)
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

    /// The conditions an offer states, when its text names them (`housing, travel_support`).
    private static func conditions(_ text: String) -> Set<Condition> {
        Set(text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).compactMap { Condition(rawValue: String($0)) })
    }

    static func jsonObject(_ pairs: [(String, String)]) -> String {
        AuditEntry(actor: Principal(tokenID: 0, role: .admin, scope: ""), command: "", target: "", changes: pairs).changesJSON
    }

    public func expireProposals(olderThanDays days: Int) async throws {
        try await write { connection in
            try connection.query(
                """
                UPDATE match SET status = 'expired', updated_at = now()
                WHERE status = 'proposed' AND created_at < now() - make_interval(days => \(days))
                """)
        }
    }

    // MARK: Reading runs and matches

    static let runColumns = """
        id, mode, parameters::text, weights->>'weights', input_hash, figures::text,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        """

    static func runRecord(_ row: PGRow) throws -> RunRecord {
        RunRecord(
            id: try row.int64(0), mode: try row.string(1), parameters: jsonPairs(try row.string(2)), weights: .default,
            fingerprint: try row.string(4), figures: jsonPairs(try row.string(5)), createdAt: try row.string(6))
    }

    /// The pairs of a flat JSON object of strings, as written by `jsonObject`, in key order of
    /// writing (jsonb sorts keys; the figures keep their meaning either way).
    static func jsonPairs(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var scanner = Substring(text)
        while let keyStart = scanner.firstIndex(of: "\"") {
            scanner = scanner[scanner.index(after: keyStart)...]
            guard let keyEnd = scanner.firstIndex(of: "\"") else { break }
            let key = String(scanner[..<keyEnd])
            scanner = scanner[scanner.index(after: keyEnd)...]
            guard let valueStart = scanner.firstIndex(of: "\"") else { break }
            scanner = scanner[scanner.index(after: valueStart)...]
            var value = ""
            var escaped = false
            var end = scanner.startIndex
            for index in scanner.indices {
                let character = scanner[index]
                end = index
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    value.append(character)
                }
            }
            pairs.append((key, value))
            scanner = scanner[scanner.index(after: end)...]
        }
        return pairs
    }

    public func runs(page: Page) async throws -> [RunRecord] {
        let afterID = page.after.flatMap { Int64($0) }
        return try await read { connection in
            try connection.query(
                """
                SELECT \(unsafeSQL: Self.runColumns) FROM match_run
                WHERE (\(afterID)::bigint IS NULL OR id > \(afterID)) ORDER BY id LIMIT \(page.limit)
                """
            ).rows.map(Self.runRecord)
        }
    }

    public func run(id: Int64) async throws -> RunRecord? {
        try await read { connection in
            try connection.query("SELECT \(unsafeSQL: Self.runColumns) FROM match_run WHERE id = \(id)").first.map(Self.runRecord)
        }
    }

    static let matchColumns = """
        m.id, m.run, m.need, m.offer, n.county, o.organisation, m.units, m.score, m.explanation::text, m.status,
        m.west_answer, m.west_units, m.east_answer, m.east_units, m.confirmed_units, m.placed_units, m.placed_on::text, m.reason
        """

    static func matchInfo(_ row: PGRow) throws -> MatchInfo {
        MatchInfo(
            id: try row.int64(0), run: try row.int64(1), need: try row.int64(2), offer: try row.int64(3), county: try row.string(4),
            organisation: try row.int64(5), units: try row.int64(6), score: try row.int64(7), explanation: try row.string(8),
            status: MatchStatus(rawValue: try row.string(9)) ?? .proposed, westAnswer: row[10], westUnits: row[11].flatMap { Int64($0) },
            eastAnswer: row[12], eastUnits: row[13].flatMap { Int64($0) }, confirmedUnits: row[14].flatMap { Int64($0) },
            placedUnits: try row.int64(15), placedOn: row[16], reason: try row.string(17))
    }

    static func loadMatch(_ id: Int64, on connection: PGConnection, lock: Bool = false) throws -> MatchInfo? {
        try connection.query(
            """
            SELECT \(unsafeSQL: matchColumns) FROM match m JOIN need n ON n.id = m.need JOIN offer o ON o.id = m.offer
            WHERE m.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE OF m" : "")
            """
        ).first.map(matchInfo)
    }

    public func match(id: Int64) async throws -> MatchInfo? {
        try await read { connection in try Self.loadMatch(id, on: connection) }
    }

    public func matches(filter: MatchFilter, within scope: Scope, page: Page) async throws -> [MatchInfo] {
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
        return try await read { connection in
            try connection.query(
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
    }

    public func proposals(run: Int64) async throws -> [PairID: (units: Int64, score: Int64)] {
        try await read { connection in
            var result: [PairID: (units: Int64, score: Int64)] = [:]
            for row in try connection.query("SELECT need, offer, units, score FROM match WHERE run = \(run)").rows {
                result[PairID(need: try row.int64(0), offer: try row.int64(1))] = (try row.int64(2), try row.int64(3))
            }
            return result
        }
    }

    public func explainInput(need: Int64) async throws -> RunInput {
        try await read { connection in
            let kind = try connection.query("SELECT kind FROM need WHERE id = \(need)").first.map { try $0.string(0) }
            return try Self.loadInput(RunFilter(kind: kind.flatMap(Kind.init(rawValue:))), needID: nil, on: connection)
        }
    }

    // MARK: Answers

    public func answer(match id: Int64, side: MatchSide, accept: Bool, units: Int64?, reason: String, audit: AuditEntry) async throws
        -> MatchInfo
    {
        try await write { connection in
            guard let match = try Self.loadMatch(id, on: connection, lock: true) else { throw RepositoryError.notFound("no match \(id)") }
            guard match.status == .proposed else {
                throw RepositoryError.conflict("match \(id) is \(match.status.rawValue); only proposals are answered")
            }
            let column = side == .west ? "west" : "east"
            if !accept {
                try connection.query(
                    """
                    UPDATE match SET \(unsafeSQL: column)_answer = 'decline', status = 'declined', reason = \(reason), updated_at = now()
                    WHERE id = \(id)
                    """)
                try connection.query("INSERT INTO declined_pair (need, offer) VALUES (\(match.need), \(match.offer)) ON CONFLICT DO NOTHING")
                try Self.insertAudit(audit, on: connection)
                return try Self.loadMatch(id, on: connection)!
            }
            try connection.query(
                """
                UPDATE match SET \(unsafeSQL: column)_answer = 'accept', \(unsafeSQL: column)_units = \(units ?? match.units), updated_at = now()
                WHERE id = \(id)
                """)
            let answered = try Self.loadMatch(id, on: connection)!
            if answered.westAnswer == "accept" && answered.eastAnswer == "accept" {
                try Self.confirm(answered, on: connection)
            }
            try Self.insertAudit(audit, on: connection)
            return try Self.loadMatch(id, on: connection)!
        }
    }

    /// Both sides said yes: confirm the smaller of their unit counts, but never more than what the
    /// need and the offer still have open at this moment (rows locked, so no race can overfill).
    private static func confirm(_ match: MatchInfo, on connection: PGConnection) throws {
        let wanted = min(match.westUnits ?? match.units, match.eastUnits ?? match.units)
        let open = try connection.query(
            """
            SELECT (SELECT quantity - matched FROM need WHERE id = \(match.need) FOR UPDATE),
                   (SELECT capacity - matched FROM offer WHERE id = \(match.offer) FOR UPDATE)
            """
        ).first!
        let confirmed = min(wanted, try open.int64(0), try open.int64(1))
        guard confirmed > 0 else {
            try connection.query(
                "UPDATE match SET status = 'expired', reason = 'nothing left to confirm', updated_at = now() WHERE id = \(match.id)")
            return
        }
        try connection.query(
            "UPDATE match SET status = 'confirmed', confirmed_units = \(confirmed), updated_at = now() WHERE id = \(match.id)")
        try moveUnits(need: match.need, offer: match.offer, by: confirmed, on: connection)
    }

    /// Adds `units` (negative to give back) to the matched counts and recomputes both statuses.
    private static func moveUnits(need: Int64, offer: Int64, by units: Int64, on connection: PGConnection) throws {
        try connection.query(
            """
            UPDATE need SET matched = matched + \(units), updated_at = now(),
                status = CASE WHEN status = 'cancelled' THEN status WHEN matched + \(units) = 0 THEN 'open'
                              WHEN matched + \(units) < quantity THEN 'partly_matched' ELSE 'filled' END
            WHERE id = \(need)
            """)
        try connection.query(
            """
            UPDATE offer SET matched = matched + \(units), updated_at = now(),
                status = CASE WHEN status = 'withdrawn' THEN status WHEN matched + \(units) = 0 THEN 'open'
                              WHEN matched + \(units) < capacity THEN 'partly_matched' ELSE 'filled' END
            WHERE id = \(offer)
            """)
    }

    public func place(match id: Int64, units: Int64, on day: Day, audit: AuditEntry) async throws -> MatchInfo {
        try await write { connection in
            guard let match = try Self.loadMatch(id, on: connection, lock: true) else { throw RepositoryError.notFound("no match \(id)") }
            guard match.status == .confirmed, let confirmed = match.confirmedUnits else {
                throw RepositoryError.conflict("match \(id) is \(match.status.rawValue); placements are recorded on confirmed matches")
            }
            guard units <= confirmed else {
                throw RepositoryError.invalid(field: "units", message: "\(units) is more than the \(confirmed) confirmed units")
            }
            try connection.query(
                "UPDATE match SET placed_units = \(units), placed_on = \(day.description)::date, updated_at = now() WHERE id = \(id)")
            try Self.insertAudit(audit, on: connection)
            return try Self.loadMatch(id, on: connection)!
        }
    }

    public func cancel(match id: Int64, reason: String, audit: AuditEntry) async throws -> MatchInfo {
        try await write { connection in
            guard let match = try Self.loadMatch(id, on: connection, lock: true) else { throw RepositoryError.notFound("no match \(id)") }
            guard match.status == .confirmed, let confirmed = match.confirmedUnits else {
                throw RepositoryError.conflict("match \(id) is \(match.status.rawValue); only confirmed matches are cancelled")
            }
            try connection.query(
                "UPDATE match SET status = 'cancelled', reason = \(reason), updated_at = now() WHERE id = \(id)")
            try Self.moveUnits(need: match.need, offer: match.offer, by: -(confirmed - match.placedUnits), on: connection)
            try Self.insertAudit(audit, on: connection)
            return try Self.loadMatch(id, on: connection)!
        }
    }
}
