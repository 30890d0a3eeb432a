import EmbeddedPostgres
import Foundation
import PostgresStore
import Testing
import TestSupport

@Suite("PostgreSQL outages and the private cluster")
struct OutageTests {
    @Test func theServiceOutlivesAPostgreSQLRestart() async throws {
        let base = URL(fileURLWithPath: "/tmp/ewmatch-outage-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: base) }
        let cluster = try EmbeddedPostgres(baseDirectory: base, logger: testLogger)
        #expect(try cluster.acquire() == .owned)
        defer { try? cluster.stop() }

        if geteuid() == 0 {
            // PostgreSQL refuses root: the cluster must run as the unprivileged system user.
            let pidLine = try String(contentsOf: cluster.dataDirectory.appending(path: "postmaster.pid"), encoding: .utf8)
                .split(separator: "\n").first.map(String.init) ?? ""
            let status = try String(contentsOfFile: "/proc/\(pidLine)/status", encoding: .utf8)
            let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
            let uid = uidLine.split(separator: "\t").dropFirst().first.flatMap { UInt32($0) }
            #expect(uid != nil && uid != 0)
            #expect(uid == getpwnam(EmbeddedPostgres.systemUser)?.pointee.pw_uid)
        }

        let pool = ConnectionPool(conninfo: cluster.conninfo, size: 2, logger: testLogger)
        try await Migrator(pool: pool, logger: testLogger).migrate()
        let token = try await TestDatabase.adminToken(pool: pool)
        try await TestServer.with(pool: pool) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            #expect(try await client.request("AUTH \(token)").hasPrefix("OK token="))

            try cluster.stop()
            #expect(try await client.request("WHOAMI").hasPrefix("ERR UNAVAILABLE "))
            #expect(try await client.request("COUNTY LIST").hasPrefix("ERR UNAVAILABLE "))
            #expect(try await client.request("PING") == "OK PONG")

            try cluster.start()
            #expect(try await client.request("WHOAMI").hasPrefix("OK token="))
            #expect(try await client.request("COUNTY LIST").hasPrefix("OK "))
            await client.close()
        }
        await pool.close()
    }

    /// 16 writers through a PostgreSQL restart, each keeping a ledger of what it was told.
    @Test func aRestartUnderSixteenWritersLosesNoAcknowledgedWriteAndStoresNoRefusedOne() async throws {
        let base = URL(fileURLWithPath: "/tmp/ewmatch-ledger-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: base) }
        let cluster = try EmbeddedPostgres(baseDirectory: base, logger: testLogger)
        #expect(try cluster.acquire() == .owned)
        defer { try? cluster.stop() }
        let pool = ConnectionPool(conninfo: cluster.conninfo, size: 8, logger: testLogger)
        try await Migrator(pool: pool, logger: testLogger).migrate()
        let token = try await TestDatabase.adminToken(pool: pool)

        let ledgers = try await TestServer.with(pool: pool) { port in
            try await WriteLedger.write(port: port, token: token, writers: 16) {
                try cluster.stop()
                try await Task.sleep(for: .milliseconds(500))
                try cluster.start()
            }
        }
        let stored = Set(
            try await pool.withConnection { connection in
                try connection.query("SELECT note FROM need").rows.map { try $0.string(0) }
            })
        WriteLedger.check(ledgers, stored: stored)
        await pool.close()
    }

    @Test func aSecondProcessSharesARunningClusterInsteadOfRestartingIt() async throws {
        let base = URL(fileURLWithPath: "/tmp/ewmatch-shared-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: base) }
        let cluster = try EmbeddedPostgres(baseDirectory: base, logger: testLogger)
        #expect(try cluster.acquire() == .owned)
        defer { try? cluster.stop() }
        // flock is per open file description, so a second acquire in this process sees the lock.
        let again = try EmbeddedPostgres(baseDirectory: base, logger: testLogger)
        #expect(try again.acquire() == .shared)
        #expect(cluster.isRunning)
    }
}
