import Testing
import TestSupport

/// City-level pairings reach the score: a pairing of 广东省广州市 with 毕节市 links every county of
/// that prefecture with organisations of 广州市, however the organisation writes its city.
@Suite("Pairing tiers in matching runs on a real PostgreSQL")
struct PairingTests {
    @Test(arguments: ["广州市", "广东省广州市"])
    func aCityLevelPairingOutscoresTheProvinceLevelOne(guangzhou: String) async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=广州厂 province=广东省 city=\(guangzhou)").hasPrefix("OK id=1 "))
                #expect(try await admin.request("ORG ADD kind=enterprise name=佛山厂 province=广东省 city=佛山市").hasPrefix("OK id=2 "))
                // 织金县 is in 毕节市, paired with 广州市; 水城区 (六盘水市) only through the province.
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=2 "))
                #expect(try await admin.request("OFFER ADD org=2 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=2 "))
                let run = try await admin.request("MATCH RUN")
                #expect(run.hasPrefix("OK run=1 ") && run.contains(" proposals=2 "), "\(run)")
                let header = try await admin.request("MATCH LIST run=1")
                let matches = try await admin.readRecords(after: header)
                #expect(matches.contains { $0.contains(" need=1 offer=2 ") }, "织金县 should get the 广州市 offer: \(matches)")
                #expect(matches.contains { $0.contains(" need=2 offer=1 ") }, "\(matches)")
                let explained = try await admin.request("MATCH EXPLAIN 1")
                let lines = try await admin.readRecords(after: explained)
                #expect(lines.contains { $0.hasPrefix("parts=") && $0.contains("city/county-level") }, "\(lines)")
                await admin.close()
            }
        }
    }
}

/// The earlier tier (pre-2021, SOURCES.md): 苏州市 helped 铜仁市 from 2016, so a 苏州市 offer
/// outscores one from elsewhere in 江苏 (no current pairing with 贵州) for a county of 铜仁市.
@Suite("The earlier pairing tier on a real PostgreSQL")
struct EarlierPairingTests {
    @Test func anEarlierCityPairingCountsForItsCountiesOnly() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=无锡厂 province=江苏省 city=无锡市").hasPrefix("OK id=1 "))
                #expect(try await admin.request("ORG ADD kind=enterprise name=苏州厂 province=江苏省 city=苏州市").hasPrefix("OK id=2 "))
                // 松桃苗族自治县 is in 铜仁市; 水城区 (六盘水市) has no pairing with 江苏.
                #expect(try await admin.request("NEED ADD county=520628 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=2 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=2 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                let matches = try await admin.readRecords(after: try await admin.request("MATCH LIST run=1"))
                #expect(matches.count == 1 && matches[0].contains(" need=1 offer=2 "), "\(matches)")
                let lines = try await admin.readRecords(after: try await admin.request("MATCH EXPLAIN 1"))
                #expect(lines.contains { $0.hasPrefix("parts=") && $0.contains("earlier pairing") }, "\(lines)")
                let pairings = try await admin.readRecords(after: try await admin.request("PAIRING LIST period=earlier limit=100"))
                #expect(pairings.count == 25 && pairings.allSatisfy { !$0.contains("source=\"\"") }, "\(pairings)")
                await admin.close()
            }
        }
    }
}

/// The score's conditions, quality and key-county parts: what a need asks for, an offer's
/// rating, and the national key counties' precedence (倾斜).
@Suite("Conditions, quality and key counties in matching runs on a real PostgreSQL")
struct ConditionQualityTests {
    @Test func aKeyCountyIsServedBeforeAnotherCounty() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("COUNTY UPDATE 520204 key=no").contains(" key=no"))
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                // The other county's need comes first by id; the key county's wins the one unit.
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=2 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                let header = try await admin.request("MATCH LIST run=1")
                let matches = try await admin.readRecords(after: header)
                #expect(matches.count == 1 && matches[0].contains(" need=2 offer=1 "), "\(matches)")
                let explained = try await admin.request("MATCH EXPLAIN 1")
                let lines = try await admin.readRecords(after: explained)
                #expect(lines.contains { $0.hasPrefix("parts=") && $0.contains(" key-county 20 ") }, "\(lines)")
                let shown = try await admin.request("RUN SHOW 1")
                #expect(shown.contains("keyCounty=20"), "\(shown)")
                await admin.close()
            }
        }
    }

    @Test func theOfferWithTheWantedConditionsAndAHigherRatingWins() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30 conditions=dormitory").hasPrefix("ERR BAD_ARG conditions: 'dormitory' is not one of"))
                let need = try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30 conditions=housing,travel_support")
                #expect(need.hasPrefix("OK id=1 ") && need.contains(" conditions=housing,travel_support "), "\(need)")
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                let rated = try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31 conditions=\"housing 包住\" quality=40")
                #expect(rated.hasPrefix("OK id=2 ") && rated.contains(" quality=40 "), "\(rated)")
                #expect(try await admin.request("OFFER UPDATE 2 quality=51").hasPrefix("ERR BAD_ARG "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                let header = try await admin.request("MATCH LIST run=1")
                let matches = try await admin.readRecords(after: header)
                #expect(matches.count == 1 && matches[0].contains(" need=1 offer=2 "), "\(matches)")
                let explained = try await admin.request("MATCH EXPLAIN 1")
                let lines = try await admin.readRecords(after: explained)
                #expect(lines.contains { $0.hasPrefix("parts=") && $0.contains(" conditions 10 ") && $0.contains(" quality 40 ") }, "\(lines)")
                await admin.close()
            }
        }
    }

    /// The organisation's stated quality and 就业帮扶基地 status, a condition named by its Chinese
    /// label, and a link that worked the year before all reach the score and EXPLAIN.
    @Test func organisationQualityBaseLabelsAndContinuityCount() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=贵州省 city=贵阳市").hasPrefix("ERR BAD_ARG province: 贵州省 is not a eastern province"))
                let updated = try await admin.request("ORG UPDATE 1 quality=30 base=yes")
                #expect(updated.contains(" quality=30 base=yes"), "\(updated)")
                #expect(try await admin.request("ORG UPDATE 1 quality=51").hasPrefix("ERR BAD_ARG "))
                // Last year's need of the same county, confirmed with the same organisation.
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2026-01-01 to=2026-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2026-01-01 to=2026-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                #expect(try await admin.request("MATCH ACCEPT 1 side=west").contains(" status=proposed "))
                #expect(try await admin.request("MATCH ACCEPT 1 side=east").contains(" status=confirmed "))
                let need = try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30 conditions=包食宿、社会保险")
                #expect(need.contains(" conditions=housing,social_insurance "), "\(need)")
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31 conditions=\"包食宿\"").hasPrefix("OK id=2 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=1 "))
                let lines = try await admin.readRecords(after: try await admin.request("MATCH EXPLAIN 2"))
                let parts = try #require(lines.first { $0.contains("parts=") })
                for part in [" conditions 10 ", " quality 30 ", " base 20 ", " continuity 30 "] {
                    #expect(parts.contains(part), "\(part) in \(parts)")
                }
                #expect(try await admin.request("RUN SHOW 2").contains("employmentBase=20"))
                await admin.close()
            }
        }
    }
}
