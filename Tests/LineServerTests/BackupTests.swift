import EmbeddedPostgres
import Foundation
import PostgresStore
import Testing
import TestSupport

@Suite("Backups that restore")
struct BackupTests {
    /// Every table of the schema as (rows, md5 of its rows in a fixed order), and every
    /// sequence's position: two databases with equal fingerprints hold the same data.
    static func fingerprint(_ pool: ConnectionPool) async throws -> [String: String] {
        try await pool.withConnection { connection in
            let tables = try connection.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).rows.map { try $0.string(0) }
            var prints: [String: String] = [:]
            for table in tables {
                let row = try connection.query(
                    """
                    SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))
                    FROM \(unsafeSQL: "public.\"\(table)\"") t
                    """
                ).first
                prints[table] = row?[0]
            }
            for row in try connection.query("SELECT sequencename, last_value::text FROM pg_sequences WHERE schemaname = 'public'").rows {
                prints["sequence " + (try row.string(0))] = row[1] ?? "unused"
            }
            return prints
        }
    }

    /// A database with needs, offers, a run, its proposals answered, tokens and their audit,
    /// dumped with `pg_dump -Fc` and restored with `pg_restore` into an empty one: every table
    /// and sequence is equal.
    @Test func aDumpRestoresIntoAnEmptyDatabaseWithEveryTableEqual() async throws {
        let tools = try EmbeddedPostgres.findBinDirectory()
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let world = try await MatchingTests.setUp(database, port: port)
                let admin = try await LineClient.signedIn(port: port, token: world.admin)
                #expect(try await admin.request("MATCH RUN").hasPrefix("OK run=1 "))
                let proposals = try await admin.readRecords(after: try await admin.request("MATCH LIST run=1"))
                let mine = try #require(proposals.first { $0.contains("county=520204") && $0.contains("org=1 ") })
                let id = try #require(MatchingTests.field("id", in: mine))
                let west = try await LineClient.signedIn(port: port, token: world.guizhou)
                let east = try await LineClient.signedIn(port: port, token: world.wuxi)
                #expect(try await west.request("MATCH ACCEPT \(id) units=5").hasPrefix("OK "))
                #expect(try await east.request("MATCH ACCEPT \(id)").contains("status=confirmed"))
                await west.close()
                await east.close()
                #expect(try await admin.request("PLAN SET year=2027 province=52 kind=labor units=40").hasPrefix("OK "))
                await admin.close()
            }
            let original = try await Self.fingerprint(database.pool)
            for table in ["match_run", "match", "audit_log", "api_token", "need", "offer", "plan"] {
                #expect(original[table].map { !$0.hasPrefix("0 ") } == true, "\(table) is empty: the test would compare nothing")
            }

            let dump = NSTemporaryDirectory() + "ewmatch-\(database.name).dump"
            defer { unlink(dump) }
            let (dumped, dumpOutput) = try await ChildProcess.run(
                tools.appending(path: "pg_dump").path, ["-Fc", "-f", dump, "-d", database.name])
            #expect(dumped == 0, "\(dumpOutput)")

            let restoredName = database.name + "_restored"
            let admin = ConnectionPool(conninfo: "", size: 1, logger: testLogger)
            try await admin.withConnection { try $0.execute(script: "CREATE DATABASE \(restoredName)") }
            let restored = ConnectionPool(conninfo: "dbname=\(restoredName)", size: 1, logger: testLogger)
            do {
                let (code, output) = try await ChildProcess.run(
                    tools.appending(path: "pg_restore").path, ["--exit-on-error", "--no-owner", "-d", restoredName, dump])
                #expect(code == 0, "\(output)")
                let copy = try await Self.fingerprint(restored)
                #expect(copy.count == original.count)
                for (name, value) in original.sorted(by: { $0.key < $1.key }) {
                    #expect(copy[name] == value, "\(name) differs after the restore")
                }
            } catch {
                Issue.record(error)
            }
            await restored.close()
            _ = try? await admin.withConnection { try $0.execute(script: "DROP DATABASE IF EXISTS \(restoredName) WITH (FORCE)") }
            await admin.close()
        }
    }
}
