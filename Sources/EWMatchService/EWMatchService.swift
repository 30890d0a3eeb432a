import EmbeddedPostgres
import LineServer
import Logging
import MatchCore
import Metrics
import MetricsEndpoint
import NIOCore
import PostgresStore
import Prometheus
import ServiceLifecycle

/// The object graph of a running ewmatch, built in one place: `ewmatch serve` runs it, and the
/// tests' server is the same graph on a port of their own.
public struct EWMatchService: Sendable {
    public let handler: CommandHandler
    public let server: LineServer<CommandHandler>
    /// In start order. A `ServiceGroup` shuts them down in reverse: the metrics endpoint and the
    /// server first (commands in flight finish), then the token watch, the pool, the private cluster.
    public let services: [any Service]

    /// `ownsPool`: the pools are among the services and close with them (the tests keep theirs,
    /// which outlive the server). `readPool`: a standby's, for the reads of read-only commands.
    /// `cluster`: a private PostgreSQL this process started, stopped last. `metrics`: where the
    /// handler and the server record (the pool records where it was told to), and the scrape
    /// endpoint's address, if any.
    public init(
        pool: ConnectionPool, readPool: ConnectionPool? = nil, ownsPool: Bool, cluster: EmbeddedPostgres?, settings: ServerSettings,
        address: LineServer<CommandHandler>.Configuration, metrics: ServiceMetrics = ServiceMetrics(),
        logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        let watch = ChangeWatch(conninfo: pool.conninfo, logger: logger)
        handler = CommandHandler(
            store: PGStore(pool: pool, readPool: readPool, watch: watch), settings: settings, logger: logger,
            metrics: CommandMetrics(factory: metrics.factory))
        server = LineServer(configuration: address, responder: handler, logger: logger, metrics: metrics.factory, onRunning: onRunning)
        var services: [any Service] = []
        if let cluster { services.append(PrivateClusterService(cluster: cluster, logger: logger)) }
        if ownsPool { services += [pool] + (readPool.map { [$0] } ?? []) }
        services += [watch, server]
        if let endpoint = metrics.endpoint {
            services.append(
                MetricsEndpoint(
                    host: endpoint.host, port: endpoint.port, registry: metrics.registry, logger: logger, onRunning: endpoint.onRunning))
        }
        self.services = services
    }
}

/// One service's metrics: a Prometheus registry of its own, the factory that records into it
/// (given to the pool, the handler and the server), and where `GET /metrics` serves it.
public struct ServiceMetrics: Sendable {
    public struct Endpoint: Sendable {
        public var host: String
        public var port: Int
        public var onRunning: @Sendable (SocketAddress) async -> Void

        public init(host: String = "127.0.0.1", port: Int, onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }) {
            self.host = host
            self.port = port
            self.onRunning = onRunning
        }
    }

    public let registry = PrometheusCollectorRegistry()
    public let factory: any MetricsFactory
    public var endpoint: Endpoint?

    public init(endpoint: Endpoint? = nil) {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Counts, not seconds: the default buckets (5 ms … 10 s) would put every group in the first.
        factory.valueHistogramBuckets["ewmatch_group_commit_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        // A national run's phases take seconds to minutes.
        factory.durationHistogramBuckets["ewmatch_run_phase_duration_seconds"] =
            [.milliseconds(10), .milliseconds(100), .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300)]
        self.factory = factory
        self.endpoint = endpoint
    }
}

/// The private cluster as a service: it runs until everything started after it has shut down,
/// then stops PostgreSQL.
struct PrivateClusterService: Service {
    let cluster: EmbeddedPostgres
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try cluster.stop()
        } catch {
            logger.error("the private PostgreSQL did not stop", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
