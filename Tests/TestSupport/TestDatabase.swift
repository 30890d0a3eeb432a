import Foundation
import Logging
import MatchCore
import MatchingEngine
import Metrics
import PostgresStore

/// A fresh, migrated database on the test PostgreSQL for one test, dropped afterwards, so tests
/// run in parallel without seeing each other's rows.
///
/// The server comes from the environment that `./deploy/test` sets up (`PGHOST`, `PGPORT`,
/// `PGUSER`). Without it the tests fail with a message saying so: a skipped database test would
/// count for nothing.
public struct TestDatabase: Sendable {
    public let name: String
    public let conninfo: String
    public let pool: ConnectionPool

    public static func environmentConninfo() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard environment["PGHOST"]?.isEmpty == false else {
            throw TestEnvironmentError(
                "no test PostgreSQL: PGHOST is not set. Run the suite with ./deploy/test, which starts one.")
        }
        return ""
    }

    /// Creates the database, migrates it and runs `body`; drops it whatever happens. The pool
    /// records its metrics with `metrics`.
    public static func with<T: Sendable>(
        poolSize: Int = 4, leaseTimeout: Duration = .seconds(5), migrated: Bool = true,
        metrics: any MetricsFactory = MetricsSystem.factory, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        _ = try environmentConninfo()
        let name = "ewm_test_\(UInt64.random(in: 0 ... .max))"
        let admin = ConnectionPool(conninfo: "", size: 1, logger: testLogger)
        try await admin.withConnection { try $0.execute(script: "CREATE DATABASE \(name)") }
        let conninfo = "dbname=\(name)"
        let pool = ConnectionPool(conninfo: conninfo, size: poolSize, leaseTimeout: leaseTimeout, logger: testLogger, metrics: metrics)
        let database = TestDatabase(name: name, conninfo: conninfo, pool: pool)
        do {
            if migrated { try await Migrator(pool: pool, logger: testLogger).migrate() }
            let value = try await body(database)
            await database.drop(admin: admin)
            return value
        } catch {
            await database.drop(admin: admin)
            throw error
        }
    }

    private func drop(admin: ConnectionPool) async {
        await pool.close()
        _ = try? await admin.withConnection { [name] in try $0.execute(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        await admin.close()
    }

    /// An admin token stored in this database, returned as its secret.
    public func adminToken() async throws -> String {
        try await Self.adminToken(pool: pool)
    }

    public static func adminToken(pool: ConnectionPool) async throws -> String {
        try await token(role: .admin, scope: "", label: "test", pool: pool).secret
    }

    /// A token stored in this database, as the shell's bootstrap makes one.
    public func token(role: Role, scope: String, label: String) async throws -> (secret: String, principal: Principal) {
        try await Self.token(role: role, scope: scope, label: label, pool: pool)
    }

    static func token(role: Role, scope: String, label: String, pool: ConnectionPool) async throws -> (secret: String, principal: Principal) {
        let secret = TokenSecret.generate()
        let principal = try await PGStore(pool: pool).bootstrap { db in
            try TokenScopes.createFromShell(
                secret: secret, role: role, scope: scope, label: label, expiresInDays: nil, command: "test setup", in: db)
        }
        return (secret, principal)
    }
}

public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public let testLogger: Logger = {
    var logger = Logger(label: "ewmatch-test")
    logger.logLevel = ProcessInfo.processInfo.environment["EWMATCH_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// The engine's default weights in the form a stored run keeps them, for tests that insert runs.
public let storedDefaultWeights = "{" + ScoreWeights.default.named.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
