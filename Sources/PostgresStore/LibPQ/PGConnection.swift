internal import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One libpq connection. Every call blocks, so callers run it on the store's thread pool, never on
/// an event loop; the pool hands a connection to one job at a time.
public final class PGConnection: Sendable {
    private let conninfo: String
    private let handle = Mutex<OpaquePointer?>(nil)
    /// Statement text → the name it is prepared under on the current server connection. Every
    /// statement ewmatch sends is fixed text chosen by code (values travel as binds), so the set
    /// is small; past `maximumPrepared` the rest run unprepared.
    private let prepared = Mutex<[String: String]>([:])
    private static let maximumPrepared = 512
    /// Between `copyStart` and the end of that COPY.
    private let copying = Atomic<Bool>(false)
    /// What the open transaction changed of the rows servers remember, as the notifications its
    /// commit sends (see `ChangeWatch`): this instance hears them at the transaction's end, so it
    /// forgets those rows before it answers, not only when the NOTIFY arrives.
    private let changes = Mutex<[PGNotification]>([])
    /// libpq's cancel request for the current server connection. Kept apart from `handle`, which
    /// a running statement holds: cancelling is done from another thread while it runs.
    private let canceller = Mutex<CancelRequest?>(nil)

    /// libpq documents PQcancel as safe to call from any thread with its own PGcancel object.
    private struct CancelRequest: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Does not connect; the first `ensureConnected()` does.
    public init(conninfo: String) {
        self.conninfo = conninfo
    }

    deinit {
        handle.withLock { pointer in
            if let pointer { PQfinish(pointer) }
        }
        replaceCanceller(with: nil)
    }

    private func replaceCanceller(with new: CancelRequest?) {
        canceller.withLock { current in
            if let current { PQfreeCancel(current.pointer) }
            current = new
        }
    }

    /// Asks the server to cancel the statement running on this connection, if any: it then
    /// fails with SQLSTATE 57014 and its transaction stores nothing. Safe from any thread.
    public func cancelRunningStatement() {
        canceller.withLock { current in
            guard let current else { return }
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(current.pointer, &message, Int32(message.count))
        }
    }

    /// Opens a connection, or replaces one the server has closed (a restart, a terminated backend).
    public func ensureConnected() throws(PGError) {
        try handle.withLock { (pointer: inout OpaquePointer?) throws(PGError) in
            if let current = pointer {
                // Reads whatever the server sent while idle; a closed socket turns the status bad.
                if PQstatus(current) == CONNECTION_OK && PQconsumeInput(current) == 1 && PQstatus(current) == CONNECTION_OK {
                    return
                }
                PQfinish(current)
                pointer = nil
            }
            prepared.withLock { $0.removeAll() }
            let fresh = Self.connect(conninfo)
            guard let fresh, PQstatus(fresh) == CONNECTION_OK else {
                let message = fresh.map { Self.errorText($0) } ?? "out of memory"
                if let fresh { PQfinish(fresh) }
                throw PGError(sqlState: nil, message: "cannot connect to PostgreSQL: \(message)", isConnectionFailure: true)
            }
            pointer = fresh
            replaceCanceller(with: PQgetCancel(fresh).map(CancelRequest.init))
        }
    }

    public func disconnect() {
        handle.withLock { pointer in
            if let current = pointer { PQfinish(current) }
            pointer = nil
        }
        replaceCanceller(with: nil)
        prepared.withLock { $0.removeAll() }
        copying.store(false, ordering: .relaxed)
    }

    public func noteChange(_ change: PGNotification) {
        changes.withLock { $0.append(change) }
    }

    /// The changes noted since the last call: the transaction that made them has ended.
    public func takeChanges() -> [PGNotification] {
        changes.withLock { changes in
            defer { changes.removeAll() }
            return changes
        }
    }

    public var isConnected: Bool {
        handle.withLock { pointer in pointer.map { PQstatus($0) == CONNECTION_OK } ?? false }
    }

    /// The backend's process id, so tests can terminate it to prove the pool replaces it.
    public var backendPID: Int32 {
        handle.withLock { pointer in pointer.map { PQbackendPID($0) } ?? 0 }
    }

    /// Runs one statement with its binds as text parameters. The statement is prepared on this
    /// connection the first time it is sent (a libpq named statement), so later calls skip
    /// parsing and planning.
    @discardableResult
    public func query(_ query: PGQuery) throws(PGError) -> PGResult {
        try withHandle { connection throws(PGError) in
            guard let name = try preparedName(for: query, on: connection) else {
                let result = Self.withCStrings(query.binds) { values in
                    PQexecParams(connection, query.sql, Int32(values.count), nil, values, nil, nil, 0)
                }
                return try Self.consume(result, connection: connection)
            }
            let result = Self.withCStrings(query.binds) { values in
                PQexecPrepared(connection, name, Int32(values.count), values, nil, nil, 0)
            }
            return try Self.consume(result, connection: connection)
        }
    }

    /// The name `query` is prepared under, preparing it now if needed; nil once the cache is full.
    private func preparedName(for query: PGQuery, on connection: OpaquePointer) throws(PGError) -> String? {
        let known = prepared.withLock { cache -> (name: String?, full: Bool) in
            (cache[query.sql], cache.count >= Self.maximumPrepared)
        }
        if let name = known.name { return name }
        if known.full { return nil }
        let name = "ewm\(prepared.withLock { $0.count } + 1)"
        _ = try Self.consume(PQprepare(connection, name, query.sql, Int32(query.binds.count), nil), connection: connection)
        prepared.withLock { $0[query.sql] = name }
        return name
    }

    /// Runs a script of several statements without parameters (migrations, `BEGIN`/`COMMIT`).
    public func execute(script: String) throws(PGError) {
        try withHandle { connection throws(PGError) in
            _ = try Self.consume(PQexec(connection, script), connection: connection)
        }
    }

    /// Starts `COPY … FROM STDIN`; the data follows with `copyPut`, then `copyEnd` or `copyAbort`.
    public func copyStart(_ statement: String) throws(PGError) {
        try withHandle { connection throws(PGError) in
            let start = PQexec(connection, statement)
            guard PQresultStatus(start) == PGRES_COPY_IN else {
                _ = try Self.consume(start, connection: connection)
                throw PGError(sqlState: nil, message: "\(statement) did not start COPY")
            }
            PQclear(start)
            copying.store(true, ordering: .relaxed)
        }
    }

    public func copyPut(_ bytes: [UInt8]) throws(PGError) {
        try withHandle { connection throws(PGError) in
            let sent = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else {
                throw PGError(sqlState: nil, message: Self.errorText(connection), isConnectionFailure: PQstatus(connection) != CONNECTION_OK)
            }
        }
    }

    /// Ends the COPY and returns the rows it stored; a bad row surfaces here as the server's error.
    @discardableResult
    public func copyEnd() throws(PGError) -> Int {
        try finishCopy(failure: nil)
    }

    /// Ends the COPY in progress, if any, so that it stores nothing.
    public func copyAbort(_ reason: String) {
        guard copying.load(ordering: .relaxed) else { return }
        _ = try? finishCopy(failure: reason)
    }

    private func finishCopy(failure: String?) throws(PGError) -> Int {
        copying.store(false, ordering: .relaxed)
        return try withHandle { connection throws(PGError) in
            if PQputCopyEnd(connection, failure) != 1 {
                throw PGError(sqlState: nil, message: Self.errorText(connection), isConnectionFailure: PQstatus(connection) != CONNECTION_OK)
            }
            defer { Self.drainResults(connection) }
            return try Self.consume(PQgetResult(connection), connection: connection).affectedRows
        }
    }

    /// Waits up to `timeout` for notifications on the channels this connection `LISTEN`s to
    /// and returns them (none when the time passed quietly). A connection the server
    /// closed throws a connection failure, so the listener knows to start over.
    public func notifications(waitingUpTo timeout: Duration) throws(PGError) -> [PGNotification] {
        try withHandle { connection throws(PGError) in
            let waiting = Self.takeNotifications(connection)
            guard waiting.isEmpty else { return waiting }
            var socket = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&socket, 1, milliseconds) >= 0 || errno == EINTR else {
                throw PGError(sqlState: nil, message: "poll failed: errno \(errno)", isConnectionFailure: true)
            }
            guard PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else {
                throw PGError(sqlState: nil, message: Self.errorText(connection), isConnectionFailure: true)
            }
            return Self.takeNotifications(connection)
        }
    }

    private static func takeNotifications(_ connection: OpaquePointer) -> [PGNotification] {
        var notifications: [PGNotification] = []
        while let notification = PQnotifies(connection) {
            notifications.append(
                PGNotification(channel: String(cString: notification.pointee.relname), payload: String(cString: notification.pointee.extra)))
            PQfreemem(notification)
        }
        return notifications
    }

    private func withHandle<T: Sendable>(_ body: (OpaquePointer) throws(PGError) -> T) throws(PGError) -> T {
        try handle.withLock { (pointer: inout OpaquePointer?) throws(PGError) -> T in
            guard let connection = pointer else {
                throw PGError(sqlState: nil, message: "not connected", isConnectionFailure: true)
            }
            return try body(connection)
        }
    }

    private static func connect(_ conninfo: String) -> OpaquePointer? {
        // The caller's conninfo (expanded from "dbname") overrides these defaults.
        let keys = ["connect_timeout", "fallback_application_name", "options", "dbname"]
        let values = ["5", "ewmatch", "-c client_min_messages=warning", conninfo]
        return withCStrings(keys) { keyPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers + [nil], valuePointers + [nil], 1)
            }
        }
    }

    /// Copies the result out, clears it, and turns an error status into a `PGError`.
    private static func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws(PGError) -> PGResult {
        guard let result else {
            throw PGError(sqlState: nil, message: errorText(connection), isConnectionFailure: PQstatus(connection) != CONNECTION_OK)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let columnCount = Int(PQnfields(result))
            let rowCount = Int(PQntuples(result))
            var rows: [PGRow] = []
            rows.reserveCapacity(rowCount)
            for row in 0..<rowCount {
                var values: [String?] = []
                values.reserveCapacity(columnCount)
                for column in 0..<columnCount {
                    if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                        values.append(nil)
                    } else {
                        values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                    }
                }
                rows.append(PGRow(values: values))
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return PGResult(rows: rows, affectedRows: affected)
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let detail = PQresultErrorField(result, Int32(UInt8(ascii: "D"))).map { String(cString: $0) }
            var message = primary ?? trimmed(String(cString: PQresultErrorMessage(result)))
            if let detail { message += ": \(detail)" }
            if message.isEmpty { message = errorText(connection) }
            throw PGError(
                sqlState: state, message: message, isConnectionFailure: PQstatus(connection) != CONNECTION_OK)
        }
    }

    private static func drainResults(_ connection: OpaquePointer) {
        while let extra = PQgetResult(connection) { PQclear(extra) }
    }

    private static func errorText(_ connection: OpaquePointer) -> String {
        trimmed(String(cString: PQerrorMessage(connection)))
    }

    private static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }

    private static func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let duplicates: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
        defer { duplicates.forEach { free($0) } }
        return body(duplicates.map { $0.map { UnsafePointer($0) } })
    }
}

/// One NOTIFY heard on a connection that listens.
public struct PGNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
}
