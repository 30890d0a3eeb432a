import EmbeddedPostgres
import Foundation
import PostgresStore
import Testing
import TestSupport

@Suite("PostgreSQL failover and standby reads")
struct FailoverTests {
    /// The primary dies (`pg_ctl -m immediate`) under 8 writers and the standby is promoted:
    /// ewmatch, given both hosts in one multi-host conninfo, answers `UNAVAILABLE` in between and
    /// serves again without a restart, and every write acknowledged `OK` is on the promoted server
    /// (synchronous replication), none refused is.
    @Test func thePrimaryDiesTheStandbyIsPromotedAndNoAcknowledgedWriteIsLost() async throws {
        try await ReplicatedClusters.with { clusters in
            let pool = ConnectionPool(conninfo: clusters.conninfo, size: 8, logger: testLogger)
            let token = try await TestDatabase.adminToken(pool: pool)
            let ledgers = try await TestServer.with(pool: pool) { port in
                try await WriteLedger.write(port: port, token: token, writers: 8) {
                    let client = try await LineClient.signedIn(port: port, token: token)
                    let killed = ContinuousClock.now
                    try clusters.primary.stop(mode: .immediate)
                    #expect(try await client.request("NEED LIST").hasPrefix("ERR UNAVAILABLE "))
                    try await Task.sleep(for: .milliseconds(300))
                    try clusters.standby.promote()
                    let promoted = ContinuousClock.now
                    #expect(try await client.request("NEED LIST limit=1").hasPrefix("OK "))
                    print("failover: primary killed, standby promoted after \(promoted - killed), serving again after \(ContinuousClock.now - killed)")
                    await client.close()
                }
            }
            await pool.close()
            let promoted = ConnectionPool(conninfo: clusters.standby.conninfo, size: 1, logger: testLogger)
            let stored = Set(
                try await promoted.withConnection { connection in
                    try connection.query("SELECT note FROM need").rows.map { try $0.string(0) }
                })
            await promoted.close()
            let acknowledged = ledgers.flatMap(\.acknowledged)
            print(
                "failover: \(acknowledged.count) acknowledged, \(acknowledged.filter { !stored.contains($0) }.count) lost,"
                    + " \(ledgers.flatMap(\.refused).count) refused, \(ledgers.flatMap(\.unknown).count) outcome unknown")
            WriteLedger.check(ledgers, stored: stored)
        }
    }

    /// Read-only commands read from the standby (`--read-database-url`): with the standby's
    /// replay paused, a need written through ewmatch (on the primary) is not listed until replay
    /// resumes, STATS states the standby's lag, and a token revoked on the primary stops reading
    /// at once although the standby has not replayed the revoke.
    @Test func readOnlyCommandsReadFromTheStandbyAndStillSeeARevokeAtOnce() async throws {
        try await ReplicatedClusters.with { clusters in
            let pool = ConnectionPool(conninfo: clusters.conninfo, size: 4, logger: testLogger)
            let readPool = ConnectionPool(conninfo: clusters.standby.conninfo, size: 4, logger: testLogger)
            let token = try await TestDatabase.adminToken(pool: pool)
            let revoker = try await TestDatabase.adminToken(pool: pool)
            try await TestServer.with(pool: pool, readPool: readPool) { port in
                let reader = try await LineClient.signedIn(port: port, token: token)
                let admin = try await LineClient.signedIn(port: port, token: revoker)
                let tokenID = try #require(MatchingTests.field("token", in: try await reader.request("WHOAMI")))
                // The standby has replayed the tokens (AUTH found them on the primary, so wait).
                var lag: String?
                for _ in 0..<100 where lag != "0.000" {
                    lag = MatchingTests.field("replica-lag-s", in: try await reader.request("STATS"))
                    if lag != "0.000" { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(lag == "0.000")

                _ = try await readPool.withConnection { try $0.query("SELECT pg_wal_replay_pause()") }
                let added = try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01")
                #expect(added.hasPrefix("OK id=1 "), "\(added)")
                #expect(try await reader.readRecords(after: try await reader.request("NEED LIST")).isEmpty, "the read went to the primary")
                let shown = try await reader.request("NEED SHOW 1")
                #expect(shown.hasPrefix("ERR NOT_FOUND "), "\(shown)")
                let stats = try await reader.request("STATS")
                let behind = try #require(MatchingTests.field("replica-lag-s", in: stats), "\(stats)")
                #expect((Double(behind) ?? 0) > 0, "lag while replay is paused: \(behind)")

                #expect(try await admin.request("TOKEN REVOKE \(tokenID)").hasPrefix("OK revoked"))
                #expect(try await reader.request("NEED LIST").hasPrefix("ERR AUTH_FAILED "))
                #expect(try await reader.request("STATS").hasPrefix("ERR UNAUTHENTICATED "))

                _ = try await readPool.withConnection { try $0.query("SELECT pg_wal_replay_resume()") }
                var listed: [String] = []
                for _ in 0..<100 where listed.isEmpty {
                    listed = try await admin.readRecords(after: try await admin.request("NEED LIST"))
                    if listed.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(listed.count == 1, "\(listed)")
                for client in [reader, admin] { await client.close() }
            }
            await readPool.close()
            await pool.close()
        }
    }
}
