import Logging
import Metrics
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A fixed number of libpq connections, each leased to one unit of work at a time, with a thread
/// pool of the same size so every lease can block without waiting for a thread. (The NIO
/// singleton pool has one thread per core and would cap concurrency at two queries here.)
///
/// Every wait has a bound: a lease waits at most `leaseTimeout`, then fails with
/// `PoolBusyError`; a cancelled task stops waiting at once. Long holders (batches, imports,
/// runs) may hold at most `longLimit` connections, so the rest always serves single commands.
///
/// Connections open lazily and are replaced when the server has gone away, so the service
/// outlives a PostgreSQL restart.
public final class ConnectionPool: Service, Sendable {
    /// Where its connections go, for a connection of another kind to the same database.
    public let conninfo: String
    public let size: Int
    public let longLimit: Int
    public let leaseTimeout: Duration
    /// How often the running pool asks PostgreSQL whether it answers.
    public let probeInterval: Duration
    /// Where the pool, and the store over it, record their metrics.
    public let metricsFactory: any MetricsFactory
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let state: Mutex<State>
    private let inUse: Gauge
    private let waiting: Gauge
    /// 1 once a unit of work reached PostgreSQL, 0 once one lost it; set as work happens.
    private let reachable: Gauge

    private struct Waiter {
        var id: Int
        var long: Bool
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<PGConnection, any Error>
    }

    private struct State {
        var idle: [PGConnection]
        var waiters: [Waiter] = []
        var longHeld = 0
        var nextWaiterID = 0
        var closed = false
        /// Whether a task is timing out the waiters: one for them all while any wait, rather
        /// than a timer task per waiting lease (most of them cancelled moments later).
        var expiring = false
    }

    /// Leases of a long holder; handed back with `release(_:long:)`.
    public struct Lease: Sendable {
        public let connection: PGConnection
        public let long: Bool
    }

    public init(
        conninfo: String, size: Int = 8, longLimit: Int? = nil, leaseTimeout: Duration = .seconds(5), logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory, probeInterval: Duration = .seconds(10)
    ) {
        precondition(size > 0)
        self.conninfo = conninfo
        self.probeInterval = probeInterval
        metricsFactory = metrics
        inUse = Gauge(label: "ewmatch_pool_connections_in_use", factory: metrics)
        waiting = Gauge(label: "ewmatch_pool_waiting", factory: metrics)
        reachable = Gauge(label: "ewmatch_postgres_reachable", factory: metrics)
        self.size = size
        self.longLimit = min(size, max(1, longLimit ?? size / 2))
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: size)
        self.threadPool.start()
        self.state = Mutex(State(idle: (0..<size).map { _ in PGConnection(conninfo: conninfo) }))
        inUse.record(0)
        waiting.record(0)
    }

    /// Called with the state locked after every change, so the gauges are never recorded out of order.
    private func recordGauges(_ state: State) {
        inUse.record(size - state.idle.count)
        waiting.record(state.waiters.count)
    }

    /// Lives until graceful shutdown, then refuses new leases and closes the connections.
    /// Meanwhile it sends `SELECT 1` every `probeInterval`, so `ewmatch_postgres_reachable`
    /// stays true to the database while no work comes, and a connection that died idle is
    /// replaced before a command meets it.
    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [probeInterval] in try await Task.sleep(for: probeInterval) }
            } catch {
                break
            }
            _ = try? await withConnection { try $0.execute(script: "SELECT 1") }
        }
        await close()
    }

    public func close() async {
        let (waiters, idle) = state.withLock { state -> ([Waiter], [PGConnection]) in
            state.closed = true
            defer { state.waiters.removeAll(); state.idle.removeAll() }
            return (state.waiters, state.idle)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PoolClosedError()) }
        for connection in idle { connection.disconnect() }
        try? await threadPool.shutdownGracefully()
    }

    /// Runs `body` with a live connection on the pool's own thread (one lease, one hop).
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let lease = try await lease(long: false)
        defer { release(lease) }
        return try await run(on: lease.connection, body)
    }

    /// Runs `body` on a leased connection, on the pool's own thread, connecting first when
    /// needed — unless `reconnecting` is false, as for a transaction held across calls, which a
    /// new connection would silently leave. A connection failure drops the connection, so the
    /// next lease opens a new one.
    public func run<T: Sendable>(
        on connection: PGConnection, reconnecting: Bool = true, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await threadPool.runIfActive { [reachable] in
            do {
                if reconnecting {
                    try connection.ensureConnected()
                } else if !connection.isConnected {
                    throw PGError(sqlState: nil, message: "the connection to PostgreSQL was lost", isConnectionFailure: true)
                }
                let result = try body(connection)
                reachable.record(1)
                return result
            } catch let error as PGError where error.isConnectionFailure {
                reachable.record(0)
                connection.disconnect()
                throw error
            }
        }
    }

    /// A connection for one unit of work. A long holder beyond `longLimit` is refused at once.
    public func lease(long: Bool) async throws -> Lease {
        enum Next { case use(PGConnection), wait, closed, overLongLimit }
        let next = state.withLock { state -> Next in
            if state.closed { return .closed }
            if long && state.longHeld >= longLimit { return .overLongLimit }
            guard let connection = state.idle.popLast() else { return .wait }
            if long { state.longHeld += 1 }
            recordGauges(state)
            return .use(connection)
        }
        switch next {
        case .use(let connection): return Lease(connection: connection, long: long)
        case .closed: throw PoolClosedError()
        case .overLongLimit: throw PoolBusyError(reason: .longLimit(longLimit))
        case .wait: break
        }
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let deadline = ContinuousClock.now + leaseTimeout
        let connection = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PGConnection, any Error>) in
                let (ready, startExpiring) = state.withLock { state -> (Result<PGConnection, any Error>?, Bool) in
                    if state.closed { return (.failure(PoolClosedError()), false) }
                    if Task.isCancelled { return (.failure(CancellationError()), false) }
                    if long && state.longHeld >= longLimit { return (.failure(PoolBusyError(reason: .longLimit(longLimit))), false) }
                    if let connection = state.idle.popLast() {
                        if long { state.longHeld += 1 }
                        recordGauges(state)
                        return (.success(connection), false)
                    }
                    state.waiters.append(Waiter(id: id, long: long, deadline: deadline, continuation: continuation))
                    recordGauges(state)
                    defer { state.expiring = true }
                    return (nil, !state.expiring)
                }
                if let ready { continuation.resume(with: ready) }
                if startExpiring { Task { await self.expireWaiters() } }
            }
        } onCancel: {
            self.abandon(waiter: id, with: CancellationError())
        }
        return Lease(connection: connection, long: long)
    }

    public func release(_ lease: Lease) {
        enum Next { case handOver(Waiter), keep, disconnect }
        let next = state.withLock { state -> Next in
            if lease.long { state.longHeld -= 1 }
            if state.closed { return .disconnect }
            // A long waiter may take the connection only while long holders are under their share.
            if let index = state.waiters.firstIndex(where: { !$0.long || state.longHeld < longLimit }) {
                let waiter = state.waiters.remove(at: index)
                if waiter.long { state.longHeld += 1 }
                recordGauges(state)
                return .handOver(waiter)
            }
            state.idle.append(lease.connection)
            recordGauges(state)
            return .keep
        }
        switch next {
        case .handOver(let waiter): waiter.continuation.resume(returning: lease.connection)
        case .keep: break
        case .disconnect: lease.connection.disconnect()
        }
    }

    /// Fails each waiter whose lease timeout has passed, sleeping until the next one's, for as
    /// long as any lease waits.
    private func expireWaiters() async {
        while true {
            let (expired, next) = state.withLock { state -> ([Waiter], ContinuousClock.Instant?) in
                let now = ContinuousClock.now
                let expired = state.waiters.filter { $0.deadline <= now }
                state.waiters.removeAll { $0.deadline <= now }
                if !expired.isEmpty { recordGauges(state) }
                let next = state.waiters.map(\.deadline).min()
                if next == nil { state.expiring = false }
                return (expired, next)
            }
            for waiter in expired { waiter.continuation.resume(throwing: PoolBusyError(reason: .timeout(leaseTimeout))) }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    private func abandon(waiter id: Int, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            defer { recordGauges(state) }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }
}

public struct PoolClosedError: Error, CustomStringConvertible {
    public var description: String { "the connection pool is closed" }
}

public struct PoolBusyError: Error, CustomStringConvertible {
    public enum Reason: Sendable { case timeout(Duration), longLimit(Int) }
    public var reason: Reason

    public var description: String {
        switch reason {
        case .timeout(let wait):
            "every database connection stayed busy for \(wait.components.seconds) s; try again"
        case .longLimit(let limit):
            "\(limit) batches, imports or runs already hold the connections they may share; try again when one ends"
        }
    }
}
