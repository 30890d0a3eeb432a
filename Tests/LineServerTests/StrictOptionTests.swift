import Testing
import TestSupport

/// Options that would be ignored or could never take effect are refused with `ERR BAD_ARG`
/// naming them, and nothing is stored.
@Suite("Strict options on a real PostgreSQL")
struct StrictOptionTests {
    @Test func matchRunRefusesFiltersAndOptionsThatWouldBeIgnored() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                let refusals = [
                    "MATCH RUN county=520299": "ERR BAD_ARG county: no county 520299",
                    "MATCH RUN province=火星省": "ERR BAD_ARG province: no province '火星省'",
                    "MATCH RUN county=520204 province=四川省": "ERR BAD_ARG county: 520204 is not in province=四川省",
                    "MATCH RUN share=0.5": "ERR BAD_ARG share= applies to mode=fair only, not to mode=optimal",
                    "MATCH RUN mode=stable share=0.5": "ERR BAD_ARG share= applies to mode=fair only, not to mode=stable",
                    "MATCH RUN side=offers": "ERR BAD_ARG side= applies to mode=stable only, not to mode=optimal",
                    "MATCH RUN mode=fair side=offers": "ERR BAD_ARG side= applies to mode=stable only, not to mode=fair",
                    "MATCH RUN mode=stable objective=units-first": "ERR BAD_ARG objective= applies to mode=optimal only, not to mode=stable",
                    "MATCH RUN mode=fair share=+0.3": "ERR BAD_ARG share must be above 0",
                    "MATCH RUN mode=fair share=0": "ERR BAD_ARG share must be above 0",
                    "MATCH RUN mode=fair share=4/3": "ERR BAD_ARG share must be above 0",
                    "MATCH RUN wait=+3": "ERR BAD_ARG wait must be a whole number",
                ]
                for (line, reply) in refusals.sorted(by: { $0.key < $1.key }) {
                    let got = try await admin.request(line)
                    #expect(got.hasPrefix(reply), "\(line) → \(got)")
                }
                #expect(try await admin.readRecords(after: try await admin.request("RUN LIST")).isEmpty, "no refused run was stored")
                // The share as RUN SHOW prints it is accepted back, and 0.3 is the same mode.
                let fair = try await admin.request("MATCH RUN mode=fair share=3/10 dry")
                #expect(fair.hasPrefix("OK run=dry mode=fair(3/10) "), "\(fair)")
                #expect(try await admin.request("MATCH RUN mode=fair share=0.30 dry").hasPrefix("OK run=dry mode=fair(3/10) "))
                #expect(try await admin.request("MATCH RUN mode=fair share=.25 dry").hasPrefix("OK run=dry mode=fair(1/4) "))
                #expect(try await admin.request("MATCH RUN mode=stable side=offers county=520204 province=贵州省 dry").hasPrefix("OK run=dry mode=stable(offers) "))
                await admin.close()
            }
        }
    }

    @Test func numbersWithAPlusSignAndMajorGroupsAloneAreRefused() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let admin = try await LineClient.signedIn(port: port, token: token)
                #expect(try await admin.request("ORG ADD kind=enterprise name=厂 province=广东省 city=佛山市").hasPrefix("OK id=1 "))
                let need = "NEED ADD county=520204 kind=labor from=2027-01-01 to=2027-06-30"
                #expect(try await admin.request("\(need) occupations=6-01 qty=+3").hasPrefix("ERR BAD_ARG qty must be a whole number from 1 to 1000000, not '+3'"))
                #expect(try await admin.request("\(need) occupations=6-01 qty=3 priority=+2").hasPrefix("ERR BAD_ARG priority must be a whole number"))
                #expect(try await admin.request("\(need) occupations=6 qty=3").hasPrefix("ERR BAD_ARG occupations: '6' is a major group, which matches nothing"))
                #expect(try await admin.request("\(need) occupations=6,6-01 qty=3").hasPrefix("ERR BAD_ARG occupations: '6' is a major group"))
                #expect(try await admin.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-+1-01 to=2027-06-30").hasPrefix("ERR BAD_ARG from: '2027-+1-01' is not a date"))
                #expect(try await admin.request("OFFER ADD org=1 kind=labor occupations=2 capacity=3 from=2027-01-01 to=2027-12-31").hasPrefix("ERR BAD_ARG occupations: '2' is a major group"))
                #expect(try await admin.request("OFFER ADD org=+1 kind=labor occupations=6-01 capacity=3 from=2027-01-01 to=2027-12-31").hasPrefix("ERR BAD_ARG org must be a whole number"))
                #expect(try await admin.request("NEED SHOW +1").hasPrefix("ERR BAD_ARG need id must be a positive whole number, not '+1'"))
                #expect(try await admin.request("NEED LIST limit=+5").hasPrefix("ERR BAD_ARG limit must be a whole number"))
                #expect(try await admin.request("\(need) occupations=6-01 qty=3").hasPrefix("OK id=1 "))
                #expect(try await admin.request("NEED UPDATE 1 occupations=6").hasPrefix("ERR BAD_ARG occupations: '6' is a major group"))
                #expect(try await admin.request("NEED UPDATE 1 qty=+4").hasPrefix("ERR BAD_ARG qty must be a whole number"))
                #expect(try await admin.request("NEED SHOW 1").contains(" occupations=6-01 qty=3 "), "nothing was stored")
                let imported = try await admin.request(
                    "NEED IMPORT\ncounty,kind,occupations,qty,from,to\n520204,labor,6-01,+3,2027-01-01,2027-06-30\n.")
                #expect(imported.hasPrefix("ERR BAD_ARG row 1 (block line 2), column qty: must be a whole number"), "\(imported)")
                let major = try await admin.request("NEED IMPORT\ncounty,kind,occupations,qty,from,to\n520204,labor,6,3,2027-01-01,2027-06-30\n.")
                #expect(major.hasPrefix("ERR BAD_ARG row 1 (block line 2), column occupations: '6' is a major group"), "\(major)")
                #expect(try await admin.request("NEED LIST").hasPrefix("OK 1 needs"))
                await admin.close()
            }
        }
    }
}
