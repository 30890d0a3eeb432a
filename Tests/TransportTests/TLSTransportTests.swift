import Foundation
import LineServer
import Testing
import TestSupport

/// The transport's TLS port and its plain port, against real handshakes: NIOSSL clients, the
/// openssl and ncat command-line clients, and clients of the wrong kind on either port.
@Suite("LineServer over TLS", .timeLimit(.minutes(1)))
struct TLSTransportTests {
    @Test func aTLSClientIsGreetedAndAnsweredInOrder() async throws {
        try await TestCertificates.with { certificates in
            let client = try certificates.client()
            try await TestServer.with(responder: TestResponder(), tls: try certificates.server()) { port in
                let (connection, greeting) = try await LineClient.connectReady(port: port, tls: client)
                #expect(greeting == "OK test ready")
                try await connection.send("PING\nECHO 你好\nBLOCK SEND\nrow\n..dot\n.\n")
                #expect(try await connection.readLine() == "OK PONG")
                #expect(try await connection.readLine() == "OK 你好")
                #expect(try await connection.readLine() == "OK stored 2 lines")
                #expect(try await connection.request("QUIT") == "OK bye")
                #expect(try await connection.readAll() == [])
            }
        }
    }

    /// TLS cannot close its input alone, so shutdown must not wait for the input to end: an idle
    /// TLS client is told at once, not when the shutdown grace runs out.
    @Test func gracefulShutdownTellsAnIdleTLSClientAtOnce() async throws {
        try await TestCertificates.with { certificates in
            let client = try certificates.client()
            try await TestServer.withShutdownControl(responder: TestResponder(), host: "127.0.0.1", tls: try certificates.server()) {
                port, shutdown in
                let (idle, _) = try await LineClient.connectReady(port: port, tls: client)
                #expect(try await idle.request("PING") == "OK PONG")
                let started = ContinuousClock.now
                async let stopped: Void = shutdown()
                #expect(try await idle.readAll() == ["ERR SHUTTING_DOWN the server is shutting down; reconnect later"])
                #expect(ContinuousClock.now - started < .seconds(2), "the idle TLS client was told only when the grace ran out")
                await idle.close()
                try await stopped
            }
        }
    }

    @Test func plainTextOnTheTLSPortGetsOnePlainRefusal() async throws {
        let refusal = "ERR TLS_REQUIRED this port speaks TLS: connect with openssl s_client, ncat --ssl or ewmatch --tls; closing"
        try await TestCertificates.with { certificates in
            try await TestServer.with(responder: TestResponder(), tls: try certificates.server()) { port in
                let client = try await LineClient.connect(port: port)
                try await client.send("PING\n")
                // Nothing of the greeting leaks out unencrypted: the refusal is all there is.
                #expect(try await client.readAll() == [refusal])

                // A plain client that waits for the greeting hears the same once no handshake has come.
                let waiting = try await LineClient.connect(port: port)
                #expect(try await waiting.readAll() == [refusal])
            }
        }
    }

    @Test func aTLSHandshakeOnThePlainPortIsRefusedNotLeftWaiting() async throws {
        try await TestServer.with(responder: TestResponder()) { port in
            // The first bytes of a TLS 1.2 ClientHello record.
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send(bytes: [0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03])
            #expect(try await client.readAll() == [
                "ERR TLS_NOT_ENABLED this port speaks plain text, not TLS: connect without TLS; closing"
            ])

            let (code, output) = try await ChildProcess.run(
                TestCertificates.openssl, ["s_client", "-quiet", "-connect", "127.0.0.1:\(port)"], stdin: "PING\n")
            #expect(code != 0, "\(output)")
        }
    }

    @Test func opensslAndNcatClientsSpeakTheProtocol() async throws {
        try await TestCertificates.with { certificates in
            try await TestServer.with(responder: TestResponder(), tls: try certificates.server()) { port in
                let script = "PING\nECHO over TLS\nQUIT\n"
                let expected = ["OK test ready", "OK PONG", "OK over TLS", "OK bye"]
                let (opensslCode, opensslOutput) = try await ChildProcess.run(
                    TestCertificates.openssl,
                    ["s_client", "-quiet", "-verify_return_error", "-CAfile", certificates.certificatePath, "-connect", "127.0.0.1:\(port)"],
                    stdin: script)
                #expect(opensslCode == 0, "\(opensslOutput)")
                #expect(Self.protocolLines(opensslOutput) == expected, "\(opensslOutput)")

                let (ncatCode, ncatOutput) = try await ChildProcess.run(
                    "/usr/bin/ncat", ["-4", "--ssl", "--ssl-verify", "--ssl-trustfile", certificates.certificatePath, "localhost", "\(port)"],
                    stdin: script)
                #expect(ncatCode == 0, "\(ncatOutput)")
                #expect(Self.protocolLines(ncatOutput) == expected, "\(ncatOutput)")
            }
        }
    }

    @Test func reloadedCertificatesServeNewConnectionsWhileOpenOnesGoOn() async throws {
        let first = try await TestCertificates.make(commonName: "first")
        let second = try await TestCertificates.make(commonName: "second")
        let live = try await TestCertificates.make(commonName: "live")
        defer { [first, second, live].forEach { $0.remove() } }
        try first.copy(over: live)
        let certificates = try live.server()
        try await TestServer.with(responder: TestResponder(), tls: certificates) { port in
            let (open, _) = try await LineClient.connectReady(port: port, tls: try first.client())

            try second.copy(over: live)
            try certificates.reload()
            let (renewed, greeting) = try await LineClient.connectReady(port: port, tls: try second.client())
            #expect(greeting == "OK test ready")
            await #expect(throws: (any Error).self) {
                _ = try await LineClient.connectReady(port: port, tls: try first.client())
            }
            #expect(try await open.request("ECHO still here") == "OK still here")

            // Files that cannot be used leave the certificate in use in place.
            try "not a certificate".write(toFile: live.certificatePath, atomically: true, encoding: .utf8)
            #expect(throws: (any Error).self) { try certificates.reload() }
            let (again, _) = try await LineClient.connectReady(port: port, tls: try second.client())
            #expect(try await again.request("PING") == "OK PONG")
            #expect(try await renewed.request("PING") == "OK PONG")
        }
    }

    /// The protocol's lines in a client's output, without what the client itself prints (openssl's
    /// verification notes go to the same file).
    static func protocolLines(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("OK") || $0.hasPrefix("ERR") }
    }
}
