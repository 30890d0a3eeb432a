import Metrics
import MatchCore
import Synchronization

/// The system of record: units of work over the connection pool. A unit is one lease and one
/// hop to the pool's thread; its body runs there, synchronously, over the table gateways.
public struct PGStore: Store {
    let pool: ConnectionPool
    /// A standby's pool for the reads of read-only commands; nil: they read from `pool`.
    let readPool: ConnectionPool?
    /// Group commit for NEED ADD outside batches.
    private let needWriter: WriteCombiner<NeedSubmission, NeedInsertOutcome>
    /// The tokens known valid, so reads skip their check, and the counties; nil: every read
    /// goes to PostgreSQL.
    let watch: ChangeWatch?

    public init(pool: ConnectionPool, readPool: ConnectionPool? = nil, watch: ChangeWatch? = nil) {
        self.pool = pool
        self.readPool = readPool
        self.watch = watch
        // One statement per group: it is its own transaction, committed before anyone hears OK.
        // Inside BEGIN … COMMIT rather than on its own, so that a connection lost before the
        // commit is known to have stored nothing (UNAVAILABLE, or a retry on a fresh connection).
        // One group at a time: concurrent groups would queue on the summary rows that the need
        // table's triggers keep (locked to the commit), so the next group gathers instead —
        // bench/service.sh measured 7.3 k/s at 32 clients against 4.7 k/s with four.
        // The group's statement is one text for every group size, and its generic plan serves
        // them all (tokens by key, the few counties and occupations hashed once per statement:
        // EXPLAIN checked). Left to choose, PostgreSQL planned it afresh for each group, about
        // 0.8 ms of a one-row NEED ADD, as each plan for the arrays' actual lengths looked
        // cheaper than the generic one.
        let groupSizes = Recorder(label: "ewmatch_group_commit_size", factory: pool.metricsFactory)
        self.needWriter = WriteCombiner(concurrentGroups: 1, groupSizes: groupSizes) { submissions in
            try await pool.withConnection { connection in
                try Self.retryingStaleConnection(connection) {
                    try Self.transaction(on: connection, isolation: .readCommitted, genericPlans: true, watch: watch) {
                        try PGNeeds(connection: connection).insert(submissions.map(\.need), audits: submissions.map(\.audit))
                            .map { .success($0) }
                    }
                }
            }
        }
    }

    /// The advisory lock a matching run holds while it stores (ewmatch's own key space).
    public static let runLockKey = PGMatches.runLockKey

    public var longUnitLimit: Int { pool.longLimit }
    public var leaseTimeoutSeconds: Double { Double(pool.leaseTimeout.components.seconds) }

    static func gateways(_ connection: PGConnection) -> Gateways {
        Gateways(
            tokens: PGTokens(connection: connection), audit: PGAudit(connection: connection),
            registry: PGRegistry(connection: connection), needs: PGNeeds(connection: connection),
            offers: PGOffers(connection: connection), matches: PGMatches(connection: connection),
            placements: PGPlacements(connection: connection), reports: PGReports(connection: connection), requests: PGRequests(connection: connection))
    }

    public func read<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try await inUnit { connection in
            if let token, try !isValid(token, on: connection) { throw StoreError.tokenRevoked }
            return try body(Self.gateways(connection))
        }
    }

    /// A read's token check: from the watch's memory when it knows the token, else one query.
    /// (Writes check their token in the statement that records their audit entry.)
    private func isValid(_ token: Int64, on connection: PGConnection) throws -> Bool {
        let tokens = PGTokens(connection: connection)
        guard let watch else { return try tokens.isValid(token) }
        return try watch.isValid(token) { try tokens.validity(token) }
    }

    /// On the standby, after the token check on the primary: a revoke replicates late (or not at
    /// all while the standby's replay waits), and must stop the token at once.
    public func readOnlyCommand<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        guard let readPool else { return try await read(token: token, body) }
        if let token, watch?.knowsValid(token) != true {
            guard try await inUnit(pool, { try isValid(token, on: $0) }) else { throw StoreError.tokenRevoked }
        }
        return try await inUnit(readPool) { try body(Self.gateways($0)) }
    }

    /// From memory when the watch has both the county and the token: no lease, no thread hop, no
    /// round trip. Otherwise from the primary (a standby's older row must not be remembered).
    public func county(code: String, token: Int64?) async throws -> County? {
        guard let watch else { return try await readOnlyCommand(token: token) { try $0.registry.county(code: code) } }
        if token.map(watch.knowsValid) ?? true, let county = watch.counties.known(code) { return county }
        return try await read(token: token) { gateways in try watch.counties.value(code) { try gateways.registry.county(code: code) } }
    }

    public func write<T: Sendable>(audit: AuditEntry, _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T)
        async throws -> T
    {
        try await inUnit { connection in
            try Self.transaction(on: connection, isolation: .readCommitted, watch: watch) {
                try Self.step(audit: audit, on: connection, body)
            }
        }
    }

    /// A transaction with no token and no audit of its own: for the shell's bootstrap
    /// (`ewmatch token create`), which has no principal yet and records its own audit entry.
    public func bootstrap<T: Sendable>(_ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try await inUnit { connection in
            try Self.transaction(on: connection, isolation: .readCommitted, watch: watch) { try body(Self.gateways(connection)) }
        }
    }

    public func openLongUnit(_ isolation: Isolation) async throws -> any LongUnit {
        try await Self.translatingErrors {
            let lease = try await pool.lease(long: true)
            do {
                try await pool.run(on: lease.connection) { connection in
                    try Self.retryingStaleConnection(connection) {
                        try connection.execute(script: "BEGIN ISOLATION LEVEL \(isolation.rawValue)")
                    }
                }
            } catch {
                pool.release(lease)
                throw error
            }
            return PGLongUnit(pool: pool, lease: lease, watch: watch)
        }
    }

    public func submitNeed(_ need: Need, audit: AuditEntry) async throws -> NeedInsertOutcome {
        try await Self.translatingErrors { try await needWriter.submit(NeedSubmission(need: need, audit: audit)) }
    }

    /// One lease, one hop to the pool's thread. A cancelled task cancels the statement running.
    private func inUnit<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await inUnit(pool, body)
    }

    private func inUnit<T: Sendable>(_ pool: ConnectionPool, _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await Self.translatingErrors {
            let lease = try await pool.lease(long: false)
            defer { pool.release(lease) }
            return try await withTaskCancellationHandler {
                try await pool.run(on: lease.connection) { connection in
                    try Self.retryingStaleConnection(connection) { try body(connection) }
                }
            } onCancel: {
                lease.connection.cancelRunningStatement()
            }
        }
    }

    /// A pooled connection can have died while idle (PostgreSQL restarted) without libpq
    /// noticing until it is used. A unit that fails that way before its commit was sent stored
    /// nothing, so it runs once more on a fresh connection: the first command after an outage
    /// succeeds instead of answering UNAVAILABLE.
    static func retryingStaleConnection<T>(_ connection: PGConnection, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PGError where error.isConnectionFailure {
            connection.disconnect()
            try connection.ensureConnected()
            return try body()
        }
    }

    /// `genericPlans`: the transaction's prepared statements run their generic plans instead of
    /// plans made for each call's values (SET LOCAL, sent with BEGIN in its round trip). Only
    /// where chosen: the `(… IS NULL OR column = …)` filters of most queries need plans made
    /// for their values.
    static func transaction<T>(
        on connection: PGConnection, isolation: Isolation, genericPlans: Bool = false, watch: ChangeWatch?, _ body: () throws -> T
    ) throws -> T {
        let begin = isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
        try connection.execute(script: genericPlans ? begin + "; SET LOCAL plan_cache_mode = force_generic_plan" : begin)
        do {
            let value = try body()
            try commit(connection, watch: watch)
            return value
        } catch {
            rollback(connection)
            throw error
        }
    }

    /// A connection lost while COMMIT was on its way leaves the outcome unknown. Committed or
    /// not, what the transaction changed of the remembered rows is forgotten before anyone hears.
    static func commit(_ connection: PGConnection, watch: ChangeWatch?) throws {
        defer { watch?.heard(connection.takeChanges()) }
        do {
            try connection.execute(script: "COMMIT")
        } catch let error as PGError where error.isConnectionFailure {
            throw StoreError.outcomeUnknown(error.message)
        }
    }

    /// Nothing changed, so nothing is to be forgotten.
    static func rollback(_ connection: PGConnection) {
        _ = connection.takeChanges()
        if connection.isConnected { try? connection.execute(script: "ROLLBACK") }
    }

    /// A write's body, then its audit entry, which checks the actor's token in the same statement.
    static func step<T>(audit: AuditEntry, on connection: PGConnection, _ body: (Gateways, inout AuditEntry) throws -> T) throws
        -> T
    {
        let gateways = gateways(connection)
        var entry = audit
        let value = try body(gateways, &entry)
        guard try gateways.audit.record(entry) else { throw StoreError.tokenRevoked }
        return value
    }

    /// Database failures in the protocol's terms: an outage is `unavailable` (retryable), a
    /// constraint the request broke is a conflict or a bad argument.
    static func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PGError where error.isConnectionFailure {
            throw StoreError.unavailable(error.message)
        } catch is PoolClosedError {
            throw StoreError.unavailable("the server is shutting down")
        } catch is CancellationError {
            throw StoreError.unavailable("the command was cancelled: the server is shutting down")
        } catch let error as PoolBusyError {
            throw StoreError.busy(error.description)
        } catch let error as PGError where error.sqlState == "57014" {
            throw StoreError.unavailable("the command was cancelled: \(error.message)")
        } catch let error as PGError where error.sqlState == "40001" || error.sqlState == "40P01" {
            throw StoreError.busy("a concurrent change got in the way: \(error.message); try again")
        } catch let error as PGError where error.sqlState == "23505" {
            throw StoreError.conflict("already exists: \(error.message)")
        } catch let error as PGError where error.sqlState == "23503" || error.sqlState == "23514" {
            throw StoreError.invalid(field: "value", message: error.message)
        }
    }
}

/// A unit of work held across awaits: one leased connection, one open transaction.
final class PGLongUnit: LongUnit {
    private let pool: ConnectionPool
    private let lease: ConnectionPool.Lease
    private let watch: ChangeWatch?
    /// Set once committed or rolled back: the connection goes back to the pool exactly once.
    private let ended = Atomic<Bool>(false)

    init(pool: ConnectionPool, lease: ConnectionPool.Lease, watch: ChangeWatch?) {
        self.pool = pool
        self.lease = lease
        self.watch = watch
    }

    func read<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try await onConnection { connection in
            let gateways = PGStore.gateways(connection)
            if let token, try !gateways.tokens.isValid(token) { throw StoreError.tokenRevoked }
            return try body(gateways)
        }
    }

    func write<T: Sendable>(audit: AuditEntry, _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T)
        async throws -> T
    {
        try await onConnection { connection in try PGStore.step(audit: audit, on: connection, body) }
    }

    func commit() async throws {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else {
            throw StoreError.conflict("the unit of work has already ended")
        }
        defer { pool.release(lease) }
        try await PGStore.translatingErrors {
            try await pool.run(on: lease.connection, reconnecting: false) { [watch] in try PGStore.commit($0, watch: watch) }
        }
    }

    func rollback() async {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = try? await pool.run(on: lease.connection, reconnecting: false) { connection in
            connection.copyAbort("the unit of work was rolled back")
            PGStore.rollback(connection)
        }
        pool.release(lease)
    }

    private func onConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        guard !ended.load(ordering: .acquiring) else { throw StoreError.conflict("the unit of work has already ended") }
        let connection = lease.connection
        return try await PGStore.translatingErrors {
            try await withTaskCancellationHandler {
                try await pool.run(on: connection, reconnecting: false, body)
            } onCancel: {
                connection.cancelRunningStatement()
            }
        }
    }
}

/// A NEED ADD waiting for its group's commit.
struct NeedSubmission: Sendable {
    var need: Need
    var audit: AuditEntry
}
