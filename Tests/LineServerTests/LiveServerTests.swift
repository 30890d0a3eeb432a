import CommandProtocol
import MatchCore
import PostgresStore
import Testing
import TestSupport

@Suite("Live server over TCP on a real PostgreSQL")
struct LiveServerTests {
    @Test func greetsThenAnswersInOrder() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let (client, greeting) = try await LineClient.connectReady(port: port)
                #expect(greeting.hasPrefix("OK ewmatch \(ServerSettings.version) protocol=1"))
                #expect(try await client.request("PING") == "OK PONG")
                #expect(try await client.request("ping") == "OK PONG")
                #expect(try await client.request("PING now") == "ERR BAD_ARG unexpected argument 'now'; usage: PING")
                #expect(try await client.request("FROB x").hasPrefix("ERR UNKNOWN_COMMAND "))
                await client.close()
            }
        }
    }

    @Test func tenThousandPipelinedCommandsInOneWriteAreAnsweredInOrder() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                let count = 10_000
                var script = ""
                for index in 0..<count { script += index % 2 == 0 ? "PING\n" : "WHOAMI\n" }
                try await client.send(script)
                for index in 0..<count {
                    let reply = try await client.readLine()
                    let expected = index % 2 == 0 ? "OK PONG" : "OK anonymous; AUTH <token> to sign in"
                    guard reply == expected else {
                        Issue.record("reply \(index) was \(reply ?? "EOF"), expected \(expected)")
                        return
                    }
                }
                #expect(try await client.request("PING") == "OK PONG")
                await client.close()
            }
        }
    }

    @Test func concurrentClientsEachGetTheirOwnAnswers() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for clientIndex in 0..<32 {
                        group.addTask {
                            let (client, _) = try await LineClient.connectReady(port: port)
                            var good = 0
                            if clientIndex % 2 == 0 {
                                if try await client.request("AUTH \(token)").hasPrefix("OK token=") { good += 1 }
                            } else {
                                good += 1
                            }
                            for _ in 0..<50 {
                                let who = try await client.request("WHOAMI")
                                let expected = clientIndex % 2 == 0 ? who.contains("role=admin") : who.hasPrefix("OK anonymous")
                                let pong = try await client.request("PING")
                                if expected && pong == "OK PONG" { good += 1 }
                            }
                            await client.close()
                            return good
                        }
                    }
                    var total = 0
                    for try await good in group { total += good }
                    #expect(total == 32 * 51)
                }
            }
        }
    }

    @Test func anOverLongLineIsRefusedAndTheConnectionGoesOn() async throws {
        try await TestDatabase.with { database in
            let settings = ServerSettings(maximumLineLength: 1_024)
            try await TestServer.with(database: database, settings: settings) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                try await client.send(String(repeating: "A", count: 200_000) + "\nPING\n")
                let refusal = try #require(try await client.readLine())
                #expect(refusal == "ERR LINE_TOO_LONG a line of 200000 bytes exceeds the limit of 1024; it was discarded")
                #expect(try await client.readLine() == "OK PONG")
                #expect(try await client.request("CAPA").hasPrefix("OK "))
                await client.close()
            }
        }
    }

    @Test func badBytesGetAnErrorAndTheConnectionGoesOn() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                try await client.send(bytes: Array("PING\u{0}\n".utf8) + [0x50, 0xFF, 0x0A] + Array("PI\rNG\n".utf8))
                #expect(try await client.readLine()?.hasPrefix("ERR BAD_ENCODING NUL byte") == true)
                #expect(try await client.readLine() == "ERR BAD_ENCODING the line is not valid UTF-8")
                #expect(try await client.readLine()?.hasPrefix("ERR BAD_ENCODING bare carriage return") == true)
                #expect(try await client.request("PING") == "OK PONG")
                await client.close()
            }
        }
    }

    @Test func commandsNeedAuthenticationAndBadTokensAreRefused() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            let settings = ServerSettings(maximumFailedAuth: 3)
            try await TestServer.with(database: database, settings: settings) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                #expect(try await client.request("COUNTY LIST") == "ERR UNAUTHENTICATED AUTH <token> first")
                #expect(try await client.request("AUTH \(TokenSecret.generate())").hasPrefix("ERR AUTH_FAILED "))
                #expect(try await client.request("AUTH \(token)").hasPrefix("OK token="))
                #expect(try await client.request("COUNTY LIST").hasPrefix("OK "))
                await client.close()

                let (guesser, _) = try await LineClient.connectReady(port: port)
                #expect(try await guesser.request("AUTH wrong").hasPrefix("ERR AUTH_FAILED "))
                #expect(try await guesser.request("AUTH wrong").hasPrefix("ERR AUTH_FAILED "))
                #expect(try await guesser.request("AUTH wrong").hasSuffix("closing the connection"))
                #expect(try await guesser.readLine() == nil)
            }
        }
    }

    @Test func failedAuthIsLimitedPerClientAddressAcrossConnections() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            let settings = ServerSettings(maximumFailedAuthPerAddress: 3)
            try await TestServer.with(database: database, settings: settings) { port in
                for _ in 0..<3 {
                    let (guesser, _) = try await LineClient.connectReady(port: port)
                    #expect(try await guesser.request("AUTH ewm_0000000000000000000000000000000000000000").hasPrefix("ERR AUTH_FAILED unknown"))
                    await guesser.close()
                }
                // A fresh connection from the same address, even with a good token, waits out the minute.
                let (client, _) = try await LineClient.connectReady(port: port)
                #expect(try await client.request("AUTH \(token)").hasPrefix("ERR AUTH_FAILED too many failed AUTH from this address"))
                await client.close()
            }
        }
    }

    @Test func anAdministratorMayRevokeItsOwnToken() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                let auth = try await client.request("AUTH \(token)")
                let id = try #require(auth.split(separator: " ").first { $0.hasPrefix("token=") }?.dropFirst(6))
                #expect(try await client.request("TOKEN REVOKE \(id)") == "OK revoked token=\(id)")
                #expect(try await client.request("COUNTY LIST").hasPrefix("ERR AUTH_FAILED "))
                let audited = try await database.pool.withConnection { connection in
                    try connection.query("SELECT count(*) FROM audit_log WHERE command = 'TOKEN REVOKE'").first!.int(0)
                }
                #expect(audited == 1)
                await client.close()
            }
        }
    }

    @Test func aRevokedTokenStopsWorkingOnAnOpenConnection() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                // A read first, so the server has the token (and the county) in memory: the
                // revoke, by hand in PostgreSQL, reaches that memory by its NOTIFY, and the read
                // answered from memory stops then.
                #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("OK "))
                try await database.pool.withConnection { try $0.query("UPDATE api_token SET revoked_at = now()") }
                #expect(try await client.requestUntilRefused("COUNTY SHOW 520204").hasPrefix("ERR AUTH_FAILED "))
                #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("ERR UNAUTHENTICATED "))
                await client.close()

                // NEED ADD checks the token inside its own write.
                let other = try await database.adminToken()
                let (writer, _) = try await LineClient.connectReady(port: port)
                #expect(try await writer.request("AUTH \(other)").hasPrefix("OK "))
                let add = "NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01"
                #expect(try await writer.request(add).hasPrefix("OK id="))
                try await database.pool.withConnection { try $0.query("UPDATE api_token SET revoked_at = now()") }
                #expect(try await writer.request(add).hasPrefix("ERR AUTH_FAILED "))
                #expect(try await writer.request(add).hasPrefix("ERR UNAUTHENTICATED "))
                await writer.close()
            }
        }
    }

    @Test func aCountyChangedAnywhereIsShownThoughTheServerRemembersIt() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                let other = try await LineClient.signedIn(port: port, token: token)
                // The memory answers: a county shown before is shown as it was after a change
                // made with the triggers off, which no NOTIFY reports. (The watch may not listen
                // yet at first: until it does, nothing is remembered and the change shows. On a
                // machine busy with the rest of the suite that took over 5 s once.)
                func silently(name: String) async throws {
                    try await database.pool.withConnection { connection in
                        try connection.execute(
                            script: "BEGIN; SET LOCAL session_replication_role = replica; UPDATE county SET name = '\(name)' WHERE code = '520204'; COMMIT")
                    }
                }
                var fromMemory = ""
                let deadline = ContinuousClock.now + .seconds(30)
                while !fromMemory.contains(" name=水城区 "), ContinuousClock.now < deadline {
                    #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("OK code=520204 "))
                    try await silently(name: "暗改")
                    fromMemory = try await other.request("COUNTY SHOW 520204")
                    try await silently(name: "水城区")
                    if !fromMemory.contains(" name=水城区 ") { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(fromMemory.hasPrefix("OK code=520204 name=水城区 "), "\(fromMemory)")
                // Changed by this instance: the next read, on any connection, sees it.
                #expect(try await client.request("COUNTY UPDATE 520204 name=水城新区").hasPrefix("OK "))
                #expect(try await client.request("COUNTY SHOW 520204").contains(" name=水城新区 "))
                #expect(try await other.request("COUNTY SHOW 520204").contains(" name=水城新区 "))
                // Changed by hand in PostgreSQL: the memory forgets it when its NOTIFY arrives.
                try await database.pool.withConnection { try $0.query("UPDATE county SET name = '水城区' WHERE code = '520204'") }
                #expect(try await client.request("COUNTY SHOW 520204", until: { $0.contains(" name=水城区 ") }).contains(" name=水城区 "))
                // A batch reads its own change; dropped, the change was never there for anyone.
                #expect(try await other.request("BEGIN").hasPrefix("OK "))
                #expect(try await other.request("COUNTY UPDATE 520204 name=未存").hasPrefix("OK "))
                #expect(try await other.request("COUNTY SHOW 520204").contains(" name=未存 "))
                #expect(try await client.request("COUNTY SHOW 520204").contains(" name=水城区 "))
                #expect(try await other.request("ABORT").hasPrefix("OK aborted"))
                #expect(try await other.request("COUNTY SHOW 520204").contains(" name=水城区 "))
                #expect(try await client.request("COUNTY SHOW 999999").hasPrefix("ERR NOT_FOUND "))
                await client.close()
                await other.close()
            }
        }
    }

    @Test func aHalfClosingClientStillReceivesEveryReply() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                try await client.send("# a script\n\nPING\nHELP PING\nPING")
                client.finishSending()
                let lines = try await client.readAll()
                #expect(lines.first == "OK PONG")
                #expect(lines.last == "OK PONG")
                #expect(lines.contains("usage: PING"))
            }
        }
    }

    @Test func anHTTPRequestGetsOneErrorAndIsClosed() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                try await client.send("GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
                let lines = try await client.readAll()
                #expect(lines == ["ERR NOT_THIS_PROTOCOL this is the ewmatch line protocol, not HTTP; connect with nc"])
            }
        }
    }

    @Test func connectionsOverTheLimitGetBusyAndAreClosed() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database, settings: ServerSettings(maximumConnections: 2)) { port in
                // Signed in, so neither gives way to the newcomer.
                let first = try await LineClient.signedIn(port: port, token: token)
                let second = try await LineClient.signedIn(port: port, token: token)
                let third = try await LineClient.connect(port: port)
                try await third.send("PING\n")
                let lines = try await third.readAll()
                #expect(lines.count == 1)
                #expect(lines.first?.hasPrefix("ERR BUSY too many connections") == true)
                #expect(try await first.request("PING") == "OK PONG")
                await first.close()
                await second.close()
            }
        }
    }

    @Test func anIdleConnectionIsClosedWithAReason() async throws {
        try await TestDatabase.with { database in
            try await TestServer.with(database: database, settings: ServerSettings(idleTimeoutSeconds: 1)) { port in
                // Only the greeting, then silence: the server speaks once more and closes.
                let (client, _) = try await LineClient.connectReady(port: port)
                let lines = try await client.readAll()
                #expect(lines == ["ERR IDLE_TIMEOUT no request for 1 s; closing"])
            }
        }
    }

    /// A command still running when shutdown begins finishes and is answered; only then does the
    /// connection close. The test keeps the command busy with a row lock it holds.
    @Test func aCommandInFlightFinishesDuringShutdown() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.withShutdownControl(database: database) { port, shutdown in
                let host = TestServer.isolatedHost
                let (client, _) = try await LineClient.connectReady(port: port, host: host)
                #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
                #expect(try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01").hasPrefix("OK id=1 "))
                let holder = try await database.pool.lease(long: false)
                _ = try await database.pool.run(on: holder.connection) { connection in
                    try connection.execute(script: "BEGIN")
                    try connection.query("SELECT id FROM need WHERE id = 1 FOR UPDATE")
                }
                try await client.send("NEED UPDATE 1 qty=4\n")
                var blocked = false
                for _ in 0..<200 where !blocked {
                    blocked = try await database.pool.withConnection { connection in
                        try connection.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ewmatch' AND wait_event_type = 'Lock' AND query LIKE 'SELECT%FOR UPDATE%'"
                        ).first!.int(0) > 0
                    }
                    if !blocked { try await Task.sleep(for: .milliseconds(25)) }
                }
                #expect(blocked, "NEED UPDATE never reached the row lock")
                async let stopped: Void = shutdown()
                try await Task.sleep(for: .milliseconds(300))
                _ = try await database.pool.run(on: holder.connection) { try $0.execute(script: "COMMIT") }
                database.pool.release(holder)
                // Both lines come before the server closes; read them while it runs.
                let reply = try await client.readLine()
                let farewell = try await client.readLine()
                try await stopped
                #expect(reply?.hasPrefix("OK id=1 ") == true && reply?.contains("qty=4 ") == true, "\(reply ?? "EOF")")
                #expect(farewell == "ERR SHUTTING_DOWN the server is shutting down; reconnect later")
                #expect((try? await client.readLine()) ?? nil == nil, "nothing follows the farewell")
            }
        }
    }

    /// A command that cannot finish (a row lock nobody releases) is cancelled once the shutdown
    /// grace is over: shutdown ends in bounded time, the command's client gets an answer, and its
    /// transaction stores nothing.
    @Test func aStuckCommandIsCancelledWhenTheShutdownGraceIsOver() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            let holder = try await database.pool.lease(long: false)
            try await TestServer.withShutdownControl(
                database: database, host: TestServer.thirdIsolatedHost, shutdownGrace: .seconds(1)
            ) { port, shutdown in
                let (client, _) = try await LineClient.connectReady(port: port, host: TestServer.thirdIsolatedHost)
                #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
                #expect(try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01").hasPrefix("OK id=1 "))
                _ = try await database.pool.run(on: holder.connection) { connection in
                    try connection.execute(script: "BEGIN")
                    try connection.query("SELECT id FROM need WHERE id = 1 FOR UPDATE")
                }
                try await client.send("NEED UPDATE 1 qty=4\n")
                try await Task.sleep(for: .milliseconds(300))
                let started = ContinuousClock.now
                try await shutdown()
                #expect(ContinuousClock.now - started < .seconds(8), "shutdown waited for the stuck command")
                let lines = try await client.readAll()
                #expect(lines.first?.hasPrefix("ERR UNAVAILABLE ") == true, "\(lines)")
            }
            _ = try await database.pool.run(on: holder.connection) { try $0.execute(script: "ROLLBACK") }
            database.pool.release(holder)
            let quantity = try await database.pool.withConnection { try $0.query("SELECT quantity FROM need WHERE id = 1").first!.int(0) }
            #expect(quantity == 3)
        }
    }

    @Test func gracefulShutdownTellsIdleClientsAndStopsAccepting() async throws {
        try await TestDatabase.with { database in
            try await TestServer.withShutdownControl(database: database, host: TestServer.secondIsolatedHost) { port, shutdown in
                let host = TestServer.secondIsolatedHost
                let (idle, _) = try await LineClient.connectReady(port: port, host: host)
                let (busy, _) = try await LineClient.connectReady(port: port, host: host)
                #expect(try await busy.request("PING") == "OK PONG")
                try await shutdown()
                #expect(try await idle.readAll() == ["ERR SHUTTING_DOWN the server is shutting down; reconnect later"])
                #expect(try await busy.readAll() == ["ERR SHUTTING_DOWN the server is shutting down; reconnect later"])
                // Nothing answers there any more. (A connect can still succeed on loopback when the
                // kernel picks the freed port as the client's own: TCP's simultaneous open joins the
                // socket to itself and echoes what it sends, which is no reply.)
                if let late = try? await LineClient.connect(port: port, host: host) {
                    try await late.send("PING\n")
                    let answer = try? await late.readLine()
                    #expect(answer == nil || answer == "PING", "a closed server answered: \(answer ?? "")")
                    await late.close()
                }
            }
        }
    }
}
