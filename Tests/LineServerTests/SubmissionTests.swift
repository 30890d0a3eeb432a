import Foundation
import MatchCore
import PostgresStore
import Testing
import TestSupport

@Suite("Needs, offers, batches and the audit trail over TCP")
struct SubmissionTests {
    static let need = "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30"

    static func count(_ table: String, _ database: TestDatabase) async throws -> Int {
        try await database.pool.withConnection { try $0.query("SELECT count(*) FROM \(unsafeSQL: table)").first!.int(0) }
    }

    @Test(arguments: [
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=0 from=2027-01-01 to=2027-06-30", "qty must be"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=1000001 from=2027-01-01 to=2027-06-30", "qty must be"),
        ("NEED ADD county=520204 kind=labour occupations=6-01 qty=3 from=2027-01-01 to=2027-06-30", "kind must be one of"),
        ("NEED ADD county=999999 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-06-30", "county: no county 999999"),
        ("NEED ADD county=520204 kind=labor occupations=6-99-99 qty=3 from=2027-01-01 to=2027-06-30", "occupations: unknown code 6-99-99"),
        ("NEED ADD county=520204 kind=labor occupations=welder qty=3 from=2027-01-01 to=2027-06-30", "occupations: 'welder'"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-07-01 to=2027-06-30", "from: 2027-07-01 is after to"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-02-29 to=2027-06-30", "from: '2027-02-29' is not a date"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-06-30 priority=6", "priority must be"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 to=2027-06-30", "from= is required"),
        ("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-06-30 colour=red", "unknown option 'colour'"),
    ])
    func badValuesAreRefusedNamingTheFieldAndStoreNothing(line: String, message: String) async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(token)")
                let reply = try await client.request(line)
                #expect(reply.hasPrefix("ERR BAD_ARG "), "\(reply)")
                #expect(reply.contains(message), "\(reply)")
                #expect(try await client.request("PING") == "OK PONG")
                await client.close()
            }
            #expect(try await Self.count("need", database) == 0)
        }
    }

    /// NEED ADDs from many connections are committed in shared groups; a bad one in a group is
    /// refused alone and every good one is stored once, audited once.
    /// Filters match values, not patterns: `%`, `_` and `\` in them are literal characters.
    @Test func filtersTreatLikeWildcardsAsCharacters() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                #expect(try await client.request(Self.need).hasPrefix("OK id=1 "))
                for (line, expected) in [
                    ("NEED LIST occupation=6", 1), ("NEED LIST occupation=%", 0), ("NEED LIST occupation=6-0_", 0),
                    ("AUDIT target=need", 1), ("AUDIT target=%", 0), ("AUDIT target=nee_", 0),
                ] {
                    let header = try await client.request(line)
                    let records = try await client.readRecords(after: header)
                    #expect(records.count == expected, "\(line) → \(header) \(records)")
                }
                await client.close()
            }
        }
    }

    @Test func concurrentAddsEachGetTheirOwnAnswer() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            let expectedGood = try await TestServer.with(database: database) { port in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for client in 0..<32 {
                        group.addTask {
                            let (connection, _) = try await LineClient.connectReady(port: port)
                            _ = try await connection.request("AUTH \(token)")
                            var good = 0
                            for index in 0..<20 {
                                let bad = (client * 20 + index) % 7 == 0
                                let county = bad ? "999999" : "520204"
                                let reply = try await connection.request(
                                    "NEED ADD county=\(county) kind=labor occupations=6-01 qty=\(index + 1) from=2027-01-01 to=2027-02-01 note=c\(client)i\(index)")
                                if bad {
                                    #expect(reply.hasPrefix("ERR BAD_ARG county: no county 999999"), "\(reply)")
                                } else {
                                    #expect(reply.hasPrefix("OK id=") && reply.contains("qty=\(index + 1) ") && reply.contains("note=c\(client)i\(index) "), "\(reply)")
                                    good += 1
                                }
                            }
                            await connection.close()
                            return good
                        }
                    }
                    var total = 0
                    for try await good in group { total += good }
                    return total
                }
            }
            #expect(expectedGood == (0..<640).filter { $0 % 7 != 0 }.count)
            let (needs, audits, distinctNotes) = try await database.pool.withConnection { connection in
                let row = try connection.query(
                    "SELECT (SELECT count(*) FROM need), (SELECT count(*) FROM audit_log WHERE command = 'NEED ADD'), (SELECT count(DISTINCT note) FROM need)"
                ).first!
                return (try row.int(0), try row.int(1), try row.int(2))
            }
            #expect(needs == expectedGood && audits == expectedGood && distinctNotes == expectedGood)
        }
    }

    @Test func theOtherSideSeesOpenSubmissionsWithoutPrivateNotes() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(admin)")
                #expect(try await client.request("\(Self.need) note=公开 private-note=内部").hasPrefix("OK id=1 "))
                let orgLine = try await client.request("ORG ADD kind=school name=无锡技师学院 province=江苏省 city=无锡市")
                #expect(orgLine.hasPrefix("OK id=1 "))
                let issued = try await client.request("TOKEN ISSUE role=east scope=org:1 label=school")
                let secret = try #require(issued.split(separator: " ").first { $0.hasPrefix("secret=") }?.dropFirst(7))
                await client.close()

                let (east, _) = try await LineClient.connectReady(port: port)
                #expect(try await east.request("AUTH \(secret)").contains("scope=org:1"))
                let shown = try await east.request("NEED SHOW 1")
                #expect(shown.contains("note=公开"))
                #expect(!shown.contains("内部") && !shown.contains("private-note"))
                let listed = try await east.readRecords(after: try await east.request("NEED LIST"))
                #expect(listed.count == 1 && !listed[0].contains("内部"))
                #expect(try await east.request("NEED CANCEL 1").hasPrefix("ERR DENIED "))
                await east.close()
            }
        }
    }

    @Test func aChangeThatConfirmedUnitsDependOnIsRefused() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(admin)")
                _ = try await client.request(Self.need)
                try await database.pool.withConnection { try $0.query("UPDATE need SET matched = 20, status = 'partly_matched'") }
                #expect(try await client.request("NEED UPDATE 1 qty=10").hasPrefix("ERR CONFLICT need 1: qty 10 is below its 20 confirmed units"))
                #expect(try await client.request("NEED UPDATE 1 occupations=6-02").hasPrefix("ERR CONFLICT "))
                #expect(try await client.request("NEED CANCEL 1").hasPrefix("ERR CONFLICT "))
                #expect(try await client.request("NEED UPDATE 1 qty=20").contains("status=filled"))
                #expect(try await client.request("NEED UPDATE 1 note=\"still fine\"").hasPrefix("OK "))
                await client.close()
            }
        }
    }

    @Test func everyWriteIsAuditedWithoutTheToken() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(admin)")
                _ = try await client.request(Self.need)
                _ = try await client.request("NEED UPDATE 1 qty=25")
                let issued = try await client.request("TOKEN ISSUE role=west scope=province:贵州省")
                #expect(issued.contains("scope=province:52"))
                let header = try await client.request("AUDIT target=need:1")
                let entries = try await client.readRecords(after: header)
                #expect(entries.count == 2)
                #expect(entries[0].contains("command=\"NEED ADD\"") && entries[0].contains("token=1"))
                #expect(entries[1].contains("command=\"NEED UPDATE\"") && entries[1].contains("qty"))
                let all = try await client.readRecords(after: try await client.request("AUDIT limit=1000"))
                let secret = String(try #require(issued.split(separator: " ").first { $0.hasPrefix("secret=") }?.dropFirst(7)))
                #expect(!all.contains { $0.contains(secret) || $0.contains(admin) })
                await client.close()
            }
        }
    }

    @Test func aBatchIsStoredWholeOrNotAtAll() async throws {
        try await TestDatabase.with(poolSize: 2) { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(admin)")

                #expect(try await client.request("BEGIN").hasPrefix("OK batch open"))
                #expect(try await client.request(Self.need).hasPrefix("OK "))
                #expect(try await client.request(Self.need).hasPrefix("OK "))
                #expect(try await Self.count("need", database) == 0)
                #expect(try await client.request("COMMIT") == "OK committed 2 commands")
                #expect(try await Self.count("need", database) == 2)

                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                #expect(try await client.request(Self.need).hasPrefix("OK "))
                let failed = try await client.request(Self.need.replacingOccurrences(of: "qty=30", with: "qty=0"))
                #expect(failed.hasPrefix("ERR BAD_ARG qty must be") && failed.contains("batch aborted at line 8"))
                #expect(try await client.request(Self.need).hasPrefix("ERR CONFLICT the batch failed at line 8"))
                #expect(try await client.request("COMMIT") == "ERR CONFLICT the batch failed at line 8; nothing was stored")
                #expect(try await Self.count("need", database) == 2)

                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                #expect(try await client.request(Self.need).hasPrefix("OK "))
                #expect(try await client.request("ABORT") == "OK aborted; nothing was stored")
                #expect(try await client.request("COMMIT").hasPrefix("ERR CONFLICT no batch is open"))

                // A client that leaves inside a batch stores nothing and gives its connection back.
                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                #expect(try await client.request(Self.need).hasPrefix("OK "))
                await client.close()
                // The server notices the departure on its own time (seconds when the whole suite
                // loads the machine); until then the batch still holds the long holders' share.
                for _ in 0..<3 {
                    let (other, _) = try await LineClient.connectReady(port: port)
                    _ = try await other.request("AUTH \(admin)")
                    var begin = try await other.request("BEGIN")
                    for _ in 0..<300 where begin.hasPrefix("ERR BUSY ") {
                        try await Task.sleep(for: .milliseconds(100))
                        begin = try await other.request("BEGIN")
                    }
                    #expect(begin.hasPrefix("OK "), "\(begin)")
                    #expect(try await other.request("ABORT").hasPrefix("OK "))
                    await other.close()
                }
            }
            #expect(try await Self.count("need", database) == 2)
        }
    }
}
