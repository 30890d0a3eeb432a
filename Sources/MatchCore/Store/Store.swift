/// The system of record as the commands use it: every command runs in one unit of work — one
/// pooled connection, and for a write one transaction — whose body is plain synchronous code
/// over the table gateways, run on the thread that holds the connection. `PostgresStore`
/// implements it over libpq; the commands never see SQL.
public protocol UnitRunner: Sendable {
    /// Reads. With `token`, the token is checked first (a revoked or expired one throws
    /// `StoreError.tokenRevoked`), on the same connection.
    func read<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T

    /// A write: the body's statements, then `audit` (which the body may complete, e.g. with the
    /// new row's id) recorded with its actor's token checked in the same statement, then commit.
    /// Any error stores nothing.
    func write<T: Sendable>(audit: AuditEntry, _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T)
        async throws -> T
}

public protocol Store: UnitRunner {
    /// A unit that spans awaits — a client's batch, an import streaming from the socket, a
    /// matching run solving off the pool's threads. It holds one connection and one transaction
    /// until `commit()` or `rollback()`. Long units share a limited part of the pool
    /// (`longUnitLimit`), so single commands are always served; past it this throws `busy` at once.
    func openLongUnit(_ isolation: Isolation) async throws -> any LongUnit

    /// NEED ADD outside a batch: concurrent submissions are stored together by one statement
    /// (group commit), each answered once its group has committed.
    func submitNeed(_ need: Need, audit: AuditEntry) async throws -> NeedInsertOutcome

    /// A read of a read-only command (`CommandSpec.readOnly`): like `read`, but the store may
    /// answer it from a standby, a little behind the primary. The token is still checked
    /// against the primary's state, so a revoke stops it at once.
    func readOnlyCommand<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T

    /// One county, for `COUNTY SHOW`: like a read-only command's read, but the store may answer
    /// it from memory, where it keeps the counties (they change seldom) and forgets each one the
    /// moment it changes, on any instance.
    func county(code: String, token: Int64?) async throws -> County?

    /// How many connections long units may hold at once, and how long a command waits for a
    /// connection before it is answered `busy`; CAPA announces both.
    var longUnitLimit: Int { get }
    var leaseTimeoutSeconds: Double { get }
}

public enum Isolation: String, Sendable {
    case readCommitted = "READ COMMITTED"
    /// One snapshot for every statement: what a matching run reads.
    case repeatableRead = "REPEATABLE READ"
}

/// A unit of work held across awaits. Reads and writes run inside its one transaction (a write's
/// audit included); nothing is stored until `commit()`.
public protocol LongUnit: UnitRunner, AnyObject {
    func commit() async throws
    /// Stores nothing. Safe to call more than once, and after a failed commit.
    func rollback() async
}

extension Store {
    /// A store with a single database reads everything there.
    public func readOnlyCommand<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try await read(token: token, body)
    }

    /// A store without a memory reads the county.
    public func county(code: String, token: Int64?) async throws -> County? {
        try await readOnlyCommand(token: token) { try $0.registry.county(code: code) }
    }

    /// A long unit for the length of `body`: committed when it returns, rolled back when it
    /// throws (or when `commit` is false, as for a dry run).
    public func withLongUnit<T: Sendable>(
        _ isolation: Isolation = .readCommitted, commit: Bool = true, _ body: (any LongUnit) async throws -> T
    ) async throws -> T {
        let unit = try await openLongUnit(isolation)
        do {
            let value = try await body(unit)
            if commit { try await unit.commit() } else { await unit.rollback() }
            return value
        } catch {
            await unit.rollback()
            throw error
        }
    }
}

/// Failures the store reports in terms the protocol can answer.
public enum StoreError: Error, Sendable, Equatable {
    /// The database cannot be reached now and the request was not carried out; the same request
    /// may work later.
    case unavailable(String)
    /// The connection broke after the commit was sent: the write may or may not be stored.
    case outcomeUnknown(String)
    case conflict(String)
    case invalid(field: String, message: String)
    /// The acting token was revoked or expired.
    case tokenRevoked
    /// All connections are taken (or a run holds the run lock); retry later.
    case busy(String)
}
