import Foundation
import MatchCore
import MatchingEngine
import Testing
import TestSupport

/// `FORMAT json` holds for every reply: each line of each command's reply is one JSON object,
/// figures are numbers and nested values are objects or arrays.
@Suite("FORMAT json over TCP")
struct JSONFormatTests {
    /// The lines of one reply, each parsed: a header's `records` says how many follow.
    static func reply(_ client: LineClient, _ line: String) async throws -> [[String: Any]] {
        let header = try object(try await client.request(line), after: line)
        var lines = [header]
        let count = (header["records"] as? NSNumber)?.intValue ?? 0
        for _ in 0..<count {
            lines.append(try object(try #require(try await client.readLine(), "closed inside the reply to \(line)"), after: line))
        }
        return lines
    }

    static func object(_ line: String, after request: String) throws -> [String: Any] {
        let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(parsed as? [String: Any], "\(request) → not a JSON object: \(line)")
    }

    /// A JSON number, not a boolean (Foundation gives both as NSNumber).
    static func isNumber(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return !["c", "B"].contains(String(cString: number.objCType))
    }

    static func connect(_ port: Int, _ token: String) async throws -> LineClient {
        let (client, _) = try await LineClient.connectReady(port: port)
        #expect(try await client.request("FORMAT json") == #"{"ok":true,"format":"json"}"#)
        #expect(try object(try await client.request("AUTH \(token)"), after: "AUTH")["role"] as? String == "admin")
        return client
    }

    @Test func everyCommandInHelpRepliesInJSONLines() async throws {
        let registry = CommandRegistry.standard
        // The role matrix has a row for each command HELP lists; its requests run here as admin.
        #expect(Set(RoleMatrixTests.rows.map(\.command)) == Set(registry.commands.map(\.name)))
        try await TestDatabase.with { database in
            let world = try await RoleMatrixTests.makeWorld(database)
            let admin = try #require(world.tokens[RoleMatrixTests.Who.admin.rawValue])
            try await TestServer.with(database: database) { port in
                for (index, row) in RoleMatrixTests.rows.enumerated() {
                    var fresh = try await RoleMatrixTests.fresh(index: index + 1, world: world, database: database)
                    fresh.asAdmin = true
                    let client = try await Self.connect(port, admin)
                    for line in row.before {
                        #expect(try await Self.reply(client, line).first?["ok"] as? Bool == true, "\(line)")
                    }
                    // The matrix switches FORMAT back to text; here it stays json.
                    let line = row.command == "FORMAT" ? "FORMAT json" : row.line(fresh)
                    let lines = try await Self.reply(client, line)
                    await client.close()
                    let header = try #require(lines.first)
                    if row.command == "AUTH" {
                        #expect(header["ok"] as? Bool == false && header["code"] as? String == "AUTH_FAILED", "\(line)")
                    } else {
                        #expect(header["ok"] as? Bool == true, "\(line) → \(header)")
                    }
                    // The header counts the records; no other line carries `ok`.
                    #expect(lines.dropFirst().allSatisfy { $0["ok"] == nil }, "\(line)")
                }
            }
        }
    }

    @Test func figuresAreNumbersAndNestedValuesObjects() async throws {
        try await TestDatabase.with { database in
            let world = try await RoleMatrixTests.makeWorld(database)
            let admin = try #require(world.tokens[RoleMatrixTests.Who.admin.rawValue])
            let fresh = try await RoleMatrixTests.fresh(index: 1, world: world, database: database)
            try await TestServer.with(database: database) { port in
                let client = try await Self.connect(port, admin)

                let capabilities = try await Self.reply(client, "CAPA")
                #expect(capabilities[0]["what"] as? String == "capabilities")
                #expect(Self.isNumber(capabilities.first { $0["max-line-bytes"] != nil }?["max-line-bytes"]))

                let need = try await Self.reply(client, "NEED SHOW \(fresh.need)")[0]
                #expect(Self.isNumber(need["qty"]) && Self.isNumber(need["matched"]) && need["poverty"] as? Bool == false, "\(need)")

                let run = try await Self.reply(client, "MATCH RUN")[0]
                for figure in ["run", "proposals", "needs", "units", "score", "gini", "min-county-fill", "total-s"] + RunPhases.names.map({ "\($0)-s" }) {
                    #expect(Self.isNumber(run[figure]), "MATCH RUN \(figure): \(run)")
                }
                let id = try #require((run["run"] as? NSNumber)?.int64Value)

                let runs = try await Self.reply(client, "RUN LIST")
                let listed = try #require(runs.first { ($0["id"] as? NSNumber)?.int64Value == id })
                for figure in ["needs", "offers", "pairs", "units", "gini", "total-s"] + RunPhases.names.map({ "\($0)-s" }) {
                    #expect(Self.isNumber(listed[figure]), "RUN LIST \(figure): \(listed)")
                }
                let shown = try await Self.reply(client, "RUN SHOW \(id)")[0]
                let weights = try #require(shown["weights"] as? [String: Any], "\(shown)")
                #expect(weights.count == ScoreWeights.default.named.count && weights.values.allSatisfy(Self.isNumber))

                let matches = try await Self.reply(client, "MATCH LIST run=\(id)")
                let match = try #require((matches.dropFirst().first?["id"] as? NSNumber)?.int64Value, "\(matches)")
                let explanation = try await Self.reply(client, "MATCH EXPLAIN \(match)")
                let parts = try #require(explanation.compactMap { $0["parts"] as? [String: Any] }.first, "\(explanation)")
                #expect(Self.isNumber(parts["total"]) && Self.isNumber(parts["occupation"]) && parts["fit"] is String, "\(parts)")
                let alternatives = explanation.filter { $0["alternative"] != nil }
                #expect(!alternatives.isEmpty && alternatives.allSatisfy { ($0["parts"] as? [String: Any])?["total"] != nil })

                let unmet = try await Self.reply(client, "UNMET")
                #expect(unmet.count > 1 && unmet.dropFirst().allSatisfy { $0["candidates"] is [Any] && Self.isNumber($0["missing"]) })

                _ = try await Self.reply(client, "NEED UPDATE \(fresh.need) qty=12")
                let audit = try await Self.reply(client, "AUDIT target=need:\(fresh.need)")
                let changes = try #require(audit.last?["changes"] as? [String: Any], "\(audit)")
                #expect(changes["qty"] as? String == "12")

                let export = try await Self.reply(client, "NEED EXPORT limit=1")
                #expect(export[0]["what"] as? String == "needs csv" && export[0]["next"] is String)
                #expect(export.dropFirst().first?["line"] as? String == "id,county,kind,occupations,qty,from,to,priority,poverty,monitored,conditions,years,months,school,partnership,direction,status,note,private_note")

                let error = try await Self.reply(client, "NEED SHOW x")[0]
                #expect(error["ok"] as? Bool == false && error["code"] as? String == "BAD_ARG" && error["message"] is String)
                // The transport's own replies follow the session's format too.
                let tooLong = try await Self.reply(client, String(repeating: "x", count: 70_000))[0]
                #expect(tooLong["code"] as? String == "LINE_TOO_LONG")
                #expect(try await client.request("FORMAT text") == "OK format=text")
                #expect(try await client.request("PING") == "OK PONG")
                await client.close()
            }
        }
    }
}
