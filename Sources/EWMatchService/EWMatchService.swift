import EmbeddedPostgres
import LineServer
import Logging
import MatchCore
import NIOCore
import PostgresStore
import ServiceLifecycle

/// The object graph of a running ewmatch, built in one place: `ewmatch serve` runs it, and the
/// tests' server is the same graph on a port of their own.
public struct EWMatchService: Sendable {
    public let handler: CommandHandler
    public let server: LineServer<CommandHandler>
    /// In start order. A `ServiceGroup` shuts them down in reverse: the server first (commands
    /// in flight finish), then the pool, then the private cluster.
    public let services: [any Service]

    /// `ownsPool`: the pools are among the services and close with them (the tests keep theirs,
    /// which outlive the server). `readPool`: a standby's, for the reads of read-only commands.
    /// `cluster`: a private PostgreSQL this process started, stopped last.
    public init(
        pool: ConnectionPool, readPool: ConnectionPool? = nil, ownsPool: Bool, cluster: EmbeddedPostgres?, settings: ServerSettings,
        address: LineServer<CommandHandler>.Configuration, logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        handler = CommandHandler(store: PGStore(pool: pool, readPool: readPool), settings: settings, logger: logger)
        server = LineServer(configuration: address, responder: handler, logger: logger, onRunning: onRunning)
        var services: [any Service] = []
        if let cluster { services.append(PrivateClusterService(cluster: cluster, logger: logger)) }
        if ownsPool { services += [pool] + (readPool.map { [$0] } ?? []) }
        services.append(server)
        self.services = services
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
