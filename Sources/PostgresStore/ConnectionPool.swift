import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A fixed number of libpq connections, each leased to one job at a time, with a thread pool of
/// the same size so every lease can block without waiting for a thread. (The NIO singleton pool
/// has one thread per core and would cap concurrency at two queries here.)
///
/// Connections open lazily and are replaced when the server has gone away, so the service
/// outlives a PostgreSQL restart: jobs fail with a connection error during the outage and work
/// again afterwards.
public final class ConnectionPool: Service, Sendable {
    public let size: Int
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var idle: [PGConnection]
        var waiters: [CheckedContinuation<PGConnection, any Error>] = []
        var closed = false
    }

    public init(conninfo: String, size: Int = 8, logger: Logger) {
        precondition(size > 0)
        self.size = size
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: size)
        self.threadPool.start()
        self.state = Mutex(State(idle: (0..<size).map { _ in PGConnection(conninfo: conninfo) }))
    }

    /// Lives until graceful shutdown, then refuses new leases and closes the connections.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    public func close() async {
        let (waiters, idle) = state.withLock { state -> ([CheckedContinuation<PGConnection, any Error>], [PGConnection]) in
            state.closed = true
            defer { state.waiters.removeAll(); state.idle.removeAll() }
            return (state.waiters, state.idle)
        }
        for waiter in waiters { waiter.resume(throwing: PoolClosedError()) }
        for connection in idle { connection.disconnect() }
        try? await threadPool.shutdownGracefully()
    }

    /// Runs `body` with a live connection on the pool's own thread. A connection failure drops
    /// that connection, so the next lease opens a new one.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await threadPool.runIfActive {
            do {
                try connection.ensureConnected()
                return try body(connection)
            } catch let error as PGError where error.isConnectionFailure {
                connection.disconnect()
                throw error
            }
        }
    }

    /// Leases a live connection for longer than one call (a client's BEGIN … COMMIT batch); the
    /// caller runs work on it with `run(on:_:)` and must hand it back with `checkin(_:)`.
    public func checkout() async throws -> PGConnection {
        let connection = try await lease()
        do {
            try await threadPool.runIfActive { try connection.ensureConnected() }
            return connection
        } catch {
            release(connection)
            throw error
        }
    }

    public func checkin(_ connection: PGConnection) {
        release(connection)
    }

    /// Runs `body` on a checked-out connection, on the pool's own thread.
    public func run<T: Sendable>(on connection: PGConnection, _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await threadPool.runIfActive {
            do {
                return try body(connection)
            } catch let error as PGError where error.isConnectionFailure {
                connection.disconnect()
                throw error
            }
        }
    }

    /// `BEGIN` … `COMMIT` around `body`; any error rolls back.
    public func withTransaction<T: Sendable>(
        isolation: String = "READ COMMITTED",
        _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try connection.execute(script: "BEGIN ISOLATION LEVEL \(isolation)")
            do {
                let value = try body(connection)
                try connection.execute(script: "COMMIT")
                return value
            } catch {
                if connection.isConnected { try? connection.execute(script: "ROLLBACK") }
                throw error
            }
        }
    }

    private func lease() async throws -> PGConnection {
        enum Next { case use(PGConnection), wait, closed }
        let next = state.withLock { state -> Next in
            if state.closed { return .closed }
            if let connection = state.idle.popLast() { return .use(connection) }
            return .wait
        }
        switch next {
        case .use(let connection): return connection
        case .closed: throw PoolClosedError()
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<PGConnection, any Error>? in
                    if state.closed { return .failure(PoolClosedError()) }
                    if let connection = state.idle.popLast() { return .success(connection) }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }

    private func release(_ connection: PGConnection) {
        let waiter = state.withLock { state -> CheckedContinuation<PGConnection, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            if state.closed {
                return nil
            }
            state.idle.append(connection)
            return nil
        }
        if let waiter {
            waiter.resume(returning: connection)
        } else if state.withLock({ $0.closed }) {
            connection.disconnect()
        }
    }
}

public struct PoolClosedError: Error, CustomStringConvertible {
    public var description: String { "the connection pool is closed" }
}
