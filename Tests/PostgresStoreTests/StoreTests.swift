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
