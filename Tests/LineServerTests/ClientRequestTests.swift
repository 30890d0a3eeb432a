import PostgresStore
import Testing
import TestSupport

/// `req=<key>` makes a retried write idempotent: the retry is answered with what the first
/// request stored, and nothing is stored twice.
@Suite("Client request keys on a real PostgreSQL")
struct ClientRequestTests {
    static func count(_ table: String, _ database: TestDatabase) async throws -> Int {
        try await database.pool.withConnection { try $0.query("SELECT count(*) FROM \(unsafeSQL: table)").first!.int(0) }
    }

    @Test func aRetriedNeedAddOfferAddAndImportStoreOnce() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                let add = "NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01 req=day1-need-7"
                let first = try await client.request(add)
                #expect(first.hasPrefix("OK id=1 "), "\(first)")
                #expect(try await client.request(add) == first)
                #expect(try await Self.count("need", database) == 1)
                #expect(try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01 req=other").hasPrefix("OK id=2 "))

                #expect(try await client.request("ORG ADD kind=enterprise name=厂 province=江苏省 city=苏州市").hasPrefix("OK id=1 "))
                let offer = "OFFER ADD org=1 kind=labor occupations=6-01 capacity=5 from=2027-01-01 to=2027-12-31 req=o-1"
                let stored = try await client.request(offer)
                #expect(try await client.request(offer) == stored)
                #expect(try await Self.count("offer", database) == 1)
                #expect(try await client.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=5 from=2027-01-01 to=2027-12-31 req=day1-need-7").hasPrefix("ERR CONFLICT req=day1-need-7 was used for need:1"))

                let block = "county,kind,occupations,qty,from,to\n520204,labor,6-01,2,2027-01-01,2027-02-01\n520204,labor,6-01,4,2027-01-01,2027-02-01\n.\n"
                try await client.send("NEED IMPORT req=file-17\n" + block)
                #expect(try await client.readLine() == "OK imported 2 needs")
                try await client.send("NEED IMPORT req=file-17\n" + block)
                #expect(try await client.readLine() == "OK imported 2 needs")
                #expect(try await Self.count("need", database) == 4)
                #expect(try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01 req=bad/key").hasPrefix("ERR BAD_ARG req: "))
                await client.close()
            }
        }
    }
}
