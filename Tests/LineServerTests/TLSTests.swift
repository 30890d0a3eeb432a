import Foundation
import MatchCore
import Testing
import TestSupport

/// The real server over TLS: a coordinator's cycle driven by the openssl command-line client as
/// a subprocess, and by `LineClient` speaking TLS.
@Suite("The server over TLS")
struct TLSTests {
    static let setUp = [
        "ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市",
        "OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31",
    ]

    @Test func opensslSClientRunsTheCoordinatorsCycle() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            try await TestCertificates.with { certificates in
                try await TestServer.with(database: database, tls: try certificates.server()) { port in
                    let script = (["AUTH \(admin)"] + Self.setUp + [
                        "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30 note=\"焊工 30 人\"",
                        "NEED SHOW 1",
                        "MATCH RUN",
                        "QUIT",
                    ]).joined(separator: "\n") + "\n"
                    let (code, output) = try await ChildProcess.run(
                        TestCertificates.openssl,
                        ["s_client", "-quiet", "-verify_return_error", "-CAfile", certificates.certificatePath, "-connect", "127.0.0.1:\(port)"],
                        stdin: script)
                    #expect(code == 0, "\(output)")
                    let replies = output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("OK") || $0.hasPrefix("ERR") }
                    try #require(replies.count == 8, "\(output)")
                    #expect(replies[0].hasPrefix("OK ewmatch "))
                    #expect(replies[1].hasPrefix("OK token=") && replies[1].contains("role=admin"))
                    #expect(replies[4].hasPrefix("OK id=1 county=520204 kind=labor"))
                    #expect(replies[5].hasPrefix("OK id=1 county=520204 ") && replies[5].contains("note=\"焊工 30 人\""))
                    #expect(replies[6].hasPrefix("OK run=1 mode=optimal(score)") && replies[6].contains(" units=20"), "\(replies[6])")
                    #expect(replies[7] == "OK bye")
                }
            }
        }
    }

    @Test func aLineClientOverTLSRunsTheCycleAsWestAndAdmin() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            let (west, _) = try await database.token(role: .west, scope: "county:520204", label: "水城区人社局")
            try await TestCertificates.with { certificates in
                let tls = try certificates.client()
                try await TestServer.with(database: database, tls: try certificates.server()) { port in
                    let coordinator = try await LineClient.signedIn(port: port, token: west, tls: tls)
                    let added = try await coordinator.request(
                        "NEED ADD county=520204 kind=labor occupations=6-01 qty=12 from=2027-01-01 to=2027-06-30")
                    #expect(added.hasPrefix("OK id=1 county=520204 "), "\(added)")
                    #expect(try await coordinator.request("NEED SHOW 1").contains(" qty=12 "))
                    #expect(try await coordinator.request("MATCH RUN").hasPrefix("ERR DENIED "))

                    let administrator = try await LineClient.signedIn(port: port, token: admin, tls: tls)
                    for line in Self.setUp { #expect(try await administrator.request(line).hasPrefix("OK "), "\(line)") }
                    let run = try await administrator.request("MATCH RUN")
                    #expect(run.hasPrefix("OK run=1 ") && run.contains(" units=12"), "\(run)")
                    #expect(try await coordinator.request("NEED SHOW 1").contains(" qty=12 "))
                    #expect(try await coordinator.request("QUIT") == "OK bye")
                    #expect(try await coordinator.readAll() == [])
                }
            }
        }
    }
}
