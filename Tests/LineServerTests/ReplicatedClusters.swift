import EmbeddedPostgres
import Foundation
import PostgresStore
import TestSupport

/// A primary and its streaming standby (`pg_basebackup -R`) on this machine: two private
/// clusters, each on a unix socket of its own, run as the unprivileged user when root. Once the
/// standby follows, the primary waits for it to flush every commit (`synchronous_standby_names`),
/// or to apply it with `synchronousCommit: "remote_apply"`; the standby has no such setting (it
/// was copied before), so once promoted it commits on its own. Both are stopped, whatever `body` does.
struct ReplicatedClusters: Sendable {
    let primary: EmbeddedPostgres
    let standby: EmbeddedPostgres

    /// libpq's multi-host conninfo: both servers, the writable one chosen at connect time.
    var conninfo: String {
        "host=\(primary.socketDirectory.path),\(standby.socketDirectory.path) port=\(EmbeddedPostgres.port),\(EmbeddedPostgres.port)"
            + " user=\(EmbeddedPostgres.systemUser) dbname=\(EmbeddedPostgres.databaseName) target_session_attrs=read-write"
    }

    static func with<T: Sendable>(
        synchronousCommit: String = "on", _ body: (ReplicatedClusters) async throws -> T
    ) async throws -> T {
        let base = URL(fileURLWithPath: "/tmp/ewmatch-ha-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: base) }
        // No fsync: an immediate stop kills the postmaster, not the machine, so the WAL the kernel
        // holds survives it.
        let primary = try EmbeddedPostgres(
            baseDirectory: base.appending(path: "a"),
            settings: [("fsync", "off"), ("synchronous_commit", synchronousCommit)],
            logger: testLogger)
        let standby = try EmbeddedPostgres(baseDirectory: base.appending(path: "b"), settings: [("fsync", "off")], logger: testLogger)
        defer {
            try? standby.stop(mode: .immediate)
            try? primary.stop(mode: .immediate)
        }
        try primary.start()
        let pool = ConnectionPool(conninfo: primary.conninfo, size: 1, logger: testLogger)
        do {
            try await Migrator(pool: pool, logger: testLogger).migrate()
            try standby.createStandby(of: primary)
            try standby.start()
            // Synchronous only once the standby follows: before, every commit would wait for it.
            try await pool.withConnection { connection in
                try connection.execute(script: "ALTER SYSTEM SET synchronous_standby_names = '*'")
                try connection.execute(script: "SELECT pg_reload_conf()")
            }
            // Bounded: a standby that never reports itself synchronous fails the test here.
            var state: String?
            for _ in 0..<200 where state != "sync" {
                state = try await pool.withConnection { try $0.query("SELECT sync_state FROM pg_stat_replication").first?[0] }
                if state != "sync" { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard state == "sync" else { throw TestEnvironmentError("the standby did not become synchronous: \(state ?? "not connected")") }
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
        return try await body(ReplicatedClusters(primary: primary, standby: standby))
    }
}
