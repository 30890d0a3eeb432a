import MatchCore
import Synchronization

extension PostgresRepository {
    public func importReference() async throws -> ImportReference {
        try await read { connection in
            let counties = Set(try connection.query("SELECT code FROM county").rows.map { try $0.string(0) })
            let occupations = Set(try connection.query("SELECT code FROM occupation").rows.map { try $0.string(0) })
            var organisations: [Int64: (String, String)] = [:]
            for row in try connection.query("SELECT id, province, city FROM organisation").rows {
                organisations[try row.int64(0)] = (try row.string(1), try row.string(2))
            }
            return ImportReference(counties: counties, occupations: occupations, organisations: organisations)
        }
    }

    public func beginCopy(_ statement: String) async throws -> any CopyWriter {
        try await Self.translatingErrors {
            if let pinned = batchConnection {
                try await pool.run(on: pinned) { try $0.copyStart(statement) }
                return PostgresCopy(pool: pool, connection: pinned, ownsTransaction: false)
            }
            let connection = try await pool.checkout()
            do {
                try await pool.run(on: connection) { connection in
                    try connection.execute(script: "BEGIN")
                    try connection.copyStart(statement)
                }
            } catch {
                _ = try? await pool.run(on: connection) { try $0.execute(script: "ROLLBACK") }
                pool.checkin(connection)
                throw error
            }
            return PostgresCopy(pool: pool, connection: connection, ownsTransaction: true)
        }
    }

    /// A COPY in progress. Outside a batch it owns its transaction and connection; inside one it
    /// is part of the batch's transaction.
    final class PostgresCopy: CopyWriter {
        let pool: ConnectionPool
        let connection: PGConnection
        let ownsTransaction: Bool
        /// Set once finished or cancelled: the connection goes back to the pool exactly once.
        private let ended = Atomic<Bool>(false)

        init(pool: ConnectionPool, connection: PGConnection, ownsTransaction: Bool) {
            self.pool = pool
            self.connection = connection
            self.ownsTransaction = ownsTransaction
        }

        func write(_ rows: [UInt8]) async throws {
            try await PostgresRepository.translatingErrors {
                try await pool.run(on: connection) { try $0.copyPut(rows) }
            }
        }

        func finish(audit: AuditEntry) async throws -> Int {
            guard !ended.exchange(true, ordering: .relaxed) else { throw PGError(sqlState: nil, message: "the COPY has ended") }
            let owns = ownsTransaction
            do {
                let stored = try await PostgresRepository.translatingErrors {
                    try await pool.run(on: connection) { connection in
                        let stored = try connection.copyEnd()
                        var entry = audit
                        entry.changes.append(("rows", "\(stored)"))
                        try PostgresRepository.insertAudit(entry, on: connection)
                        if owns { try connection.execute(script: "COMMIT") }
                        return stored
                    }
                }
                if owns { pool.checkin(connection) }
                return stored
            } catch {
                if owns {
                    _ = try? await pool.run(on: connection) { try $0.execute(script: "ROLLBACK") }
                    pool.checkin(connection)
                }
                throw error
            }
        }

        func cancel(reason: String) async {
            guard !ended.exchange(true, ordering: .relaxed) else { return }
            let owns = ownsTransaction
            _ = try? await pool.run(on: connection) { connection in
                connection.copyAbort(reason)
                if owns { try connection.execute(script: "ROLLBACK") }
            }
            if owns { pool.checkin(connection) }
        }
    }
}
