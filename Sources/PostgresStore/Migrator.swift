import Logging

/// One numbered schema change from `sql/NNN_name.sql`, compiled into the binary by the EmbedSQL
/// build plugin.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
}

/// Applies the embedded migrations in order, each in its own transaction, recording them in
/// `schema_migration`. A session-level advisory lock makes two instances starting together
/// take turns instead of racing.
public struct Migrator: Sendable {
    public static let all: [Migration] = embeddedMigrations.sorted { $0.version < $1.version }
    /// An arbitrary constant: the advisory lock key for migrations ("ewmg").
    static let lockKey: Int64 = 0x6577_6D67

    private let pool: ConnectionPool
    private let logger: Logger
    private let migrations: [Migration]

    /// - Parameter migrations: all of them; a test gives fewer to see a later one meet old rows.
    public init(pool: ConnectionPool, logger: Logger, migrations: [Migration] = Migrator.all) {
        self.pool = pool
        self.logger = logger
        self.migrations = migrations
    }

    /// Returns the versions it applied (empty when the schema was up to date).
    @discardableResult
    public func migrate() async throws -> [Int] {
        let logger = self.logger
        return try await pool.withConnection { connection in
            try connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))") }
            try connection.execute(
                script: """
                    CREATE TABLE IF NOT EXISTS schema_migration (
                        version     integer PRIMARY KEY,
                        name        text NOT NULL,
                        checksum    text NOT NULL,
                        applied_at  timestamptz NOT NULL DEFAULT now()
                    )
                    """)
            var applied: [Int: String] = [:]
            for row in try connection.query("SELECT version, checksum FROM schema_migration").rows {
                applied[try row.int(0)] = try row.string(1)
            }
            var newlyApplied: [Int] = []
            for migration in migrations {
                let checksum = Self.checksum(migration.sql)
                if let recorded = applied[migration.version] {
                    guard recorded == checksum else {
                        throw MigrationError(
                            "migration \(migration.name) was changed after it was applied; add a new migration instead")
                    }
                    continue
                }
                try connection.execute(script: "BEGIN")
                do {
                    try connection.execute(script: migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migration (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(checksum))"
                    )
                    try connection.execute(script: "COMMIT")
                } catch {
                    try? connection.execute(script: "ROLLBACK")
                    throw MigrationError("migration \(migration.name) failed: \(error)")
                }
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                newlyApplied.append(migration.version)
            }
            return newlyApplied
        }
    }

    /// FNV-1a over the file's bytes: enough to notice an edited migration, no crypto needed.
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
