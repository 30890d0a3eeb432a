import CommandProtocol
import InMemoryLogging
import Logging
import Testing
import TestSupport

/// The real `LineServer` over TCP on 127.0.0.1, serving `TestResponder`: framing, limits, clocks
/// and shutdown, with no command logic and no database behind them. Deadlines are short, and every
/// test ends when the server closes the connection, so none waits on a fixed delay.
@Suite("LineServer on its own", .timeLimit(.minutes(1)))
struct TransportTests {
    @Test func greetsThenAnswersEachLine() async throws {
        try await TestServer.with(responder: TestResponder()) { port in
            let (client, greeting) = try await LineClient.connectReady(port: port)
            #expect(greeting == "OK test ready")
            #expect(try await client.request("PING") == "OK PONG")
            try await client.send("# a comment gets no reply\n\n")
            #expect(try await client.request("ECHO 你好") == "OK 你好")
            #expect(try await client.request("QUIT") == "OK bye")
            #expect(try await client.readAll() == [])
        }
    }

    @Test func pipelinedLinesAreAnsweredInOrder() async throws {
        try await TestServer.with(responder: TestResponder()) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            // More replies than are ever gathered into one write.
            let count = 20_000
            var script = ""
            for index in 0..<count {
                script += "ECHO \(index)\n"
                if index % 1_000 == 0 { script += "# comment\n\nBLOCK SEND\nrow \(index)\n.\n" }
            }
            try await client.send(script)
            for index in 0..<count {
                let expected = "OK \(index)"
                guard try await client.readLine() == expected else {
                    Issue.record("reply \(index) was not \(expected)")
                    return
                }
                if index % 1_000 == 0 {
                    #expect(try await client.readLine() == "OK stored 1 lines")
                }
            }
            #expect(try await client.request("PING") == "OK PONG")
            await client.close()
        }
    }

    @Test func theFirstLineMayCarryAByteOrderMarkAndMustNotBeHTTP() async throws {
        try await TestServer.with(responder: TestResponder()) { port in
            let (marked, _) = try await LineClient.connectReady(port: port)
            try await marked.send(bytes: [0xEF, 0xBB, 0xBF] + Array("PING\n".utf8))
            #expect(try await marked.readLine() == "OK PONG")
            await marked.close()

            let (browser, _) = try await LineClient.connectReady(port: port)
            try await browser.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(try await browser.readAll() == ["ERR NOT_THIS_PROTOCOL this is the ewmatch line protocol, not HTTP; connect with nc"])

            let (later, _) = try await LineClient.connectReady(port: port)
            #expect(try await later.request("PING") == "OK PONG")
            #expect(try await later.request("GET / HTTP/1.1") == "ERR UNKNOWN_COMMAND GET / HTTP/1.1")
            await later.close()
        }
    }

    @Test func anOverLongLineIsRefusedAndTheConnectionGoesOn() async throws {
        try await TestServer.with(responder: TestResponder(maximumLineLength: 64)) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send(String(repeating: "A", count: 100_000) + "\nPING\n")
            #expect(try await client.readLine() == "ERR LINE_TOO_LONG a line of 100000 bytes exceeds the limit of 64; it was discarded")
            #expect(try await client.readLine() == "OK PONG")
            await client.close()
        }
    }

    @Test func aDataBlockBelongsToItsCommandEvenWhenTheCommandStopsEarly() async throws {
        let responder = TestResponder()
        try await TestServer.with(responder: responder) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send("BLOCK SEND\nline one\n..dotted\n..\n.\nPING\n")
            #expect(try await client.readLine() == "OK stored 3 lines")
            #expect(try await client.readLine() == "OK PONG")
            try await client.send("BLOCK SEND\na\nSTOP\nPING\n.\nECHO after\n")
            #expect(try await client.readLine() == "ERR BAD_ARG stopped at block line 2")
            #expect(try await client.readLine() == "OK after")
            await client.close()
        }
        #expect(responder.record.blocks == [["line one", ".dotted", "."]])
    }

    @Test func connectionsOverTheLimitGetBusyAndAreClosed() async throws {
        try await TestServer.with(responder: TestResponder(maximumConnections: 2)) { port in
            let (first, _) = try await LineClient.connectReady(port: port)
            #expect(try await first.request("AUTH") == "OK signed in")
            let (second, _) = try await LineClient.connectReady(port: port)
            #expect(try await second.request("AUTH") == "OK signed in")
            let third = try await LineClient.connect(port: port)
            try await third.send("PING\n")
            #expect(try await third.readAll() == ["ERR BUSY too many connections (limit 2); try again later"])
            #expect(try await first.request("PING") == "OK PONG")
            await first.close()
            await second.close()
        }
    }

    @Test func atTheLimitTheOldestConnectionThatHasNotSignedInGivesWay() async throws {
        try await TestServer.with(responder: TestResponder(maximumConnections: 2)) { port in
            let (waiting, _) = try await LineClient.connectReady(port: port)
            let (member, _) = try await LineClient.connectReady(port: port)
            #expect(try await member.request("AUTH") == "OK signed in")
            let (newcomer, greeting) = try await LineClient.connectReady(port: port)
            #expect(greeting.hasPrefix("OK "))
            #expect(try await newcomer.request("PING") == "OK PONG")
            #expect(try await waiting.readAll() == ["ERR BUSY closed to make room: the server is full and this connection has not signed in"])
            #expect(try await member.request("PING") == "OK PONG")
            await member.close()
            await newcomer.close()
        }
    }

    @Test func anIdleConnectionIsClosedWithAReason() async throws {
        try await TestServer.with(responder: TestResponder(idleTimeout: .milliseconds(500))) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            #expect(try await client.readAll() == ["ERR IDLE_TIMEOUT no request for 0.5 s; closing"])
        }
    }

    /// Slowloris: every byte resets the idle clock (the bytes come far more often than it runs
    /// out), but a line must end in time.
    @Test func aLineTrickledInByteByByteIsCutOff() async throws {
        // The idle clock is long enough that a loaded machine does not starve the trickle past it.
        try await TestServer.with(responder: TestResponder(idleTimeout: .seconds(4))) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            let lines = try await client.trickle(Array(String(repeating: "ECHO ", count: 400).utf8), every: .milliseconds(10))
            #expect(lines == ["ERR TOO_SLOW a request line must end within 4 s of its first byte; closing"])
        }
    }

    @Test func aDataBlockBehindTheMinimumRateIsRefusedAndNothingStored() async throws {
        let responder = TestResponder(dataBlockTimeout: .milliseconds(500), dataBlockMinimumBytesPerSecond: 1_000_000)
        try await TestServer.with(responder: responder) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send("BLOCK SEND\nfirst row\n")
            // Whole lines keep coming, yet they earn less time than they take.
            let lines = try await client.trickle(Array(String(repeating: "row\n", count: 100).utf8), every: .milliseconds(10))
            #expect(
                lines == [
                    "ERR TOO_SLOW a data block must end within 0.5 s of its command line plus 1 s per 1000000 bytes received; nothing was stored; closing"
                ])
        }
        #expect(responder.record.blocks.isEmpty)
    }

    @Test func aSlowDataBlockThatKeepsTheRateIsTakenWhole() async throws {
        // Each byte earns a second, far more than the pause after it.
        let responder = TestResponder(dataBlockTimeout: .seconds(2), dataBlockMinimumBytesPerSecond: 1)
        try await TestServer.with(responder: responder) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send("BLOCK SEND\n")
            let lines = try await client.trickle(Array("a\nb\n.\nQUIT\n".utf8), every: .milliseconds(50))
            #expect(lines == ["OK stored 2 lines", "OK bye"])
        }
        #expect(responder.record.blocks == [["a", "b"]])
    }

    @Test func aConnectionThatDoesNotAuthenticateInTimeIsClosed() async throws {
        try await TestServer.with(responder: TestResponder(authenticationTimeout: .seconds(2))) { port in
            let signedIn = try await LineClient.connect(port: port)
            try await signedIn.send("AUTH\n")
            let (anonymous, _) = try await LineClient.connectReady(port: port)
            #expect(try await anonymous.readAll() == ["ERR TOO_SLOW no AUTH within 2 s of connecting; closing"])
            #expect(try await signedIn.readLine() == "OK test ready")
            #expect(try await signedIn.readLine() == "OK signed in")
            // The anonymous client was closed after the deadline, and this one still answers.
            #expect(try await signedIn.request("PING") == "OK PONG")
            await signedIn.close()
        }
    }

    @Test func anAnonymousUploadEndsAtTheAuthenticationDeadline() async throws {
        let responder = TestResponder(authenticationTimeout: .milliseconds(500))
        try await TestServer.with(responder: responder) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send("BLOCK SEND\n")
            let lines = try await client.trickle(Array(String(repeating: "row\n", count: 500).utf8), every: .milliseconds(5))
            #expect(lines == ["ERR TOO_SLOW no AUTH within 0.5 s of connecting; closing"])
        }
        #expect(responder.record.blocks.isEmpty)
    }

    @Test func aClientLeavingInsideADataBlockIsLoggedAtInfo() async throws {
        let logs = InMemoryLogHandler()
        let responder = TestResponder()
        try await TestServer.with(responder: responder, logger: Logger(label: "transport-test") { _ in logs }) { port in
            let (client, _) = try await LineClient.connectReady(port: port)
            try await client.send("BLOCK SEND\nrow 1\nrow 2\n")
            client.finishSending()
            #expect(
                try await client.readAll() == [
                    "ERR BAD_SYNTAX the input ended inside the data block, before its closing '.'; nothing was stored"
                ])
        }
        #expect(responder.record.blocks.isEmpty)
        let entry = try #require(logs.entries.first { $0.message.description.hasPrefix("the input ended inside a data block") })
        #expect(entry.level == .info)
        #expect(entry.metadata["lines"] == "2")
        #expect(entry.metadata["command"] == "BLOCK SEND")
        #expect(!logs.entries.contains { $0.level >= .warning })
    }

    @Test func gracefulShutdownFinishesTheCommandInFlightAndTellsIdleClients() async throws {
        let responder = TestResponder()
        try await TestServer.withShutdownControl(responder: responder, host: "127.0.0.1") { port, shutdown in
            let (busy, _) = try await LineClient.connectReady(port: port)
            let (idle, _) = try await LineClient.connectReady(port: port)
            try await busy.send("WAIT\n")
            await responder.gate.waitUntilEntered()
            async let stopped: Void = shutdown()
            #expect(try await idle.readAll() == ["ERR SHUTTING_DOWN the server is shutting down; reconnect later"])
            responder.gate.open()
            #expect(try await busy.readAll() == ["OK waited", "ERR SHUTTING_DOWN the server is shutting down; reconnect later"])
            try await stopped
        }
        #expect(responder.record.endedSessions == 2)
    }
}
