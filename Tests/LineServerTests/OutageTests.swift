import EmbeddedPostgres
import Foundation
import Synchronization
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

    /// 16 writers through a PostgreSQL restart, each keeping a ledger of what it was told: every
    /// write acknowledged `OK` is stored, none answered `UNAVAILABLE` is, and the first command
    /// sent once the database is back succeeds.
    @Test func aRestartUnderSixteenWritersLosesNoAcknowledgedWriteAndStoresNoRefusedOne() async throws {
        let base = URL(fileURLWithPath: "/tmp/ewmatch-ledger-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: base) }
        let cluster = try EmbeddedPostgres(baseDirectory: base, logger: testLogger)
        #expect(try cluster.acquire() == .owned)
        defer { try? cluster.stop() }
        let pool = ConnectionPool(conninfo: cluster.conninfo, size: 8, logger: testLogger)
        try await Migrator(pool: pool, logger: testLogger).migrate()
        let token = try await TestDatabase.adminToken(pool: pool)

        struct Ledger: Sendable {
            var acknowledged: [String] = []
            var refused: [String] = []
            var unknown: [String] = []
            var firstAfterRestart: String?
        }
        final class Phase: Sendable {
            /// 0 running, 1 stopped, 2 back.
            let value = Atomic(0)
            let writersReady = Atomic(0)
        }
        let phase = Phase()
        let ledgers = try await TestServer.with(pool: pool) { port in
            try await withThrowingTaskGroup(of: Ledger.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        var ledger = Ledger()
                        let (client, _) = try await LineClient.connectReady(port: port)
                        let auth = try await client.request("AUTH \(token)")
                        phase.writersReady.add(1, ordering: .relaxed)
                        guard auth.hasPrefix("OK ") else {
                            Issue.record("AUTH before the restart: \(auth)")
                            return ledger
                        }
                        let deadline = ContinuousClock.now + .seconds(30)
                        for index in 0..<10_000 where ContinuousClock.now < deadline {
                            let sentIn = phase.value.load(ordering: .relaxed)
                            if sentIn == 2 && ledger.firstAfterRestart != nil && ledger.acknowledged.count > 40 { break }
                            let note = "w\(writer)-\(index)"
                            let reply = try await client.request(
                                "NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-02-01 note=\(note)")
                            if sentIn == 2 && ledger.firstAfterRestart == nil { ledger.firstAfterRestart = reply }
                            if reply.hasPrefix("OK id=") {
                                ledger.acknowledged.append(note)
                            } else if reply.hasPrefix("ERR UNAVAILABLE ") {
                                ledger.refused.append(note)
                            } else if reply.hasPrefix("ERR OUTCOME_UNKNOWN ") {
                                ledger.unknown.append(note)
                            } else {
                                Issue.record("unexpected reply \(reply)")
                            }
                            if sentIn == 1 { try await Task.sleep(for: .milliseconds(20)) }
                        }
                        await client.close()
                        return ledger
                    }
                }
                for _ in 0..<600 where phase.writersReady.load(ordering: .relaxed) < 16 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(700))
                phase.value.store(1, ordering: .relaxed)
                try cluster.stop()
                try await Task.sleep(for: .milliseconds(500))
                try cluster.start()
                phase.value.store(2, ordering: .relaxed)
                var ledgers: [Ledger] = []
                for try await ledger in group { ledgers.append(ledger) }
                return ledgers
            }
        }
        let stored = Set(
            try await pool.withConnection { connection in
                try connection.query("SELECT note FROM need").rows.map { try $0.string(0) }
            })
        let acknowledged = ledgers.flatMap(\.acknowledged)
        let refused = ledgers.flatMap(\.refused)
        #expect(acknowledged.count > 100, "the writers wrote: \(acknowledged.count)")
        #expect(!refused.isEmpty, "the restart refused no write: the test did not cover the outage")
        #expect(acknowledged.filter { !stored.contains($0) }.isEmpty, "acknowledged but lost")
        #expect(refused.filter { stored.contains($0) }.isEmpty, "answered UNAVAILABLE but stored")
        for ledger in ledgers {
            #expect(ledger.firstAfterRestart?.hasPrefix("OK id=") == true, "first write after the restart: \(ledger.firstAfterRestart ?? "none")")
        }
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
