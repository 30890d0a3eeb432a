import Foundation
import ArgumentParser
import Logging
import LineServer
import MatchCore
import PostgresStore
import ServiceLifecycle
import UnixSignals
import EmbeddedPostgres
import EWMatchService
import NIOCore
import CoreMetrics

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the line-protocol server (migrates the schema first).",
        discussion: """
            With no database configured, starts a private PostgreSQL cluster under --data-dir and stops \
            it on shutdown. SIGTERM or SIGINT shut down gracefully: no new connections, commands in \
            flight finish, then the pool closes. With --tls-cert and --tls-key the port speaks TLS \
            (1.2 and 1.3), and SIGHUP reads both files again for new connections. An address other \
            than loopback needs TLS, or --insecure-plaintext.
            """)

    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one and logs it).") var port: Int = 7411
    @Option(name: .customLong("pool-size"), help: "PostgreSQL connections (and their threads).") var poolSize: Int = 8
    @Option(
        name: .customLong("long-units"),
        help: "Connections that batches, imports and runs may hold at once (default: half the pool); the rest serve single commands.")
    var longUnits: Int?
    @Option(name: .customLong("lease-timeout"), help: "Seconds a command waits for a free database connection before ERR BUSY.")
    var leaseTimeout: Int = 5
    @Option(name: .customLong("max-line-bytes"), help: "Longest request line accepted.") var maximumLineLength: Int = 65_536
    @Option(name: .customLong("idle-timeout"), help: "Seconds without a request before a connection is closed.")
    var idleTimeout: Int = 300
    @Option(name: .customLong("max-connections"), help: "Connections served at once; more get ERR BUSY.")
    var maximumConnections: Int = 1_024
    @Option(name: .customLong("proposal-days"), help: "Days after which an unanswered proposal expires.")
    var proposalDays: Int = 14
    @Option(name: .customLong("auth-timeout"), help: "Seconds after connecting by which a client must have sent a good AUTH.")
    var authTimeout: Int = 30
    @Option(
        name: .customLong("data-block-timeout"),
        help: "Seconds a data block (an import) may take from its command line, plus one per --data-block-min-rate bytes received.")
    var dataBlockTimeout: Int = 60
    @Option(name: .customLong("data-block-min-rate"), help: "Bytes per second an upload must keep up on average.")
    var dataBlockMinimumRate: Int = 16_384
    @Option(
        name: .customLong("shutdown-grace"),
        help: "Seconds commands in flight get to finish after SIGTERM before they are cancelled (rolled back).")
    var shutdownGrace: Int = 10
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: the port speaks TLS (with --tls-key).")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(
        name: .customLong("insecure-plaintext"),
        help: "Listen on an address other than loopback without TLS (tokens then cross the network in clear text).")
    var insecurePlaintext = false
    @Option(name: .customLong("metrics-port"), help: "Serve Prometheus metrics at GET /metrics on this HTTP port (0 picks one).")
    var metricsPort: Int?
    @Option(name: .customLong("metrics-host"), help: "Address of the metrics port.") var metricsHost: String = "127.0.0.1"
    @Option(
        name: .customLong("read-database-url"),
        help: ArgumentHelp(
            "A standby's conninfo for the reads of read-only commands (LIST, SHOW, EXPORT, STATS, …); tokens are still checked on the primary (default: $EWMATCH_READ_DATABASE_URL; none: all on the primary)",
            valueName: "conninfo"))
    var readDatabaseURL: String?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard poolSize >= 1 else { throw ValidationError("--pool-size must be at least 1") }
        if let longUnits, !(1...poolSize).contains(longUnits) { throw ValidationError("--long-units must be 1…--pool-size") }
        guard (1...600).contains(leaseTimeout) else { throw ValidationError("--lease-timeout must be 1…600 seconds") }
        guard maximumLineLength >= 64 else { throw ValidationError("--max-line-bytes must be at least 64") }
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        guard maximumConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard proposalDays >= 1 else { throw ValidationError("--proposal-days must be at least 1") }
        guard (1...600).contains(shutdownGrace) else { throw ValidationError("--shutdown-grace must be 1…600 seconds") }
        guard (1...86_400).contains(dataBlockTimeout) else { throw ValidationError("--data-block-timeout must be 1…86400 seconds") }
        guard dataBlockMinimumRate >= 1 else { throw ValidationError("--data-block-min-rate must be at least 1 byte a second") }
        guard authTimeout >= 1 else { throw ValidationError("--auth-timeout must be at least 1 second") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let metricsPort, !(0...65_535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0…65535") }
        if tlsCertificate == nil && !insecurePlaintext && !Self.isLoopback(host) {
            throw ValidationError(
                "refusing to listen on \(host) in plain text: clients send their tokens over this port. "
                    + "Give --tls-cert and --tls-key, or --insecure-plaintext when a TLS proxy or a private network guards it")
        }
    }

    /// Whether `host` names a loopback address (127.0.0.0/8, ::1), as resolved for binding.
    static func isLoopback(_ host: String) -> Bool {
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: 0) else { return false }
        switch address {
        case .v4: return address.ipAddress?.hasPrefix("127.") == true
        case .v6: return address.ipAddress == "::1"
        case .unixDomainSocket: return false
        }
    }

    func run() async throws {
        let logger = database.makeLogger()
        let (conninfo, embedded, ownership) = try database.resolve(logger: logger)
        if ownership == .shared {
            throw ValidationError("another ewmatch is already serving from \(database.dataDirectory)")
        }
        let certificates: TLSCertificates?
        do {
            certificates = try tlsCertificate.map { try TLSCertificates(certificatePath: $0, keyPath: tlsKey ?? "") }
        } catch {
            throw ValidationError("cannot use --tls-cert \(tlsCertificate ?? "") with --tls-key \(tlsKey ?? ""): \(error)")
        }
        let metrics = ServiceMetrics(endpoint: metricsPort.map { ServiceMetrics.Endpoint(host: metricsHost, port: $0) })
        let pool = ConnectionPool(
            conninfo: conninfo, size: poolSize, longLimit: longUnits, leaseTimeout: .seconds(leaseTimeout), logger: logger,
            metrics: metrics.factory)
        let readURL = readDatabaseURL ?? ProcessInfo.processInfo.environment["EWMATCH_READ_DATABASE_URL"]
        let readPool = readURL.flatMap { $0.isEmpty ? nil : $0 }.map {
            // Its gauges would share the primary's series: the standby's pool is not measured.
            ConnectionPool(conninfo: $0, size: poolSize, leaseTimeout: .seconds(leaseTimeout), logger: logger, metrics: NOOPMetricsHandler.instance)
        }
        let cluster = ownership == .owned ? embedded : nil
        do {
            try await Migrator(pool: pool, logger: logger).migrate()
        } catch {
            await pool.close()
            await readPool?.close()
            try? cluster?.stop()
            throw error
        }
        let settings = ServerSettings(
            maximumLineLength: maximumLineLength, idleTimeoutSeconds: idleTimeout,
            maximumConnections: maximumConnections, proposalLifetimeDays: proposalDays,
            authenticationTimeoutSeconds: authTimeout, dataBlockTimeoutSeconds: dataBlockTimeout,
            dataBlockMinimumBytesPerSecond: dataBlockMinimumRate)
        let service = EWMatchService(
            pool: pool, readPool: readPool, ownsPool: true, cluster: cluster, settings: settings,
            address: .init(host: host, port: port, shutdownGrace: .seconds(shutdownGrace), tls: certificates), metrics: metrics,
            logger: logger)
        // Last, so that it is the first to stop.
        let reloader = certificates.map { [CertificateReloader(certificates: $0, logger: logger)] as [any Service] } ?? []
        let group = ServiceGroup(
            configuration: .init(services: service.services + reloader, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
