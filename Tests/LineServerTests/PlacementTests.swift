import Foundation
import MatchCore
import Testing
import TestSupport

/// People, placements and follow-ups over TCP on a real PostgreSQL: needs with their
/// 脱贫劳动力 and 监测对象 counts are matched and placed, followed up at 3 and 6 months, one person
/// leaving gives one unit back, a partly placed match is cancelled; every command that shows a
/// figure must then agree with what the test computes from the lines it sent.
@Suite("Placements and people", .serialized)
struct PlacementTests {
    /// Dates relative to today, since placements and follow-ups may not lie in the future.
    struct Calendar {
        let today = Day.today(secondsSince1970: Int(Date().timeIntervalSince1970))
        func day(_ offset: Int) -> String { Day(dayNumber: today.dayNumber + offset)!.description }
    }

    /// A JSON reply: its header and records.
    static func json(_ client: LineClient, _ line: String) async throws -> (header: [String: Any], records: [[String: Any]]) {
        let first = try await client.request(line)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any], "\(line) → \(first)")
        #expect(header["ok"] as? Bool == true, "\(line) → \(first)")
        guard header["records"] != nil else { return (header, []) }
        let records = try await client.readRecords(after: first).map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        return (header, records)
    }

    static func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? -1 }

    @Test func placementsFollowUpsAndReopeningAgreeInEveryReport() async throws {
        let calendar = Calendar()
        let (start, end, offerEnd) = (calendar.day(-300), calendar.day(60), calendar.day(200))
        let year = Int(start.prefix(4))!
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("FORMAT json").contains("\"ok\":true"))
                _ = try await Self.json(admin, "ORG ADD kind=enterprise name=广州电子 province=广东省 city=广州市")
                let needs = try await [
                    Self.json(admin, "NEED ADD county=520204 kind=labor occupations=6-01 qty=20 poverty=12 monitored=3 from=\(start) to=\(end) priority=5").header,
                    Self.json(admin, "NEED ADD county=520324 kind=labor occupations=6-01 qty=10 poverty=4 from=\(start) to=\(end)").header,
                ]
                #expect(Self.int(needs[0]["poverty"]) == 12 && Self.int(needs[0]["monitored"]) == 3)
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=5 poverty=6 from=\(start) to=\(end)")
                    .contains("\"code\":\"BAD_ARG\""))
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=5 poverty=yes from=\(start) to=\(end)")
                    .contains("\"code\":\"BAD_ARG\""))
                _ = try await Self.json(admin, "OFFER ADD org=1 kind=labor occupations=6-01 capacity=25 from=\(start) to=\(offerEnd)")
                _ = try await Self.json(admin, "MATCH RUN")
                var confirmed: [Int: (match: Int, units: Int)] = [:]
                for proposal in try await Self.json(admin, "MATCH LIST status=proposed").records {
                    let id = Self.int(proposal["id"])
                    _ = try await Self.json(admin, "MATCH ACCEPT \(id) side=west")
                    let match = try await Self.json(admin, "MATCH ACCEPT \(id) side=east").header
                    #expect(match["status"] as? String == "confirmed")
                    confirmed[Self.int(match["need"])] = (id, Self.int(match["confirmed"]))
                }
                let (first, second) = (try #require(confirmed[1]), try #require(confirmed[2]))
                #expect(first.units + second.units == 25 && first.units >= 13 && second.units >= 3, "\(confirmed)")

                // Two placements add up; refusals store nothing.
                let one = try await Self.json(admin, "MATCH PLACE \(first.match) people=10 poverty=6 monitored=2 date=\(calendar.day(-250))").header
                let two = try await Self.json(admin, "MATCH PLACE \(first.match) people=3 poverty=2 date=\(calendar.day(-240))").header
                for bad in [
                    "people=0 date=\(calendar.day(-240))", "people=\(first.units - 12) date=\(calendar.day(-240))",
                    "people=1 date=\(calendar.day(1))", "people=1 date=\(calendar.day(-301))", "people=4 poverty=5 date=\(calendar.day(-240))",
                    "people=1 poverty=2 date=\(calendar.day(-240))", "people=1 monitored=2 date=\(calendar.day(-240))", "units=1 date=\(calendar.day(-240))",
                ] {
                    #expect(try await admin.request("MATCH PLACE \(first.match) \(bad)").contains("\"code\":\"BAD_ARG\""), "\(bad)")
                }
                let afterPlacing = try await Self.json(admin, "MATCH SHOW \(first.match)").header
                #expect(Self.int(afterPlacing["placed"]) == 13 && Self.int(afterPlacing["poverty-placed"]) == 8)
                #expect(Self.int(afterPlacing["monitored-placed"]) == 2)
                #expect(try await Self.json(admin, "PLACEMENT LIST match=\(first.match)").records.map { Self.int($0["people"]) } == [10, 3])

                // Both placements are past their 3-month mark and not yet followed up.
                let due = try await Self.json(admin, "PLACEMENT DUE days=0").records
                #expect(Set(due.map { Self.int($0["id"]) }) == [Self.int(one["id"]), Self.int(two["id"])])
                #expect(due.allSatisfy { $0["check"] as? String == "3m" && Self.int($0["overdue-days"]) > 0 })

                let (p1, p2) = (Self.int(one["id"]), Self.int(two["id"]))
                let three = try await Self.json(admin, "PLACEMENT CHECK \(p1) date=\(calendar.day(-155)) status=working").header
                #expect(Self.int(three["stable-3m"]) == 10 && three["stable-6m"] is NSNull)
                #expect(try await admin.request("PLACEMENT CHECK \(p1) date=\(calendar.day(-160)) status=working").contains("BAD_ARG"))
                #expect(try await admin.request("PLACEMENT CHECK \(p1) date=\(calendar.day(-150)) status=left people=1").contains("BAD_ARG"))
                let left = try await Self.json(admin, "PLACEMENT CHECK \(p1) date=\(calendar.day(-130)) status=left people=1 reason=returned_home").header
                #expect(Self.int(left["working"]) == 9 && Self.int(left["reopened"]) == 1)
                let six = try await Self.json(admin, "PLACEMENT CHECK \(p1) date=\(calendar.day(-60)) status=working").header
                #expect(Self.int(six["stable-6m"]) == 9)
                _ = try await Self.json(admin, "PLACEMENT CHECK \(p2) date=\(calendar.day(-140)) status=working")
                let shown = try await Self.json(admin, "PLACEMENT SHOW \(p1)").header
                #expect((shown["checks"] as? [[String: Any]])?.map { $0["status"] as? String } == ["working", "left", "working"])
                // p2 still waits for its 6-month follow-up; p1 has had both.
                #expect(try await Self.json(admin, "PLACEMENT DUE days=0").records.map { Self.int($0["id"]) } == [p2])

                // The second need's match: two people placed, then cancelled; they keep their units.
                _ = try await Self.json(admin, "MATCH PLACE \(second.match) people=2 date=\(calendar.day(-200))")
                _ = try await Self.json(admin, "MATCH CANCEL \(second.match) reason=停产")

                // What the lines above add up to, computed here.
                let held = [1: first.units - 1, 2: 2]
                let total = held.values.reduce(0, +)
                for (need, units) in held {
                    let shownNeed = try await Self.json(admin, "NEED SHOW \(need)").header
                    #expect(Self.int(shownNeed["matched"]) == units, "need \(need)")
                }
                let unmet = try await Self.json(admin, "UNMET county=520204").records
                #expect(unmet.first.map { Self.int($0["missing"]) } == 20 - held[1]!)

                let byCounty = try await Self.json(admin, "FILL by=county year=\(year)").records
                #expect(byCounty.first { $0["key"] as? String == "520204" }.map { Self.int($0["confirmed"]) } == held[1])
                #expect(byCounty.first { $0["key"] as? String == "520324" }.map { Self.int($0["confirmed"]) } == held[2])
                for grouping in ["province", "kind"] {
                    let groups = try await Self.json(admin, "FILL by=\(grouping) year=\(year)").records
                    #expect(groups.map { Self.int($0["confirmed"]) }.reduce(0, +) == total, "FILL by=\(grouping)")
                }
                let pairings = try await Self.json(admin, "FILL by=pairing year=\(year)").records
                #expect(pairings.first { $0["name"] as? String == "广东省 → 贵州省" }.map { Self.int($0["confirmed"]) } == total)

                let flow = try await Self.json(admin, "PAIRING FLOW 广东省 贵州省 year=\(year)").records
                let labour = try #require(flow.first { $0["kind"] as? String == "labor" })
                let expected = [
                    "confirmed": total, "placed": 15, "poverty-placed": 8, "monitored-placed": 2, "working": 14, "reopened": 1,
                    "stable-3m": 13, "stable-6m": 9,
                ]
                for (field, value) in expected { #expect(Self.int(labour[field]) == value, "PAIRING FLOW \(field)") }

                let report = try await Self.json(admin, "REPORT year=\(year) province=52").records
                let county = try #require(report.first { $0["code"] as? String == "520204" })
                let countyExpected = [
                    "confirmed": held[1]!, "placed": 13, "poverty-placed": 8, "monitored-placed": 2, "working": 12, "reopened": 1,
                    "stable-3m": 13, "stable-6m": 9,
                ]
                for (field, value) in countyExpected { #expect(Self.int(county[field]) == value, "REPORT 520204 \(field)") }
                let province = try #require(report.first { $0["code"] as? String == "52" })
                for (field, value) in expected { #expect(Self.int(province[field]) == value, "REPORT 52 \(field)") }

                // The province files its report in Chinese; the sentence says what the rows add up to.
                _ = try await Self.json(admin, "REPORT SUBMIT year=\(year) province=52")
                let filed = try await Self.json(admin, "REPORT year=\(year) province=52 submitted lang=zh").header
                let sentence = try #require(filed["summary"] as? String)
                #expect(
                    sentence.contains(
                        "帮助重点帮扶县农村劳动力实现就业15人，其中脱贫劳动力8人、防止返贫监测对象2人；稳定就业3个月以上13人，同一单位稳定就业6个月以上9人"),
                    "\(sentence)")
                _ = try await Self.json(admin, "PLAN SET year=\(year) province=贵州省 kind=labor units=100")
                let plans = try await Self.json(admin, "PLAN LIST year=\(year) province=52").records
                #expect(plans.map { Self.int($0["confirmed"]) } == [total])
                await admin.close()
            }
        }
    }
}
