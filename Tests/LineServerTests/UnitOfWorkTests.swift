import Foundation
import MatchCore
import PostgresStore
import Testing
import TestSupport

/// One command is one unit of work: one backend, one transaction, a handful of statements — as
/// PostgreSQL itself logs them with `log_statement = all`. Serialized: the tests read one server
/// log, and only this suite's databases log statements.
@Suite("One command, one unit of work", .serialized)
struct UnitOfWorkTests {
    /// The statements PostgreSQL logged for this test's database while `body` ran, by backend.
    static func loggedStatements(_ database: TestDatabase, during body: () async throws -> Void) async throws -> [String: [String]] {
        guard let directory = ProcessInfo.processInfo.environment["PGHOST"] else {
            throw TestEnvironmentError("PGHOST is not set; run the suite with ./deploy/test")
        }
        let log = URL(fileURLWithPath: directory).appendingPathComponent("postgres.log")
        guard FileManager.default.fileExists(atPath: log.path) else {
            throw TestEnvironmentError("no server log at \(log.path): ./deploy/test's PostgreSQL writes one there")
        }
        // Before the connections are replaced: the watch may listen again before they all are.
        let start = try FileHandle(forReadingFrom: log).seekToEnd()
        // Only new sessions read the setting: every connection of the pool is replaced (from
        // outside it, so none is spared).
        let admin = ConnectionPool(conninfo: "", size: 1, logger: testLogger)
        _ = try await admin.withConnection { connection in
            try connection.execute(script: "ALTER DATABASE \(database.name) SET log_statement = 'all'")
            return try connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database.name)")
        }
        await admin.close()
        func loggedSinceStart() throws -> String {
            let handle = try FileHandle(forReadingFrom: log)
            try handle.seek(toOffset: start)
            return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        }
        // The server's change watch lost its connection too: it must listen again before the body
        // runs, or the body's reads would check their token in PostgreSQL while it reconnects.
        let listen = "statement: LISTEN ewmatch_token; LISTEN ewmatch_county"
        for _ in 0..<200 where try !loggedSinceStart().contains(listen) { try await Task.sleep(for: .milliseconds(50)) }
        guard try loggedSinceStart().contains(listen) else { throw TestEnvironmentError("the server's change watch did not listen again") }
        try await body()
        try await Task.sleep(for: .milliseconds(200))
        let text = try loggedSinceStart()
        var byBackend: [String: [String]] = [:]
        // "2026-12-02 04:30:00.123 UTC [12345] LOG:  statement: BEGIN" or "… LOG:  execute ewm3: SELECT …"
        for line in text.split(separator: "\n") {
            guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]"),
                let logged = line.range(of: "] LOG:  ")
            else { continue }
            let message = line[logged.upperBound...]
            guard message.hasPrefix("statement: ") || message.hasPrefix("execute ") else { continue }
            byBackend[String(line[line.index(after: open)..<close]), default: []].append(String(message))
        }
        byBackend = byBackend.filter { $0.value != [listen] }
        if byBackend.isEmpty { Issue.record("no statement was logged; the log said: \(text.suffix(2_000))") }
        return byBackend
    }

    @Test func needUpdateIsOneTransactionOfAtMostFiveStatementsOnOneBackend() async throws {
        try await TestDatabase.with { database in
            let token = try await database.token(role: .west, scope: "county:520204", label: "水城区").secret
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                let added = try await client.request(
                    "NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01")
                #expect(added.hasPrefix("OK id=1 "), "\(added)")
                let statements = try await Self.loggedStatements(database) {
                    let updated = try await client.request("NEED UPDATE 1 qty=4")
                    #expect(updated.hasPrefix("OK id=1 ") && updated.contains(" qty=4 "), "\(updated)")
                }
                #expect(statements.count == 1, "\(statements)")
                let logged = statements.first?.value ?? []
                #expect(logged.count <= 5, "\(logged)")
                #expect(logged.first == "statement: BEGIN", "\(logged)")
                #expect(logged.last == "statement: COMMIT", "\(logged)")
                #expect(logged.filter { $0.contains("BEGIN") }.count == 1)
                await client.close()
            }
        }
    }

    /// The first read checks the token and reads the county in PostgreSQL; from then on the
    /// server remembers both (kept true by their tables' notifications) and answers from memory.
    @Test func anAuthenticatedCountyShowNeedsNoStatementOnceTheTokenAndTheCountyAreKnown() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                let logged = try await Self.loggedStatements(database) {
                    for _ in 0..<3 {
                        let shown = try await client.request("COUNTY SHOW 520204")
                        #expect(shown.hasPrefix("OK code=520204 "), "\(shown)")
                    }
                }.values.flatMap { $0 }
                #expect(logged.count == 2, "\(logged)")
                #expect(logged.filter { $0.contains("api_token") }.count == 1 && logged.filter { $0.contains("FROM county") }.count == 1, "\(logged)")
                #expect(!logged.contains { $0.contains("BEGIN") }, "a read needs no transaction: \(logged)")
                await client.close()
            }
        }
    }
}
