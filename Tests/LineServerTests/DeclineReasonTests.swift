import MatchCore
import PostgresStore
import Testing
import TestSupport

/// Declines give a reason code (and a note); FILL and REPORT total them by reason from the one
/// summary (match_flow), and declines stored before the codes read as `other`.
@Suite("Decline reasons on a real PostgreSQL")
struct DeclineReasonTests {
    /// Three needs of 水城区 (2027), each proposed one 佛山 offer.
    static func threeProposals(_ admin: LineClient) async throws {
        #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
        for id in 1...3 {
            #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=\(id) "))
            #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=\(id) "))
        }
        #expect(try await admin.request("MATCH RUN").contains(" proposals=3 "))
    }

    @Test func aDeclineStoresItsCodeAndNoteAndFillAndReportTotalThem() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                try await Self.threeProposals(admin)
                #expect(try await admin.request("MATCH DECLINE 1 side=east reason=salary").hasPrefix("ERR BAD_ARG reason must be one of wage|distance|conditions|timing|filled|other, not 'salary'"))
                #expect(try await admin.request("MATCH DECLINE 1 side=east note=太远").hasPrefix("ERR BAD_ARG reason= is required"))
                #expect(try await admin.request("MATCH SHOW 1").contains(" status=proposed "), "a refused decline changes nothing")
                let declined = try await admin.request("MATCH DECLINE 1 side=west reason=distance note=\"离家太远\"")
                #expect(declined.contains(" status=declined ") && declined.hasSuffix(" reason=distance note=离家太远"), "\(declined)")
                #expect(try await admin.request("MATCH DECLINE 2 side=east reason=WAGE").hasSuffix(" reason=wage note=\"\""))
                #expect(try await admin.request("MATCH DECLINE 3 side=east reason=distance").contains(" status=declined "))
                let listed = try await admin.readRecords(after: try await admin.request("MATCH LIST status=declined"))
                #expect(listed.map { $0.contains(" reason=distance ") || $0.contains(" reason=wage ") } == [true, true, true], "\(listed)")

                let fill = try await admin.readRecords(after: try await admin.request("FILL by=county year=2027 declines"))
                #expect(fill.count == 1 && fill[0].hasSuffix(
                    " declined-wage=1 declined-distance=2 declined-conditions=0 declined-timing=0 declined-filled=0 declined-other=0"), "\(fill)")
                let byKind = try await admin.readRecords(after: try await admin.request("FILL by=kind declines"))
                #expect(byKind.count == 1 && byKind[0].contains(" declined-distance=2 "), "\(byKind)")
                let plain = try await admin.readRecords(after: try await admin.request("FILL by=county year=2027"))
                #expect(!plain[0].contains("declined-"), "\(plain)")
                #expect(try await admin.request("FILL by=pairing declines").hasPrefix("ERR BAD_ARG declines: only with by=county|province|kind"))
                #expect(try await admin.request("FILL by=county everything").hasPrefix("ERR BAD_ARG unexpected argument 'everything'"))

                let report = try await admin.readRecords(after: try await admin.request("REPORT year=2027 province=贵州省"))
                let county = try #require(report.first { $0.contains("code=520204 ") }, "\(report)")
                #expect(county.contains(" declined-wage=1 declined-distance=2 declined-conditions=0 "), "\(county)")
                #expect(county.contains("3 matches declined (wage 1, distance 2)"), "\(county)")
                let province = try #require(report.first { $0.contains("level=province ") })
                #expect(province.contains(" declined-wage=1 declined-distance=2 "), "\(province)")
                let chinese = try await admin.readRecords(after: try await admin.request("REPORT year=2027 province=贵州省 format=csv lang=zh"))
                #expect(chinese[0].contains("被拒绝对接（工资待遇）,被拒绝对接（路途距离）"), "\(chinese[0])")
                #expect(chinese.contains { $0.contains("3项对接被拒绝（工资待遇1、路途距离2）") }, "\(chinese)")
                await admin.close()
            }
        }
    }

    /// Declines stored before migration 017 had free text: it becomes the note of an `other`
    /// decline; one whose text was already a code keeps it.
    @Test func migration017TurnsFreeTextDeclinesIntoOtherWithTheirTextAsNote() async throws {
        try await TestDatabase.with(migrated: false) { database in
            try await Migrator(pool: database.pool, logger: testLogger, migrations: Migrator.all.filter { $0.version < 17 }).migrate()
            try await database.pool.withConnection { connection in
                try connection.execute(
                    script: """
                        INSERT INTO organisation (kind, name, province, city) VALUES ('enterprise', '厂', '44', '佛山市');
                        INSERT INTO need (county, kind, occupations, quantity, window_start, window_end)
                            VALUES ('520204', 'labor', '{6-01}', 2, '2027-01-01', '2027-06-30');
                        INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                            VALUES (1, 'labor', '{6-01}', 2, '2027-01-01', '2027-12-31'), (1, 'labor', '{6-01}', 2, '2027-01-01', '2027-12-31');
                        INSERT INTO match_run (mode, weights, input_hash) VALUES ('optimal', '{}', 'old');
                        INSERT INTO match (run, need, offer, units, score, status, east_answer, reason)
                            VALUES (1, 1, 1, 1, 500, 'declined', 'decline', 'no dormitory'), (1, 1, 2, 1, 500, 'declined', 'decline', 'wage');
                        """)
            }
            try await Migrator(pool: database.pool, logger: testLogger).migrate()
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("MATCH SHOW 1").hasSuffix(" reason=other note=\"no dormitory\""))
                #expect(try await admin.request("MATCH SHOW 2").hasSuffix(" reason=wage note=\"\""))
                let fill = try await admin.readRecords(after: try await admin.request("FILL by=province year=2027 declines"))
                #expect(fill.count == 1 && fill[0].contains(" declined-wage=1 ") && fill[0].hasSuffix(" declined-other=1"), "\(fill)")
                await admin.close()
            }
        }
    }
}
