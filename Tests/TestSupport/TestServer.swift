import CommandProtocol
import EWMatchService
import Logging
import LineServer
import MatchCore
import NIOCore
import PostgresStore
import ServiceLifecycle

/// Runs the real `LineServer` on port 0 in a `ServiceGroup` (the Hummingbird live-test pattern),
/// gives `body` the port, then shuts down gracefully.
public enum TestServer {
    public static func with<T: Sendable>(
        database: TestDatabase,
        settings: ServerSettings = ServerSettings(),
        tls: TLSCertificates? = nil,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        try await with(pool: database.pool, settings: settings, tls: tls, body)
    }

    public static func with<T: Sendable>(
        pool: ConnectionPool,
        readPool: ConnectionPool? = nil,
        settings: ServerSettings = ServerSettings(),
        tls: TLSCertificates? = nil,
        metrics: ServiceMetrics = ServiceMetrics(),
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        try await run(
            { onRunning in
                EWMatchService(
                    pool: pool, readPool: readPool, ownsPool: false, cluster: nil, settings: settings, address: .init(host: "127.0.0.1", port: 0, tls: tls),
                    metrics: metrics, logger: testLogger, onRunning: onRunning
                ).services
            }, logger: testLogger, body)
    }

    /// The server with its metrics endpoint on a port of its own: `body` gets the protocol's
    /// port and the metrics port. Give `pool` the same `metrics.factory` to see its series too.
    public static func withMetrics<T: Sendable>(
        pool: ConnectionPool,
        metrics: ServiceMetrics,
        _ body: @Sendable (_ port: Int, _ metricsPort: Int) async throws -> T
    ) async throws -> T {
        let (metricsPorts, continuation) = AsyncStream.makeStream(of: Int.self)
        var metrics = metrics
        metrics.endpoint = .init(port: 0) { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        return try await with(pool: pool, metrics: metrics) { port in
            var iterator = metricsPorts.makeAsyncIterator()
            guard let metricsPort = await iterator.next() else { throw LineClientError("the metrics endpoint did not start") }
            return try await body(port, metricsPort)
        }
    }

    /// The server for any responder, on 127.0.0.1.
    public static func with<Responder: LineResponder, T: Sendable>(
        responder: Responder,
        logger: Logger = testLogger,
        tls: TLSCertificates? = nil,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        try await run(
            { onRunning in
                [LineServer(configuration: .init(host: "127.0.0.1", port: 0, tls: tls), responder: responder, logger: logger, onRunning: onRunning)]
            }, logger: logger, body)
    }

    /// Runs the services `make` builds (given what to call once the server listens), gives
    /// `body` the port, then shuts them down gracefully.
    static func run<T: Sendable>(
        _ make: (@escaping @Sendable (SocketAddress) async -> Void) -> [any Service], logger: Logger,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let services = make { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw LineClientError("server did not start") }
            do {
                let value = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Addresses `withShutdownControl` listens on, one per test that uses it: no other test binds
    /// them, so once the server is down nothing can answer there, whatever port number parallel
    /// tests are given.
    public static let isolatedHost = "127.0.0.2"
    public static let secondIsolatedHost = "127.0.0.3"
    public static let thirdIsolatedHost = "127.0.0.4"

    /// Runs the server inside `body`'s control: `body` gets the port and a trigger that shuts the
    /// server down gracefully and returns once `run()` has returned.
    public static func withShutdownControl(
        database: TestDatabase,
        settings: ServerSettings = ServerSettings(),
        host: String = isolatedHost,
        shutdownGrace: Duration = .seconds(10),
        _ body: @Sendable (Int, @Sendable () async throws -> Void) async throws -> Void
    ) async throws {
        try await runWithShutdownControl(
            { onRunning in
                EWMatchService(
                    pool: database.pool, ownsPool: false, cluster: nil, settings: settings, address: .init(host: host, port: 0, shutdownGrace: shutdownGrace),
                    logger: testLogger, onRunning: onRunning
                ).services
            }, body)
    }

    public static func withShutdownControl<Responder: LineResponder>(
        responder: Responder,
        host: String,
        tls: TLSCertificates? = nil,
        _ body: @Sendable (Int, @Sendable () async throws -> Void) async throws -> Void
    ) async throws {
        try await runWithShutdownControl(
            { onRunning in
                [LineServer(configuration: .init(host: host, port: 0, tls: tls), responder: responder, logger: testLogger, onRunning: onRunning)]
            }, body)
    }

    static func runWithShutdownControl(
        _ make: (@escaping @Sendable (SocketAddress) async -> Void) -> [any Service],
        _ body: @Sendable (Int, @Sendable () async throws -> Void) async throws -> Void
    ) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let services = make { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [], logger: testLogger))
        let (finished, finishedContinuation) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { finishedContinuation.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw LineClientError("server did not start") }
            try await body(port) {
                await group.triggerGracefulShutdown()
                for await _ in finished {}
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
