import Foundation
import Testing
import TestSupport

/// The kinds' details and labour intermediaries over TCP on a real PostgreSQL: what each kind
/// takes is checked, and a run pairs a secondment only with one going the same way and a
/// school partnership only with the partner it asks for.
@Suite("Kinds and intermediaries")
struct KindTests {
    static func id(_ reply: String) -> Int? {
        reply.split(separator: " ").first { $0.hasPrefix("id=") }.flatMap { Int($0.dropFirst(3)) }
    }

    @Test func detailsAreCheckedAndRunsPairOnlyAgreeingVariants() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                func ok(_ line: String) async throws -> String {
                    let reply = try await admin.request(line)
                    #expect(reply.hasPrefix("OK "), "\(line) → \(reply)")
                    return reply
                }
                let school = Self.id(try await ok("ORG ADD kind=school name=苏州技师学院 province=江苏省 city=苏州市"))!
                let factory = Self.id(try await ok("ORG ADD kind=enterprise name=苏州电子 province=江苏省 city=苏州市"))!
                let agency = Self.id(try await ok("ORG ADD kind=hr_agency name=苏州人力资源服务公司 province=江苏省 city=苏州市"))!
                let window = "from=2027-01-01 to=2027-12-31"

                for bad in [
                    "NEED ADD county=520204 kind=labor occupations=6-01 qty=5 years=2 \(window)",
                    "NEED ADD county=520204 kind=enrolment occupations=6-01 qty=5 \(window)",
                    "NEED ADD county=520204 kind=enrolment occupations=6-01 qty=5 months=6 \(window)",
                    "NEED ADD county=520204 kind=secondment occupations=2-05 qty=2 \(window)",
                    "NEED ADD county=520204 kind=school_partnership occupations=6-01 qty=1 partnership=school \(window)",
                    "NEED ADD county=520204 kind=talent occupations=2-05 qty=1 direction=to_east \(window)",
                    "OFFER ADD org=\(agency) kind=labor occupations=6-01 capacity=5 \(window)",
                    "OFFER ADD org=\(agency) kind=labor occupations=6-01 capacity=5 employer=\(school) \(window)",
                    "OFFER ADD org=\(factory) kind=labor occupations=6-01 capacity=5 employer=\(factory) \(window)",
                    "OFFER ADD org=\(agency) kind=training occupations=6-01 capacity=5 employer=\(factory) \(window)",
                ] {
                    #expect(try await admin.request(bad).hasPrefix("ERR BAD_ARG "), "\(bad)")
                }
                #expect(try await admin.readRecords(after: try await admin.request("NEED LIST")).isEmpty)

                let enrolment = try await ok("NEED ADD county=520204 kind=enrolment occupations=6-01 qty=30 years=3 \(window)")
                #expect(enrolment.contains(" years=3 "))
                let secondment = Self.id(try await ok("NEED ADD county=520204 kind=secondment occupations=2-05 qty=2 direction=to_east months=6 \(window)"))!
                let partnership = try await ok(
                    "NEED ADD county=520204 kind=school_partnership occupations=6-01 qty=1 school=水城区职业技术学校 partnership=enterprise \(window)")
                #expect(partnership.contains(" school=水城区职业技术学校 partnership=enterprise "))
                let partnershipNeed = Self.id(partnership)!

                let westward = Self.id(try await ok("OFFER ADD org=\(factory) kind=secondment occupations=2-05 capacity=5 direction=to_west \(window)"))!
                let eastward = Self.id(try await ok("OFFER ADD org=\(factory) kind=secondment occupations=2-05 capacity=1 direction=to_east \(window)"))!
                let fromSchool = try await ok("OFFER ADD org=\(school) kind=school_partnership occupations=6-01 capacity=3 \(window)")
                #expect(fromSchool.contains(" partnership=school "))
                let fromFactory = Self.id(try await ok("OFFER ADD org=\(factory) kind=school_partnership occupations=6-01 capacity=3 \(window)"))!
                _ = try await ok("OFFER ADD org=\(school) kind=enrolment occupations=6-01 capacity=40 years=3 \(window)")
                let posts = try await ok("OFFER ADD org=\(agency) kind=labor occupations=6-01 capacity=20 employer=\(factory) \(window)")
                #expect(posts.contains(" org=\(agency) ") && posts.contains(" employer=\(factory) "))

                _ = try await ok("MATCH RUN")
                let proposals = try await admin.readRecords(after: try await admin.request("MATCH LIST"))
                func offers(of need: Int) -> Set<Int> {
                    Set(proposals.filter { $0.contains(" need=\(need) ") }.compactMap { record in
                        record.split(separator: " ").first { $0.hasPrefix("offer=") }.flatMap { Int($0.dropFirst(6)) }
                    })
                }
                #expect(offers(of: secondment) == [eastward] && !offers(of: secondment).contains(westward), "\(proposals)")
                #expect(offers(of: partnershipNeed) == [fromFactory], "\(proposals)")
                #expect(proposals.contains { $0.contains(" need=\(Self.id(enrolment)!) ") })

                let export = try await admin.readRecords(after: try await admin.request("NEED EXPORT kind=enrolment"))
                #expect(export.first?.contains(",years,months,school,partnership,direction,") == true)
                #expect(export.dropFirst().first?.contains(",3,,,,,") == true, "\(export)")
                await admin.close()
            }
        }
    }
}
