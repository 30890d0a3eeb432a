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
}
