import ArgumentParser
import EmbeddedPostgres
import Foundation
import Logging
import PostgresStore

/// Where the database is: `--database-url`/`DATABASE_URL`, else the `PG*` variables libpq reads,
/// else a private cluster under `--data-dir`.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "libpq conninfo or postgresql:// URI (default: $DATABASE_URL, then the PG* variables, then a private cluster)",
            valueName: "conninfo"))
    var databaseURL: String?

    @Option(name: .customLong("data-dir"), help: "Directory of the private PostgreSQL cluster used when no database is given.")
    var dataDirectory: String = ProcessInfo.processInfo.environment["EWMATCH_DATA_DIR"] ?? ".ewmatch"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = ProcessInfo.processInfo.environment["EWMATCH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]

    /// The conninfo to use, and the private cluster when this process started one.
    func resolve(logger: Logger) throws -> (conninfo: String, embedded: EmbeddedPostgres?, ownership: EmbeddedPostgres.Ownership?) {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            return (url, nil, nil)
        }
        if Self.libpqVariables.contains(where: { environment[$0]?.isEmpty == false }) {
            return ("", nil, nil)
        }
        let cluster = try EmbeddedPostgres(baseDirectory: URL(fileURLWithPath: dataDirectory), logger: logger)
        let ownership = try cluster.acquire()
        return (cluster.conninfo, cluster, ownership)
    }

    func makeLogger(label: String = "ewmatch") -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

/// Runs `body` with a migrated database, starting and stopping a private cluster if needed.
func withDatabase<T: Sendable>(
    _ options: DatabaseOptions, logger: Logger, poolSize: Int = 2, _ body: (ConnectionPool) async throws -> T
) async throws -> T {
    let (conninfo, embedded, ownership) = try options.resolve(logger: logger)
    let pool = ConnectionPool(conninfo: conninfo, size: poolSize, logger: logger)
    do {
        try await Migrator(pool: pool, logger: logger).migrate()
        let value = try await body(pool)
        await pool.close()
        if ownership == .owned { try embedded?.stop() }
        return value
    } catch {
        await pool.close()
        if ownership == .owned { try? embedded?.stop() }
        throw error
    }
}
