import MatchCore
import PostgresStore
import Testing
import TestSupport

@Suite("PostgreSQL store over libpq")
struct StoreTests {
    @Test func migrationsCreateTheSchemaOnceAndRecordIt() async throws {
        try await TestDatabase.with { database in
            let again = try await Migrator(pool: database.pool, logger: testLogger).migrate()
            #expect(again.isEmpty)
            let versions = try await database.pool.withConnection { connection in
                try connection.query("SELECT version FROM schema_migration ORDER BY version").rows.map { try $0.int(0) }
            }
            #expect(versions == Migrator.all.map(\.version))
            let tables = try await database.pool.withConnection { connection in
                try connection.query(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('need', 'offer', 'county', 'api_token', 'audit_log', 'match', 'match_run')"
                ).first!.int(0)
            }
            #expect(tables == 7)
        }
    }

    @Test func twoInstancesMigratingTogetherTakeTurns() async throws {
        try await TestDatabase.with(poolSize: 2, migrated: false) { database in
            let other = ConnectionPool(conninfo: database.conninfo, size: 1, logger: testLogger)
            async let first = Migrator(pool: database.pool, logger: testLogger).migrate()
            async let second = Migrator(pool: other, logger: testLogger).migrate()
            let applied = try await [first, second]
            await other.close()
            #expect(applied.map(\.count).sorted() == [0, Migrator.all.count])
        }
    }

    @Test(arguments: ["plain", "it's \"quoted\"; DROP TABLE need; --", "两个 words", "", "back\\slash\nnewline"])
    func valuesTravelAsBindsNeverAsSQL(value: String) async throws {
        try await TestDatabase.with { database in
            let echoed = try await database.pool.withConnection { connection in
                try connection.query("SELECT \(value)::text, \(42)::int + 1").first!
            }
            #expect(echoed[0] == value)
            #expect(try echoed.int(1) == 43)
        }
    }

    @Test func errorsCarryTheSQLState() async throws {
        try await TestDatabase.with { database in
            await #expect {
                try await database.pool.withConnection { try $0.query("SELEC 1") }
            } throws: { ($0 as? PGError)?.sqlState == "42601" }
            await #expect {
                try await database.pool.withConnection { connection in
                    try connection.query("INSERT INTO organisation (kind, name, province) VALUES ('school', 'A', '32')")
                    try connection.query("INSERT INTO organisation (kind, name, province) VALUES ('school', 'A', '32')")
                }
            } throws: { ($0 as? PGError)?.sqlState == "23505" }
        }
    }

    /// Proposals' keys are checked per statement (migration 024), and hold as the foreign keys
    /// held them: a proposal must name a need, an offer and a run that exist, and none of those
    /// can be deleted, recoded or truncated while a proposal names it.
    @Test func proposalsNameRowsThatExistAndKeepThem() async throws {
        try await TestDatabase.with { database in
            func refused(_ sql: String) async -> Bool {
                do {
                    _ = try await database.pool.withConnection { try $0.execute(script: sql) }
                    return false
                } catch {
                    return (error as? PGError)?.sqlState == "23503"
                }
            }
            _ = try await database.pool.withConnection { connection in
                try connection.execute(
                    script: """
                        INSERT INTO organisation (kind, name, province, city) VALUES ('enterprise', 'E', '32', '无锡市');
                        INSERT INTO need (county, kind, occupations, quantity, window_start, window_end)
                            VALUES ('520204', 'labor', '{6-01}', 3, '2027-01-01', '2027-02-01'),
                                   ('520204', 'labor', '{6-01}', 3, '2027-01-01', '2027-02-01');
                        INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                            VALUES (1, 'labor', '{6-01}', 5, '2027-01-01', '2027-12-31');
                        INSERT INTO match_run (mode, input_hash, weights) VALUES ('optimal', 'test', '{}');
                        INSERT INTO match (run, need, offer, units, score) VALUES (1, 1, 1, 2, 500);
                        """)
            }
            #expect(await refused("INSERT INTO match (run, need, offer, units, score) VALUES (1, 99, 1, 1, 500)"))
            #expect(await refused("INSERT INTO match (run, need, offer, units, score) VALUES (1, 2, 99, 1, 500)"))
            #expect(await refused("INSERT INTO match (run, need, offer, units, score) VALUES (9, 2, 1, 1, 500)"))
            #expect(await refused("UPDATE match SET need = 99"))
            #expect(await refused("DELETE FROM need WHERE id = 1"))
            #expect(await refused("UPDATE offer SET id = 7 WHERE id = 1"))
            #expect(await refused("DELETE FROM match_run"))
            #expect(await refused("TRUNCATE offer CASCADE"))
            // What no proposal names goes as before; so do proposals themselves.
            #expect(!(await refused("INSERT INTO match (run, need, offer, units, score) VALUES (1, 2, 1, 1, 500)")))
            #expect(!(await refused("DELETE FROM match WHERE need = 2; DELETE FROM need WHERE id = 2")))
            let left = try await database.pool.withConnection {
                try $0.query("SELECT (SELECT count(*) FROM match), (SELECT count(*) FROM need)").first!
            }
            #expect(try left.int(0) == 1 && left.int(1) == 1)
        }
    }

    @Test func aTransactionThatFailsLeavesNothing() async throws {
        try await TestDatabase.with { database in
            await #expect(throws: StoreError.self) {
                try await PGStore(pool: database.pool).bootstrap { db in
                    let organisation = Organisation(kind: .school, name: "B", province: "32", city: "")
                    _ = try db.registry.addOrganisation(organisation)
                    _ = try db.registry.addOrganisation(organisation)
                }
            }
            let count = try await database.pool.withConnection {
                try $0.query("SELECT count(*) FROM organisation").first!.int(0)
            }
            #expect(count == 0)
        }
    }

    @Test func aConnectionKilledByTheServerIsReplaced() async throws {
        try await TestDatabase.with(poolSize: 1) { database in
            let pid = try await database.pool.withConnection { $0.backendPID }
            #expect(pid != 0)
            let admin = ConnectionPool(conninfo: database.conninfo, size: 1, logger: testLogger)
            let terminated = try await admin.withConnection { try $0.query("SELECT pg_terminate_backend(\(pid))").first![0] }
            await admin.close()
            #expect(terminated == "t")
            // The pool's only connection is dead; the next lease must notice and reconnect.
            var answered = false
            for _ in 0..<50 where !answered {
                answered = (try? await database.pool.withConnection { try $0.query("SELECT 1").first![0] }) == "1"
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered)
            let newPID = try await database.pool.withConnection { $0.backendPID }
            #expect(newPID != pid)
        }
    }

    @Test func copyStreamsRowsIn() async throws {
        try await TestDatabase.with { database in
            let stored = try await database.pool.withConnection { connection in
                try connection.copyStart("COPY organisation (kind, name, province) FROM STDIN")
                for row in 0..<50 { try connection.copyPut(Array("enterprise\t企业 \(row)\t44\n".utf8)) }
                return try connection.copyEnd()
            }
            #expect(stored == 50)
            let count = try await database.pool.withConnection { try $0.query("SELECT count(*) FROM organisation").first!.int(0) }
            #expect(count == 50)
        }
    }

    @Test func tokensAreStoredHashedAndStopWorkingWhenRevokedOrExpired() async throws {
        try await TestDatabase.with { database in
            let store = PGStore(pool: database.pool)
            let secret = TokenSecret.generate()
            let created = try await store.bootstrap { db in
                try TokenScopes.createFromShell(
                    secret: secret, role: .west, scope: "county:520204", label: "guizhou", expiresInDays: 30, command: "test", in: db)
            }
            #expect(created.role == .west)
            #expect(try await store.read(token: nil) { try $0.tokens.authenticate(secret: secret) } == created)
            #expect(try await store.read(token: nil) { try $0.tokens.authenticate(secret: TokenSecret.generate()) } == nil)
            let storedSecrets = try await database.pool.withConnection { connection in
                try connection.query("SELECT count(*) FROM api_token WHERE position(convert_to(\(secret), 'UTF8') in token_hash) > 0").first!.int(0)
            }
            #expect(storedSecrets == 0)
            try await database.pool.withConnection { try $0.query("UPDATE api_token SET expires_at = now() - interval '1 second'") }
            #expect(try await store.read(token: nil) { try $0.tokens.authenticate(secret: secret) } == nil)
            await #expect(throws: StoreError.tokenRevoked) { try await store.read(token: created.tokenID) { _ in } }
            try await database.pool.withConnection { try $0.query("UPDATE api_token SET expires_at = NULL, revoked_at = now()") }
            #expect(try await store.read(token: nil) { try $0.tokens.authenticate(secret: secret) } == nil)
        }
    }
}
