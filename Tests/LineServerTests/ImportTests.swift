import Foundation
import PostgresStore
import Testing
import TestSupport

@Suite("Bulk import and export over TCP")
struct ImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")
    static let header = "county,kind,occupations,qty,from,to,priority,poverty,note"

    static func rows(_ count: Int, badAt: Int? = nil) -> String {
        var text = header + "\n"
        for index in 1...count {
            let qty = index == badAt ? "lots" : String(index % 200 + 1)
            text += "520204,labor,6-01;6-02,\(qty),2027-01-01,2027-06-30,\(index % 5 + 1),\(index % 2 == 0 ? "yes" : "no"),row \(index)\n"
        }
        return text
    }

    static func needCount(_ database: TestDatabase) async throws -> Int {
        try await database.pool.withConnection { try $0.query("SELECT count(*) FROM need").first!.int(0) }
    }

    @Test func aGoodFileIsStoredWholeAndAudited() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                try await client.send("NEED IMPORT\n" + Self.rows(2_000) + ".\n")
                #expect(try await client.readLine() == "OK imported 2000 needs")
                let audit = try await client.readRecords(after: try await client.request("AUDIT target=need"))
                #expect(audit.count == 1 && audit[0].contains("command=\"NEED IMPORT\"") && audit[0].contains("\\\"rows\\\": \\\"2000\\\""))
                await client.close()
            }
            #expect(try await Self.needCount(database) == 2_000)
            let sum = try await database.pool.withConnection { try $0.query("SELECT sum(quantity) FROM need").first!.int(0) }
            #expect(sum == (1...2_000).map { $0 % 200 + 1 }.reduce(0, +))
        }
    }

    @Test func aBadRowInTheMiddleStoresNothingAndItsBlockNeverRunsAsCommands() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                try await client.send("NEED IMPORT\n" + Self.rows(1_000, badAt: 600) + "PING\n.\nPING\n")
                #expect(
                    try await client.readLine()
                        == "ERR BAD_ARG row 600 (block line 601), column qty: must be a whole number from 1 to 1000000, not 'lots'; nothing was stored")
                #expect(try await client.readLine() == "OK PONG")
                await client.close()
            }
            #expect(try await Self.needCount(database) == 0)
        }
    }

    @Test(arguments: [("needs-gb18030.csv", "encoding=gb18030"), ("needs-utf8-bom.csv", "")])
    func spreadsheetFilesImportWithTheirEncoding(file: String, option: String) async throws {
        let bytes = try Data(contentsOf: Self.fixtures.appending(path: file))
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                try await client.send(bytes: Array("NEED IMPORT \(option)\n".utf8) + Array(bytes) + Array(".\n".utf8))
                #expect(try await client.readLine() == "OK imported 2 needs")
                let first = try await client.request("NEED SHOW 1")
                #expect(first.contains("note=焊工三十人（以脱贫劳动力为主）") && first.contains("poverty=30 monitored=0") && first.contains("priority=5"))
                #expect(try await client.request("NEED SHOW 2").contains("note=\"数控车床, 培训\""))
                await client.close()
            }
        }
    }

    @Test func gb18030WithoutSayingSoIsRefusedWithAHint() async throws {
        let bytes = try Data(contentsOf: Self.fixtures.appending(path: "needs-gb18030.csv"))
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                try await client.send(bytes: Array("NEED IMPORT\n".utf8) + Array(bytes) + Array(".\n".utf8))
                let reply = try #require(try await client.readLine())
                #expect(reply.hasPrefix("ERR BAD_ARG block line 2 is not valid utf-8") && reply.contains("encoding=gb18030"))
                await client.close()
            }
            #expect(try await Self.needCount(database) == 0)
        }
    }

    @Test func importsRespectScopeAndAuthentication() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (anonymous, _) = try await LineClient.connectReady(port: port)
                try await anonymous.send("NEED IMPORT\n" + Self.rows(3) + ".\nPING\n")
                #expect(try await anonymous.readLine() == "ERR UNAUTHENTICATED AUTH <token> first")
                #expect(try await anonymous.readLine() == "OK PONG")
                await anonymous.close()

                let client = try await LineClient.signedIn(port: port, token: admin)
                let issued = try await client.request("TOKEN ISSUE role=west scope=county:520324")
                await client.close()
                let secret = String(try #require(issued.split(separator: " ").first { $0.hasPrefix("secret=") }?.dropFirst(7)))
                let west = try await LineClient.signedIn(port: port, token: secret)
                try await west.send("NEED IMPORT\n" + Self.rows(3) + ".\n")
                #expect(try await west.readLine() == "ERR DENIED row 1 (block line 2), column county: county 520204 is outside this token's scope; nothing was stored")
                try await west.send("OFFER IMPORT\norg,kind,occupations,capacity,from,to\n.\n")
                #expect(try await west.readLine() == "ERR DENIED OFFER IMPORT is for east, admin tokens; this connection acts as west")
                await west.close()
            }
            #expect(try await Self.needCount(database) == 0)
        }
    }

    @Test func anImportInsideABatchIsUndoneByAbort() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                try await client.send("NEED IMPORT\n" + Self.rows(10) + ".\n")
                #expect(try await client.readLine() == "OK imported 10 needs")
                #expect(try await client.request("ABORT").hasPrefix("OK "))
                await client.close()
            }
            #expect(try await Self.needCount(database) == 0)
        }
    }

    @Test func exportGivesBackWhatWasImported() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                try await client.send("NEED IMPORT\n" + Self.rows(150) + ".\n")
                #expect(try await client.readLine() == "OK imported 150 needs")
                let firstHeader = try await client.request("NEED EXPORT limit=100")
                #expect(firstHeader == "OK 101 needs csv next=100")
                let first = try await client.readRecords(after: firstHeader)
                let second = try await client.readRecords(after: try await client.request("NEED EXPORT after=100"))
                #expect(first[0].hasPrefix("id,county,kind,occupations,qty"))
                let rows = Array(first.dropFirst()) + Array(second.dropFirst())
                #expect(rows.count == 150)
                #expect(rows[41] == "42,520204,labor,6-01;6-02,43,2027-01-01,2027-06-30,3,43,0,,,,,,,open,row 42,")
                await client.close()
            }
        }
    }
}
