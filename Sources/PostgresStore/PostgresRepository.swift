import Logging
import MatchCore

/// The system of record: `Repository` over the connection pool.
public struct PostgresRepository: Repository {
    private let pool: ConnectionPool

    public init(pool: ConnectionPool) {
        self.pool = pool
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

    public func createToken(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?) async throws
        -> Principal
    {
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
            return try Self.principal(row)
        }
    }

    private static func principal(_ row: PGRow) throws -> Principal {
        guard let role = Role(rawValue: try row.string(1)) else {
            throw PGError(sqlState: nil, message: "unknown role \(row[1] ?? "NULL") in api_token")
        }
        return Principal(tokenID: try row.int64(0), role: role, scope: try row.string(2), label: try row.string(3))
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await Self.translatingErrors { try await pool.withConnection(body) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await Self.translatingErrors { try await pool.withTransaction(body) }
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
        } catch let error as PGError where error.sqlState == "23505" {
            throw RepositoryError.conflict("already exists: \(error.message)")
        } catch let error as PGError where error.sqlState == "23503" || error.sqlState == "23514" {
            throw RepositoryError.invalid(field: "value", message: error.message)
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
