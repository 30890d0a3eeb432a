import PostgresStore
import Testing
import TestSupport

/// No double booking: units that a proposal outliving a run still promises are not proposed again.
@Suite("Units held by live proposals on a real PostgreSQL")
struct HeldUnitsTests {
    static func proposedUnits(_ client: LineClient, run: Int) async throws -> [String] {
        let header = try await client.request("MATCH LIST run=\(run)")
        return try await client.readRecords(after: header)
    }

    /// One 佛山 offer of 2 units, a need of 2 in 织金县 (need 1) and in 水城区 (need 2), and a run
    /// for 织金县 only that proposes the offer's 2 units to it (match 1).
    static func oneOfferProposedToOneOfTwoCounties(_ admin: LineClient) async throws {
        #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
        #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
        #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=2 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
        #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=2 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=2 "))
        #expect(try await admin.request("MATCH RUN county=520524").contains(" proposals=1 "))
    }

    @Test func aCountyFilteredRunLeavesTheUnitsAnotherCountysProposalHolds() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                try await Self.oneOfferProposedToOneOfTwoCounties(admin)
                let second = try await admin.request("MATCH RUN county=520204")
                #expect(second.hasPrefix("OK run=2 ") && second.contains(" proposals=0 "), "the offer's 2 units are proposed to 织金县 already: \(second)")
                await admin.close()
            }
        }
    }

    @Test func aProposalOneSideAcceptedHoldsItsUnitsAgainstTheNextRun() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=2 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                #expect(try await admin.request("MATCH ACCEPT 1 side=west").contains(" status=proposed "))
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=2 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=2 "))
                let again = try await admin.request("MATCH RUN")
                #expect(again.contains(" proposals=0 "), "the accepted proposal holds both units: \(again)")
                // Once the other side declines, the units are free again.
                #expect(try await admin.request("MATCH DECLINE 1 side=east reason=filled note=满员").contains(" status=declined "))
                let third = try await admin.request("MATCH RUN")
                #expect(third.contains(" proposals=1 "), "\(third)")
                #expect(try await Self.proposedUnits(admin, run: 3).contains { $0.contains(" need=2 offer=1 ") })
                await admin.close()
            }
        }
    }

    /// Two proposals promising the same units (as runs before held units could store them): the
    /// second one both sides accept has nothing left to confirm, and is refused, never OK.
    @Test func anAcceptThatCanConfirmNothingIsAConflict() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                try await Self.oneOfferProposedToOneOfTwoCounties(admin)
                try await database.pool.withConnection { connection in
                    _ = try connection.query("INSERT INTO match (run, need, offer, units, score) VALUES (1, 2, 1, 2, 500)")
                }
                #expect(try await admin.request("MATCH ACCEPT 2 side=west").contains(" status=proposed "))
                #expect(try await admin.request("MATCH ACCEPT 2 side=east").contains(" confirmed=2 "))
                #expect(try await admin.request("MATCH ACCEPT 1 side=west").contains(" status=proposed "))
                let refused = try await admin.request("MATCH ACCEPT 1 side=east")
                #expect(refused == "ERR CONFLICT match 1: nothing left to confirm (its need has 2 units open, its offer 0); decline it instead", "\(refused)")
                let shown = try await admin.request("MATCH SHOW 1")
                #expect(shown.contains(" status=proposed west=accept:2 east=- "), "the refused accept stored nothing: \(shown)")
                #expect(try await admin.request("MATCH DECLINE 1 side=east reason=filled").contains(" status=declined "))
                #expect(try await admin.request("OFFER SHOW 1").contains(" matched=2 open=0 "))
                await admin.close()
            }
        }
    }
}
