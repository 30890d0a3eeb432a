import Foundation
import Testing
import TestSupport

/// `ewmatch match run --json` from cron: what the server wrote, as it wrote it, one JSON object
/// whatever the outcome, and the exit code saying which.
@Suite("ewmatch match run")
struct MatchRunBinaryTests {
    static func object(_ output: String) throws -> [String: Any] {
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1, "\(output)")
        let parsed = try? JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8))
        return try #require(parsed as? [String: Any], "not one JSON object: \(output)")
    }

    /// A connection signed in as `token`, after it added a need and an offer that match (20 units).
    static func signedInWithOneNeedAndOffer(port: Int, token: String) async throws -> LineClient {
        let client = try await LineClient.connectReady(port: port).0
        #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
        for line in [
            "ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市",
            "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30",
            "OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31",
        ] {
            #expect(try await client.request(line).hasPrefix("OK "), "\(line)")
        }
        return client
    }

    @Test func printsTheServersJSONErrorsIncluded() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                try await Self.signedInWithOneNeedAndOffer(port: port, token: admin).close()
                let server = ["--port", "\(port)", "--token", admin]

                let (stored, run) = try await ChildProcess.run(BinaryTests.binary, ["match", "run", "--json"] + server)
                #expect(stored == 0, "\(run)")
                let summary = try Self.object(run)
                #expect(summary["ok"] as? Bool == true && summary["run"] as? Int == 1 && summary["units"] as? Int == 20, "\(summary)")
                #expect(summary["gini"] is NSNumber && summary["fingerprint"] is String)

                let (refused, error) = try await ChildProcess.run(
                    BinaryTests.binary, ["match", "run", "--json", "--mode", "fair", "--share", "7"] + server)
                #expect(refused == 1)
                let reply = try Self.object(error)
                #expect(reply["ok"] as? Bool == false && reply["code"] as? String == "BAD_ARG", "\(reply)")

                let (unknown, denied) = try await ChildProcess.run(
                    BinaryTests.binary, ["match", "run", "--json", "--port", "\(port)", "--token", "ewm_" + String(repeating: "0", count: 40)])
                #expect(unknown == 1)
                #expect(try Self.object(denied)["code"] as? String == "AUTH_FAILED")

                let (text, line) = try await ChildProcess.run(BinaryTests.binary, ["match", "run", "--dry"] + server)
                #expect(text == 0 && line.hasPrefix("run=dry mode=optimal(score) proposals="), "\(line)")
            }
        }
    }

    /// On a terminal (`script` gives the binary one) the phases appear as they pass. The run
    /// waits in its load phase while another run, in an open batch, holds the run lock: that is
    /// when RUN PROGRESS, from a third connection, must show it.
    @Test func showsThePhasesAsTheyPassOnATerminal() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let holder = try await Self.signedInWithOneNeedAndOffer(port: port, token: admin)
                for line in ["BEGIN", "MATCH RUN"] { #expect(try await holder.request(line).hasPrefix("OK "), "\(line)") }
                let watcher = try await LineClient.connectReady(port: port).0
                #expect(try await watcher.request("AUTH \(admin)").hasPrefix("OK "))
                #expect(try await watcher.readRecords(after: try await watcher.request("RUN PROGRESS")).isEmpty)

                let command = "\(BinaryTests.binary) match run --wait 60 --port \(port) --token \(admin)"
                let cli = try ChildProcess("/usr/bin/script", ["-qec", command, "/dev/null"])
                var progress: [String] = []
                for _ in 0..<200 where progress.isEmpty {
                    progress = try await watcher.readRecords(after: try await watcher.request("RUN PROGRESS"))
                    if progress.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(progress.count == 1 && progress.first?.contains("phase=load ") == true, "\(progress)")
                #expect(progress.first?.contains("elapsed-s=") == true && progress.first?.contains("candidates-s") == false)
                try await cli.waitForOutput(containing: "load", timeout: .seconds(30))

                #expect(try await holder.request("COMMIT").hasPrefix("OK "))
                #expect(try await cli.wait() == 0, "\(cli.output)")
                let output = cli.output
                var shown = output.startIndex
                for phase in ["load", "candidates", "solve", "certificate", "explanations", "store"] {
                    let label = phase.padding(toLength: 14, withPad: " ", startingAt: 0)
                    let line = try #require(
                        output.range(of: label, range: shown..<output.endIndex), "no \(phase) line after the earlier phases:\n\(output)")
                    shown = line.upperBound
                }
                #expect(output.contains("run=2 mode=optimal(score)"), "\(output)")
                #expect(try await watcher.readRecords(after: try await watcher.request("RUN PROGRESS")).isEmpty)
            }
        }
    }
}
