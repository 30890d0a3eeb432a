import Foundation
import PostgresStore
import Testing
import TestSupport

/// End to end: the built `ewmatch` binary, driven from the shell with `nc` as a user would.
@Suite("ewmatch binary with nc")
struct BinaryTests {
    /// The binary SwiftPM built beside this test bundle.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appending(path: "ewmatch").path

    /// The port in the address of the first log line holding `message`.
    static func listeningPort(in output: String, logged message: String = "listening") throws -> Int {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(message) }),
            let portText = line.split(separator: ":").last?.prefix(while: \.isNumber), let port = Int(portText)
        else { throw TestEnvironmentError("no port logged with '\(message)' in:\n\(output)") }
        return port
    }

    static func nc(_ port: Int, _ script: String) async throws -> [String] {
        let (code, output) = try await ChildProcess.run("/bin/sh", ["-c", "nc -N 127.0.0.1 \(port)"], stdin: script)
        #expect(code == 0)
        return output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    @Test func aTokenFromTheShellOpensTheServiceToNc() async throws {
        try await TestDatabase.with { database in
            let url = database.conninfo
            let (created, tokenOutput) = try await ChildProcess.run(
                Self.binary, ["token", "create", "--role", "admin", "--label", "e2e", "--database-url", url])
            #expect(created == 0)
            let token = try #require(tokenOutput.split(separator: "\n").first { $0.hasPrefix("ewm_") }.map(String.init))

            let server = try ChildProcess(Self.binary, ["serve", "--port", "0", "--database-url", url])
            let port = try Self.listeningPort(in: try await server.waitForOutput(containing: "listening"))
            let lines = try await Self.nc(
                port, "# a script piped through nc\nPING\nCOUNTY LIST\nAUTH \(token)\nWHOAMI\nPROVINCE LIST side=east\nQUIT\nPING\n")
            #expect(lines.first?.hasPrefix("OK ewmatch ") == true)
            #expect(lines[1] == "OK PONG")
            #expect(lines[2] == "ERR UNAUTHENTICATED AUTH <token> first")
            #expect(lines[3].hasPrefix("OK token="))
            #expect(lines[4].contains("role=admin") && lines[4].hasSuffix("label=e2e"))
            #expect(lines[5] == "OK 8 provinces")
            #expect(lines.last == "OK bye")

            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
            #expect(server.output.contains("all connections closed"))
        }
    }

    @Test func importFromTheShellStreamsAFileThroughTheServer() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "LineServerTests/Fixtures/needs-gb18030.csv").path
        try await TestDatabase.with { database in
            let url = database.conninfo
            let (_, tokenOutput) = try await ChildProcess.run(Self.binary, ["token", "create", "--role", "admin", "--database-url", url])
            let token = try #require(tokenOutput.split(separator: "\n").first { $0.hasPrefix("ewm_") }.map(String.init))
            let server = try ChildProcess(Self.binary, ["serve", "--port", "0", "--database-url", url])
            let port = String(try Self.listeningPort(in: try await server.waitForOutput(containing: "listening")))
            let environment: [String: String?] = ["EWMATCH_TOKEN": token]

            let (refused, refusal) = try await ChildProcess.run(
                Self.binary, ["import", "needs", fixture, "--port", port], environment: environment)
            #expect(refused == 1)
            #expect(refusal.contains("ERR BAD_ARG block line 2 is not valid utf-8"))
            let (code, output) = try await ChildProcess.run(
                Self.binary, ["import", "needs", fixture, "--encoding", "gb18030", "--port", port], environment: environment)
            #expect(code == 0)
            #expect(output.contains("OK imported 2 needs"))

            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
        }
    }

    /// SIGKILL while a run is being stored leaves no trace of it. The test holds a row lock that
    /// the run's transaction needs after it has written its run row, so the kill lands inside
    /// that transaction every time.
    @Test func aServerKilledWhileStoringARunLeavesNoPartOfIt() async throws {
        try await TestDatabase.with { database in
            let url = database.conninfo
            let (_, tokenOutput) = try await ChildProcess.run(Self.binary, ["token", "create", "--role", "admin", "--database-url", url])
            let token = try #require(tokenOutput.split(separator: "\n").first { $0.hasPrefix("ewm_") }.map(String.init))
            let server = try ChildProcess(Self.binary, ["serve", "--port", "0", "--database-url", url])
            let port = try Self.listeningPort(in: try await server.waitForOutput(containing: "listening"))
            let setup = try await Self.nc(
                port,
                """
                AUTH \(token)
                ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市
                NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30
                OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31
                MATCH RUN

                """)
            #expect(setup.last?.hasPrefix("OK run=1 ") == true, "\(setup)")

            let blocker = try await database.pool.lease(long: false)
            _ = try await database.pool.run(on: blocker.connection) { connection in
                try connection.execute(script: "BEGIN")
                try connection.query("SELECT id FROM match WHERE run = 1 FOR UPDATE")
            }
            let second = try ChildProcess("/bin/sh", ["-c", "printf 'AUTH \(token)\\nMATCH RUN\\n' | nc -N 127.0.0.1 \(port)"])
            var waiting = false
            for _ in 0..<200 where !waiting {
                waiting = try await database.pool.withConnection { connection in
                    try connection.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ewmatch' AND wait_event_type = 'Lock'"
                    ).first!.int(0) > 0
                }
                if !waiting { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(waiting, "the second run never reached its lock wait")
            server.signal(SIGKILL)
            _ = try await server.wait()
            _ = try await second.wait()
            _ = try await database.pool.run(on: blocker.connection) { try $0.execute(script: "ROLLBACK") }
            database.pool.release(blocker)

            // The orphaned backend finds its client gone and rolls back; then only run 1 exists.
            var left = 1
            for _ in 0..<200 where left > 0 {
                left = try await database.pool.withConnection { connection in
                    try connection.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ewmatch'").first!.int(0)
                }
                if left > 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            let (runs, foreign) = try await database.pool.withConnection { connection in
                let row = try connection.query("SELECT (SELECT count(*) FROM match_run), (SELECT count(*) FROM match WHERE run <> 1)").first!
                return (try row.int(0), try row.int(1))
            }
            #expect(runs == 1 && foreign == 0)

            let restarted = try ChildProcess(Self.binary, ["serve", "--port", "0", "--database-url", url])
            let newPort = try Self.listeningPort(in: try await restarted.waitForOutput(containing: "listening"))
            let after = try await Self.nc(newPort, "AUTH \(token)\nRUN LIST\n")
            #expect(after.contains("OK 1 runs"))
            restarted.signal(SIGTERM)
            #expect(try await restarted.wait() == 0)
        }
    }

    @Test func migrateReportsTheSchemaVersion() async throws {
        try await TestDatabase.with { database in
            let (code, output) = try await ChildProcess.run(Self.binary, ["migrate", "--database-url", database.conninfo])
            #expect(code == 0)
            #expect(output.contains("schema up to date"))
        }
    }

    @Test func badCommandLinesAreRefusedWithUsage() async throws {
        let (code, output) = try await ChildProcess.run(Self.binary, ["serve", "--port", "70000"])
        #expect(code != 0)
        #expect(output.contains("--port must be 0…65535"))
        let (tokenCode, tokenOutput) = try await ChildProcess.run(Self.binary, ["token", "create", "--role", "west"])
        #expect(tokenCode != 0)
        #expect(tokenOutput.contains("--scope is required for west tokens"))
    }

    /// With no database configured ewmatch runs its own PostgreSQL; a postmaster left behind by
    /// a killed ewmatch is found and handled at the next start.
    @Test func thePrivateClusterSurvivesAKilledServer() async throws {
        let dataDirectory = "/tmp/ewmatch-e2e-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let noDatabase: [String: String?] = [
            "PGHOST": nil, "PGPORT": nil, "PGUSER": nil, "PGDATABASE": nil, "DATABASE_URL": nil,
        ]
        let first = try ChildProcess(
            Self.binary, ["serve", "--port", "0", "--data-dir", dataDirectory], environment: noDatabase)
        let firstPort = try Self.listeningPort(in: try await first.waitForOutput(containing: "listening"))
        #expect(try await Self.nc(firstPort, "PING\n").last == "OK PONG")

        first.signal(SIGKILL)
        _ = try await first.wait()
        let pidFile = dataDirectory + "/pgdata/postmaster.pid"
        #expect(FileManager.default.fileExists(atPath: pidFile))

        let second = try ChildProcess(
            Self.binary, ["serve", "--port", "0", "--data-dir", dataDirectory], environment: noDatabase)
        let output = try await second.waitForOutput(containing: "listening")
        #expect(output.contains("found a postmaster left running"))
        #expect(try await Self.nc(try Self.listeningPort(in: output), "PING\n").last == "OK PONG")

        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
        #expect(second.output.contains("private PostgreSQL stopped"))
        #expect(!FileManager.default.fileExists(atPath: pidFile))
    }
}
