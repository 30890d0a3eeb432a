import Logging
import MatchCore

/// The system of record: `Repository` over the connection pool.
public struct PostgresRepository: Repository {
    let pool: ConnectionPool
    /// Set inside a client's batch: every call runs in the batch's open transaction.
    private let pinned: PGConnection?

    /// Group commit for NEED ADD (outside batches).
    let needWriter: WriteCombiner<NeedSubmission, Need>?

    var batchConnection: PGConnection? { pinned }

    public init(pool: ConnectionPool) {
        self.pool = pool
        self.pinned = nil
        // One statement per group: it is its own transaction, committed before anyone hears OK.
        self.needWriter = WriteCombiner { submissions in
            try await pool.withConnection { try Self.insertNeeds(submissions, on: $0) }
        }
    }

    private init(pool: ConnectionPool, pinned: PGConnection) {
        self.pool = pool
        self.pinned = pinned
        self.needWriter = nil
    }

    public func beginBatch() async throws -> any BatchTransaction {
        try await Self.translatingErrors {
            let connection = try await pool.checkout()
            do {
                try await pool.run(on: connection) { try $0.execute(script: "BEGIN") }
            } catch {
                pool.checkin(connection)
                throw error
            }
            return PostgresBatch(pool: pool, connection: connection, repository: PostgresRepository(pool: pool, pinned: connection))
        }
    }

    public func authenticate(secret: String) async throws -> Principal? {
        try await read { connection in
            try connection.query(
                """
                SELECT id, role, scope, label FROM api_token
                WHERE token_hash = sha256(convert_to(\(secret), 'UTF8'))
                  AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                """
            ).first.map(Self.principal)
        }
    }

    public func principal(tokenID: Int64) async throws -> Principal? {
        try await read { connection in
            try connection.query(
                """
                SELECT id, role, scope, label FROM api_token
                WHERE id = \(tokenID) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                """
            ).first.map(Self.principal)
        }
    }

    public func createToken(
        secret: String, role: Role, scope: String, label: String, expiresInDays: Int?, audit: AuditEntry?
    ) async throws -> Principal {
        try await write { connection in
            let row = try connection.query(
                """
                INSERT INTO api_token (token_hash, role, scope, label, expires_at)
                VALUES (sha256(convert_to(\(secret), 'UTF8')), \(role.rawValue), \(scope), \(label),
                        now() + make_interval(days => \(expiresInDays)))
                RETURNING id, role, scope, label
                """
            ).first
            guard let row else { throw RepositoryError.conflict("token was not stored") }
            let principal = try Self.principal(row)
            let changes = [("role", role.rawValue), ("scope", scope), ("label", label)]
            if let audit {
                var entry = audit
                entry.target = "token:\(principal.tokenID)"
                entry.changes = changes
                try Self.insertAudit(entry, on: connection)
            } else {
                try connection.query(
                    """
                    INSERT INTO audit_log (token_id, role, scope, command, target, changes)
                    VALUES (NULL, 'shell', '', 'ewmatch token create', \("token:\(principal.tokenID)"),
                            \(AuditEntry(actor: principal, command: "", target: "", changes: changes).changesJSON)::jsonb)
                    """)
            }
            return principal
        }
    }

    public func tokens(page: Page) async throws -> [TokenInfo] {
        let afterID = page.after.flatMap { Int64($0) }
        return try await read { connection in
            try connection.query(
                """
                SELECT id, role, scope, label, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM api_token WHERE (\(afterID)::bigint IS NULL OR id > \(afterID)) ORDER BY id LIMIT \(page.limit)
                """
            ).rows.map { row in
                TokenInfo(principal: try Self.principal(row), createdAt: try row.string(4), expiresAt: row[5], revokedAt: row[6])
            }
        }
    }

    public func revokeToken(id: Int64, audit: AuditEntry) async throws {
        try await write { connection in
            let result = try connection.query("UPDATE api_token SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL")
            guard result.affectedRows == 1 else {
                let exists = try connection.query("SELECT 1 FROM api_token WHERE id = \(id)").first != nil
                throw exists ? RepositoryError.conflict("token \(id) is already revoked") : RepositoryError.notFound("no token \(id)")
            }
            try Self.insertAudit(audit, on: connection)
        }
    }

    public func auditEntries(filter: AuditFilter, page: Page) async throws -> [AuditRecord] {
        let afterID = page.after.flatMap { Int64($0) }
        return try await read { connection in
            try connection.query(
                """
                SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), token_id, role, scope, command,
                       target, changes::text
                FROM audit_log
                WHERE (\(filter.tokenID)::bigint IS NULL OR token_id = \(filter.tokenID))
                  AND (\(filter.target)::text IS NULL OR target = \(filter.target) OR target LIKE \(filter.target) || ':%')
                  AND (\(filter.since)::timestamptz IS NULL OR at >= \(filter.since)::timestamptz)
                  AND (\(filter.until)::timestamptz IS NULL OR at < \(filter.until)::timestamptz)
                  AND (\(afterID)::bigint IS NULL OR id > \(afterID))
                ORDER BY id LIMIT \(page.limit)
                """
            ).rows.map { row in
                AuditRecord(
                    id: try row.int64(0), at: try row.string(1), tokenID: row[2].flatMap { Int64($0) }, role: try row.string(3),
                    scope: try row.string(4), command: try row.string(5), target: try row.string(6), changes: try row.string(7))
            }
        }
    }

    private static func principal(_ row: PGRow) throws -> Principal {
        guard let role = Role(rawValue: try row.string(1)) else {
            throw PGError(sqlState: nil, message: "unknown role \(row[1] ?? "NULL") in api_token")
        }
        return Principal(tokenID: try row.int64(0), role: role, scope: try row.string(2), label: try row.string(3))
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        if let pinned { return try await Self.translatingErrors { try await pool.run(on: pinned, body) } }
        return try await Self.translatingErrors { try await pool.withConnection(body) }
    }

    /// One transaction of its own, or a part of the batch's transaction when inside one.
    func write<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        if let pinned { return try await Self.translatingErrors { try await pool.run(on: pinned, body) } }
        return try await Self.translatingErrors { try await pool.withTransaction(body) }
    }

    /// Database failures become the protocol's terms: an outage is `unavailable` (retryable), a
    /// constraint the request broke is a conflict or a bad argument.
    static func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PGError where error.isConnectionFailure {
            throw RepositoryError.unavailable(error.message)
        } catch is PoolClosedError {
            throw RepositoryError.unavailable("the server is shutting down")
        } catch let error as PGError where error.sqlState == "40001" || error.sqlState == "40P01" {
            throw RepositoryError.busy("a concurrent change got in the way: \(error.message); try again")
        } catch let error as PGError where error.sqlState == "23505" {
            throw RepositoryError.conflict("already exists: \(error.message)")
        } catch let error as PGError where error.sqlState == "23503" || error.sqlState == "23514" {
            throw RepositoryError.invalid(field: "value", message: error.message)
        }
    }

    /// A client's open batch: one transaction on a connection leased until COMMIT or ROLLBACK.
    final class PostgresBatch: BatchTransaction {
        let pool: ConnectionPool
        let connection: PGConnection
        let repository: any Repository

        init(pool: ConnectionPool, connection: PGConnection, repository: any Repository) {
            self.pool = pool
            self.connection = connection
            self.repository = repository
        }

        func commit() async throws {
            defer { pool.checkin(connection) }
            try await PostgresRepository.translatingErrors {
                try await pool.run(on: connection) { try $0.execute(script: "COMMIT") }
            }
        }

        func rollback() async {
            _ = try? await pool.run(on: connection) { try $0.execute(script: "ROLLBACK") }
            pool.checkin(connection)
        }
    }

    /// Records who changed what; called inside the write's own transaction.
    static func insertAudit(_ entry: AuditEntry, on connection: PGConnection) throws {
        try connection.query(
            """
            INSERT INTO audit_log (token_id, role, scope, command, target, changes)
            VALUES (\(entry.actor.tokenID), \(entry.actor.role.rawValue), \(entry.actor.scope), \(entry.command),
                    \(entry.target), \(entry.changesJSON)::jsonb)
            """)
    }
}
