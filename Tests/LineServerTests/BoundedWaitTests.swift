import MatchCore
import PostgresStore
import Testing
import TestSupport

/// No client can stop the service: batches, imports and runs share a part of the pool, every
/// lease has a bound, and a run inside a batch is part of it.
@Suite("Bounded waits on a real PostgreSQL")
struct BoundedWaitTests {
    /// Some other client is answered at once (well inside the lease timeout).
    static func othersAreServed(port: Int, token: String) async throws {
        let (other, _) = try await LineClient.connectReady(port: port)
        let started = ContinuousClock.now
        #expect(try await other.request("AUTH \(token)").hasPrefix("OK "))
        #expect(try await other.request("COUNTY SHOW 520204").hasPrefix("OK code=520204 "))
        #expect(ContinuousClock.now - started < .seconds(3), "single commands waited for long holders")
        await other.close()
    }

    @Test func batchesBeyondTheLongHoldersShareAreRefusedAtOnce() async throws {
        try await TestDatabase.with(poolSize: 8) { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                var clients: [LineClient] = []
                var replies: [String] = []
                for _ in 0..<8 {
                    let (client, _) = try await LineClient.connectReady(port: port)
                    clients.append(client)
                    #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
                    replies.append(try await client.request("BEGIN"))
                }
                #expect(replies.filter { $0.hasPrefix("OK ") }.count == 4, "long units share half of a pool of 8: \(replies)")
                #expect(replies.filter { $0.hasPrefix("ERR BUSY ") }.count == 4, "\(replies)")
                try await Self.othersAreServed(port: port, token: token)
                for client in clients { await client.close() }
            }
        }
    }

    @Test func eightBatchesRunningMatchRunsLeaveTheServiceAnswering() async throws {
        try await TestDatabase.with(poolSize: 8) { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                var clients: [LineClient] = []
                for _ in 0..<8 {
                    let (client, _) = try await LineClient.connectReady(port: port)
                    clients.append(client)
                    #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
                    try await client.send("BEGIN\nMATCH RUN\n")
                }
                for client in clients {
                    let begin = try await client.readLine() ?? "EOF"
                    let run = try await client.readLine() ?? "EOF"
                    // A batch that got its unit runs inside it, or finds another batch's run
                    // holding the run lock; one refused a unit also refuses its run (AUTH held).
                    #expect(begin.hasPrefix("OK ") || begin.hasPrefix("ERR BUSY "), "\(begin)")
                    #expect(run.hasPrefix("OK run=") || run.hasPrefix("ERR BUSY "), "\(run)")
                }
                try await Self.othersAreServed(port: port, token: token)
                for client in clients { await client.close() }
                // With every batch gone, runs commit again.
                let admin = try await LineClient.signedIn(port: port, token: token)
                let run = try await admin.request("MATCH RUN wait=5")
                #expect(run.hasPrefix("OK run="), "\(run)")
                await admin.close()
            }
        }
    }

    @Test(arguments: [8, 100])
    func stalledImportsLeaveTheServiceAnswering(imports: Int) async throws {
        try await TestDatabase.with(poolSize: 8) { database in
            let admin = try await database.adminToken()
            let west = try await database.token(role: .west, scope: "county:520204", label: "水城区").secret
            try await TestServer.with(database: database) { port in
                var clients: [LineClient] = []
                for _ in 0..<imports {
                    let (client, _) = try await LineClient.connectReady(port: port)
                    clients.append(client)
                    #expect(try await client.request("AUTH \(west)").hasPrefix("OK "))
                    try await client.send("NEED IMPORT\ncounty,kind,occupations,qty,from,to\n")
                }
                try await Task.sleep(for: .milliseconds(500))
                try await Self.othersAreServed(port: port, token: admin)
                // Four imports held the long holders' share; the rest were refused at once (the
                // reply follows the block, which the client ends now).
                var replies: [String] = []
                for client in clients {
                    try await client.send(".\n")
                    replies.append(try await client.readLine() ?? "EOF")
                }
                #expect(replies.filter { $0.hasPrefix("ERR BUSY ") }.count == imports - 4, "\(replies)")
                #expect(replies.filter { $0 == "OK imported 0 needs" }.count == 4, "\(replies)")
                for client in clients { await client.close() }
            }
        }
    }

    /// Connections that never sign in (here each opens an import and stalls) fill every slot;
    /// a client that signs in still gets in, and is answered at once.
    @Test(arguments: [64, 1_024])
    func unauthenticatedConnectionsAtTheLimitGiveWayToOnesThatSignIn(limit: Int) async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database, settings: ServerSettings(maximumConnections: limit)) { port in
                var stalled: [LineClient] = []
                for _ in 0..<limit {
                    let (client, _) = try await LineClient.connectReady(port: port)
                    try await client.send("NEED IMPORT\ncounty,kind,occupations,qty,from,to\n")
                    stalled.append(client)
                }
                for _ in 0..<3 { try await Self.othersAreServed(port: port, token: token) }
                // Each signed-in client took the place of the oldest stalled one, which was told why.
                let told = try await stalled[0].readAll()
                #expect(told.contains { $0.hasPrefix("ERR BUSY closed to make room") }, "\(told)")
                for client in stalled { await client.close() }
            }
        }
    }

    /// One more than the limit, when every connection has signed in, is refused.
    @Test func aFullServerOfSignedInClientsRefusesTheNext() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database, settings: ServerSettings(maximumConnections: 4)) { port in
                var clients: [LineClient] = []
                for _ in 0..<4 {
                    let client = try await LineClient.signedIn(port: port, token: token)
                    clients.append(client)
                }
                let (late, greeting) = try await LineClient.connectReady(port: port)
                #expect(greeting.hasPrefix("ERR BUSY too many connections"), "\(greeting)")
                await late.close()
                for client in clients { await client.close() }
            }
        }
    }

    @Test func aRunInsideAnAbortedBatchStoresNothing() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                #expect(try await client.request("ORG ADD kind=talent_dispatch name=医院 province=广东省 city=广州市").hasPrefix("OK id=1 "))
                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                #expect(try await client.request("NEED ADD county=520204 kind=talent occupations=2-05 qty=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id="))
                #expect(try await client.request("OFFER ADD org=1 kind=talent occupations=2-05 capacity=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id="))
                let run = try await client.request("MATCH RUN kind=talent")
                #expect(run.hasPrefix("OK run=") && run.contains(" needs=1 ") && run.contains(" proposals=1 "), "the run sees the batch's rows: \(run)")
                #expect(try await client.request("ABORT") == "OK aborted; nothing was stored")
                let runs = try await client.request("RUN LIST")
                #expect(runs.hasPrefix("OK 0 runs"), "\(runs)")
                _ = try await client.readRecords(after: runs)
                let stored = try await database.pool.withConnection { connection in
                    try connection.query(
                        "SELECT (SELECT count(*) FROM match_run) + (SELECT count(*) FROM match) + (SELECT count(*) FROM need) + (SELECT count(*) FROM audit_log WHERE target LIKE 'run%')"
                    ).first!.int(0)
                }
                #expect(stored == 0)
                await client.close()
            }
        }
    }

    @Test func aRunInsideACommittedBatchIsStoredWithIt() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                #expect(try await client.request("ORG ADD kind=talent_dispatch name=医院 province=广东省 city=广州市").hasPrefix("OK id=1 "))
                #expect(try await client.request("BEGIN").hasPrefix("OK "))
                #expect(try await client.request("NEED ADD county=520204 kind=talent occupations=2-05 qty=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id="))
                #expect(try await client.request("OFFER ADD org=1 kind=talent occupations=2-05 capacity=2 from=2027-01-01 to=2027-12-31").hasPrefix("OK id="))
                #expect(try await client.request("MATCH RUN kind=talent").hasPrefix("OK run=1 "))
                #expect(try await client.request("COMMIT") == "OK committed 3 commands")
                let matches = try await client.request("MATCH LIST run=1")
                #expect(matches.hasPrefix("OK 1 matches"), "\(matches)")
                _ = try await client.readRecords(after: matches)
                await client.close()
            }
        }
    }

    @Test func aCommandWaitingForABusyPoolIsAnsweredBusyInBoundedTime() async throws {
        try await TestDatabase.with(poolSize: 2, leaseTimeout: .seconds(1)) { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                // Something else holds every connection.
                let held = [try await database.pool.lease(long: false), try await database.pool.lease(long: false)]
                let started = ContinuousClock.now
                let reply = try await client.request("COUNTY SHOW 520204")
                #expect(reply.hasPrefix("ERR BUSY "), "\(reply)")
                #expect(ContinuousClock.now - started < .seconds(10))
                for lease in held { database.pool.release(lease) }
                #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("OK code=520204 "))
                await client.close()
            }
        }
    }

    @Test func theFirstCommandAfterTheDatabaseDroppedEveryConnectionSucceeds() async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: token)
                #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("OK code=520204 "))
                // What a PostgreSQL restart does to idle pooled connections.
                let admin = ConnectionPool(conninfo: "", size: 1, logger: testLogger)
                _ = try await admin.withConnection { connection in
                    try connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database.name)")
                }
                await admin.close()
                #expect(try await client.request("COUNTY SHOW 520204").hasPrefix("OK code=520204 "))
                #expect(
                    try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-02-01")
                        .hasPrefix("OK id=1 "))
                await client.close()
            }
        }
    }
}
