import Foundation
import Testing
import TestSupport

/// `ewmatch serve` with TLS, as an operator runs it: the CLI's client commands with `--tls`,
/// a certificate renewed by SIGHUP, and the refusal to serve plain text beyond loopback.
@Suite("ewmatch serve with TLS")
struct TLSBinaryTests {
    @Test func theCLISpeaksTLSAndSIGHUPSwapsTheCertificateForNewConnections() async throws {
        let first = try await TestCertificates.make(commonName: "first")
        let second = try await TestCertificates.make(commonName: "second")
        let live = try await TestCertificates.make(commonName: "live")
        defer { [first, second, live].forEach { $0.remove() } }
        try first.copy(over: live)
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            let server = try ChildProcess(
                BinaryTests.binary,
                [
                    "serve", "--port", "0", "--tls-cert", live.certificatePath, "--tls-key", live.keyPath, "--metrics-port", "0",
                    "--database-url", database.conninfo,
                ])
            let port = try BinaryTests.listeningPort(in: try await server.waitForOutput(containing: "listening"))
            let metricsPort = try BinaryTests.listeningPort(
                in: try await server.waitForOutput(containing: "serving metrics"), logged: "serving metrics")
            let open = try await LineClient.signedIn(port: port, token: admin, tls: try first.client())
            for line in [
                "ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市",
                "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30",
                "OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31",
            ] {
                #expect(try await open.request(line).hasPrefix("OK "), "\(line)")
            }
            let client = ["match", "run", "--port", "\(port)", "--token", admin]

            let (stored, run) = try await ChildProcess.run(BinaryTests.binary, client + ["--tls", "--ca", first.certificatePath])
            #expect(stored == 0 && run.hasPrefix("run=1 "), "\(run)")
            let (plain, refusal) = try await ChildProcess.run(BinaryTests.binary, client)
            #expect(plain != 0)
            #expect(refusal.contains("ERR TLS_REQUIRED"), "\(refusal)")

            try second.copy(over: live)
            server.signal(SIGHUP)
            try await server.waitForOutput(containing: "SIGHUP: reloaded the TLS certificate")
            let (renewed, dry) = try await ChildProcess.run(BinaryTests.binary, client + ["--dry", "--tls", "--ca", second.certificatePath])
            #expect(renewed == 0 && dry.hasPrefix("run=dry "), "\(dry)")
            let (stale, failure) = try await ChildProcess.run(BinaryTests.binary, client + ["--dry", "--tls", "--ca", first.certificatePath])
            #expect(stale != 0, "\(failure)")
            #expect(try await open.request("NEED SHOW 1").hasPrefix("OK id=1 "), "the connection opened before SIGHUP goes on")

            // serve's own wiring: the handler, the server and the pool record into what --metrics-port serves.
            let samples = try await MetricsScrape.get(port: metricsPort).samples
            #expect(samples[#"ewmatch_commands_total{verb="MATCH RUN",code="OK"}"#] == 2)
            #expect(samples[#"ewmatch_commands_total{verb="NEED SHOW",code="OK"}"#] == 1)
            #expect(samples["ewmatch_group_commit_size_count"] == 1)
            #expect(samples["ewmatch_postgres_reachable"] == 1)

            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
        }
    }

    @Test func plainTextBeyondLoopbackIsRefusedUnlessAskedFor() async throws {
        try await TestDatabase.with { database in
            let (refused, reason) = try await ChildProcess.run(
                BinaryTests.binary, ["serve", "--host", "0.0.0.0", "--port", "0", "--database-url", database.conninfo])
            #expect(refused != 0)
            #expect(reason.contains("refusing to listen on 0.0.0.0 in plain text"), "\(reason)")
            #expect(reason.contains("--tls-cert") && reason.contains("--insecure-plaintext"))

            let server = try ChildProcess(
                BinaryTests.binary, ["serve", "--host", "0.0.0.0", "--port", "0", "--insecure-plaintext", "--database-url", database.conninfo])
            let port = try BinaryTests.listeningPort(in: try await server.waitForOutput(containing: "listening"))
            #expect(try await BinaryTests.nc(port, "PING\nQUIT\n") == ["OK ewmatch 0.1.0 protocol=1 ready; HELP lists commands", "OK PONG", "OK bye"])
            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
        }
    }
}
