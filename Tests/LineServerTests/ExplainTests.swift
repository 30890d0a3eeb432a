import Foundation
import MatchCore
import Testing
import TestSupport

/// MATCH EXPLAIN tells the truth: the proposal's own parts as readably as the alternatives',
/// alternatives served in the same run are not called losers, and a coordinator sees other
/// scopes' needs and offers without their ids.
@Suite("MATCH EXPLAIN on a real PostgreSQL")
struct ExplainTests {
    @Test func theExplanationIsReadableServedAlternativesDidNotLoseAndOtherScopesHaveNoIds() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            let west = try await database.token(role: .west, scope: "county:520204", label: "水城区").secret
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=一厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                #expect(try await admin.request("ORG ADD kind=enterprise name=二厂 province=广东省 city=佛山市").hasPrefix("OK id=2 "))
                let east = try await admin.request("TOKEN ISSUE role=east scope=org:1 label=一厂")
                let eastSecret = try #require(east.split(separator: " ").first { $0.hasPrefix("secret=") }?.dropFirst(7))
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED ADD county=520524 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-06-30 priority=5").hasPrefix("OK id=2 "))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=1 "))
                #expect(try await admin.request("OFFER ADD org=2 kind=labor occupations=6-01 capacity=1 from=2027-01-01 to=2027-12-31").hasPrefix("OK id=2 "))
                #expect(try await admin.request("MATCH RUN").contains(" proposals=2 "))
                let matches = try await admin.readRecords(after: try await admin.request("MATCH LIST run=1"))
                let forNeed1 = try #require(matches.first { $0.contains(" need=1 ") }?.split(separator: " ")[0].dropFirst(3))
                let forOffer1 = try #require(matches.first { $0.contains(" offer=1 ") }?.split(separator: " ")[0].dropFirst(3))

                // The proposal's own parts, as the alternatives show theirs.
                let explained = try await admin.readRecords(after: try await admin.request("MATCH EXPLAIN \(forNeed1)"))
                let parts = try #require(explained.dropFirst().first, "\(explained)")
                #expect(parts.hasPrefix("parts=\"") && parts.contains(" = occupation 300 + pairing 200 + priority ") && parts.contains(" + continuity 0 ("), "\(parts)")
                // Each alternative was served by the other offer or need in this run: not a loser.
                let alternatives = explained.filter { $0.hasPrefix("alternative=") }
                #expect(alternatives.count == 2, "\(explained)")
                for line in alternatives {
                    #expect(line.contains(" served=1 ") && line.contains("why-not=\"served in this run"), "\(line)")
                    #expect(!line.contains(" < "), "\(line)")
                }
                #expect(alternatives.contains { $0.hasPrefix("alternative=need need=2 ") }, "an administrator sees every id: \(alternatives)")

                // 水城区's token sees the other county's need without its id.
                let westClient = try await LineClient.signedIn(port: port, token: west)
                let westLines = try await westClient.readRecords(after: try await westClient.request("MATCH EXPLAIN \(forNeed1)"))
                let otherNeed = try #require(westLines.first { $0.hasPrefix("alternative=\"another") }, "\(westLines)")
                #expect(otherNeed.hasPrefix("alternative=\"another county's need\" score="), "\(otherNeed)")
                #expect(!westLines.contains { $0.contains("need=2") }, "\(westLines)")
                #expect(westLines.contains { $0.hasPrefix("alternative=offer offer=") }, "open offers keep their ids: \(westLines)")

                // 一厂's token sees the other organisation's offer without its id.
                let eastClient = try await LineClient.signedIn(port: port, token: String(eastSecret))
                let eastLines = try await eastClient.readRecords(after: try await eastClient.request("MATCH EXPLAIN \(forOffer1)"))
                let otherOffer = try #require(eastLines.first { $0.hasPrefix("alternative=\"another") }, "\(eastLines)")
                #expect(otherOffer.hasPrefix("alternative=\"another organisation's offer\" score="), "\(otherOffer)")
                #expect(!eastLines.dropFirst().contains { $0.contains("offer=2") }, "\(eastLines)")
                #expect(eastLines.contains { $0.hasPrefix("alternative=need need=") }, "open needs keep their ids: \(eastLines)")

                // In JSON the proposal's parts are an object of numbers, as an alternative's.
                #expect(try await admin.request("FORMAT json").contains("\"format\":\"json\""))
                try await admin.send("MATCH EXPLAIN \(forNeed1)\n")
                let header = try #require(try await admin.readLine())
                let count = try #require((try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])?["records"] as? Int)
                var objects: [[String: Any]] = []
                for _ in 0..<count {
                    let line = try #require(try await admin.readLine())
                    objects.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
                }
                let own = try #require(objects.compactMap { $0["alternative"] == nil ? $0["parts"] as? [String: Any] : nil }.first, "\(objects)")
                for name in ["occupation", "pairing", "priority", "key-county", "continuity", "total"] {
                    #expect(own[name] is NSNumber, "\(name) in \(own)")
                }
                await westClient.close()
                await eastClient.close()
                await admin.close()
            }
        }
    }
}
