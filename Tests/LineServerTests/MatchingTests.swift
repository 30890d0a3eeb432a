import Foundation
import MatchCore
import PostgresStore
import Testing
import TestSupport

@Suite("Matching runs over TCP")
struct MatchingTests {
    /// Two western counties, two eastern enterprises, and the tokens of each side.
    struct World {
        var admin: String
        var guizhou: String  // west, county:520204
        var wuxi: String  // east, org:1
    }

    static func setUp(_ database: TestDatabase, port: Int) async throws -> World {
        let admin = try await database.adminToken()
        let client = try await LineClient.signedIn(port: port, token: admin)
        let script = [
            "ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市",
            "ORG ADD kind=enterprise name=广州电子 province=广东省 city=广州市",
            "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2026-01-01 to=2026-06-30 priority=5 poverty=30",
            "NEED ADD county=610727 kind=labor occupations=6-01 qty=15 from=2026-01-01 to=2026-06-30 priority=3",
            "OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2026-01-01 to=2026-12-31",
            "OFFER ADD org=2 kind=labor occupations=6-01,6-02 capacity=10 from=2026-03-01 to=2026-12-31",
        ]
        for line in script { #expect(try await client.request(line).hasPrefix("OK "), "\(line)") }
        let west = try await secret(try await client.request("TOKEN ISSUE role=west scope=county:520204"))
        let east = try await secret(try await client.request("TOKEN ISSUE role=east scope=org:1"))
        await client.close()
        return World(admin: admin, guizhou: west, wuxi: east)
    }

    static func secret(_ reply: String) async throws -> String {
        String(try #require(reply.split(separator: " ").first { $0.hasPrefix("secret=") }?.dropFirst(7)))
    }

    static func field(_ name: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    @Test func theWholeCycle() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let world = try await Self.setUp(database, port: port)
                let admin = try await LineClient.signedIn(port: port, token: world.admin)
                let run = try await admin.request("MATCH RUN")
                #expect(run.hasPrefix("OK run=1 mode=optimal(score)"), "\(run)")
                #expect(Self.field("units", in: run) == "30")
                let proposals = try await admin.readRecords(after: try await admin.request("MATCH LIST run=1"))
                #expect(proposals.count >= 2)
                // Each proposal pairs a need with an offer; find the one for 水城区 with 无锡.
                let mine = try #require(proposals.first { $0.contains("county=520204") && $0.contains("org=1 ") })
                let id = try #require(Self.field("id", in: mine))
                let explanation = try await admin.readRecords(after: try await admin.request("MATCH EXPLAIN \(id)"))
                #expect(explanation.contains { $0.hasPrefix("parts=") && $0.contains(" = occupation ") }, "\(explanation)")

                let west = try await LineClient.signedIn(port: port, token: world.guizhou)
                let east = try await LineClient.signedIn(port: port, token: world.wuxi)
                #expect(try await west.request("MATCH ACCEPT \(id) units=5").contains("west=accept:5"))
                let confirmed = try await east.request("MATCH ACCEPT \(id)")
                #expect(confirmed.contains("status=confirmed") && confirmed.contains("confirmed=5"), "\(confirmed)")
                #expect(try await west.request("NEED SHOW 1").contains("matched=5 open=25 "))

                // The other proposal of offer 1 (to 610727) is declined by the east side.
                let other = try #require(proposals.first { $0.contains("county=610727") && $0.contains("org=1 ") })
                let otherID = try #require(Self.field("id", in: other))
                #expect(try await east.request("MATCH DECLINE \(otherID) reason=conditions note=\"no dormitory\"").contains("status=declined"))
                #expect(try await west.request("MATCH ACCEPT \(otherID)").hasPrefix("ERR DENIED "))

                let second = try await admin.request("MATCH RUN")
                #expect(second.hasPrefix("OK run=2 "), "\(second)")
                let again = try await admin.readRecords(after: try await admin.request("MATCH LIST run=2"))
                #expect(!again.contains { $0.contains("need=2 offer=1 ") }, "a declined pair came back: \(again)")
                #expect(try await admin.request("MATCH SHOW \(id)").contains("status=confirmed"))
                let diff = try await admin.readRecords(after: try await admin.request("RUN DIFF 1 2"))
                #expect(diff.contains { $0.hasPrefix("change=removed need=2 offer=1 ") })

                let placed = try await east.request("MATCH PLACE \(id) people=4 date=2026-02-01")
                #expect(placed.contains(" people=4 ") && placed.contains(" placed-on=2026-02-01 "), "\(placed)")
                #expect(try await west.request("MATCH CANCEL \(id) reason=\"plant closed\"").contains("status=cancelled"))
                #expect(try await west.request("NEED SHOW 1").contains("matched=4 open=26 "))
                for client in [admin, west, east] { await client.close() }
            }
        }
    }

    @Test func onlyOneRunCommitsAtATime() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let world = try await Self.setUp(database, port: port)
                // Another run holds the lock: a session-level advisory lock on its own connection.
                let holder = try await database.pool.lease(long: false)
                _ = try await database.pool.run(on: holder.connection) { try $0.query("SELECT pg_advisory_lock(\(PGStore.runLockKey))") }
                let admin = try await LineClient.signedIn(port: port, token: world.admin)
                #expect(try await admin.request("MATCH RUN").hasPrefix("ERR BUSY another matching run"))
                #expect(try await admin.request("MATCH RUN wait=1").hasPrefix("ERR BUSY "))
                #expect(try await admin.request("MATCH RUN dry").hasPrefix("OK run=dry "))
                #expect(try await admin.readRecords(after: try await admin.request("NEED LIST")).count == 2)
                _ = try await database.pool.run(on: holder.connection) { try $0.query("SELECT pg_advisory_unlock(\(PGStore.runLockKey))") }
                database.pool.release(holder)
                let free = try await admin.request("MATCH RUN")
                #expect(free.hasPrefix("OK run=1 "), "\(free)")

                // Two started together: the lock lets them through one after the other or refuses one.
                async let a = LineClient.signedIn(port: port, token: world.admin).request("MATCH RUN")
                async let b = LineClient.signedIn(port: port, token: world.admin).request("MATCH RUN")
                let replies = try await [a, b]
                #expect(replies.allSatisfy { $0.hasPrefix("OK run=") || $0.hasPrefix("ERR BUSY ") }, "\(replies)")
                #expect(replies.contains { $0.hasPrefix("OK run=") })
                await admin.close()
            }
            let runs = try await database.pool.withConnection {
                try $0.query("SELECT count(*), count(DISTINCT input_hash) FROM match_run").first!
            }
            #expect(try runs.int(0) >= 2)
        }
    }

    @Test func theSameDataGivesTheSameResult() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let world = try await Self.setUp(database, port: port)
                let admin = try await LineClient.signedIn(port: port, token: world.admin)
                let first = try await admin.request("MATCH RUN")
                let second = try await admin.request("MATCH RUN")
                #expect(Self.field("fingerprint", in: first) == Self.field("fingerprint", in: second))
                #expect(Self.field("score", in: first) == Self.field("score", in: second))
                #expect(try await admin.request("RUN DIFF 1 2") == "OK 0 differences run=1 run=2")
                await admin.close()
            }
        }
    }

    @Test func runsAreForAdministratorsAndAnswersForEachSide() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let world = try await Self.setUp(database, port: port)
                let west = try await LineClient.signedIn(port: port, token: world.guizhou)
                #expect(try await west.request("MATCH RUN").hasPrefix("ERR DENIED "))
                let admin = try await LineClient.signedIn(port: port, token: world.admin)
                _ = try await admin.request("MATCH RUN")
                #expect(try await admin.request("MATCH ACCEPT 1").hasPrefix("ERR BAD_ARG side= is required"))
                #expect(try await admin.request("MATCH RUN mode=magic").hasPrefix("ERR BAD_ARG mode must be"))
                #expect(try await admin.request("MATCH RUN mode=fair share=2").hasPrefix("ERR BAD_ARG share must be"))
                let mine = try await west.readRecords(after: try await west.request("MATCH LIST"))
                #expect(mine.allSatisfy { $0.contains("county=520204") })
                await west.close()
                await admin.close()
            }
        }
    }
}
