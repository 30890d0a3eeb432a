#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MatchCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Rows the server keeps in memory so that the commands reading them most need no round trip to
/// PostgreSQL: the tokens known valid (an authenticated read skips its token check) and the
/// counties (`COUNTY SHOW`). Triggers on their tables notify every change when it commits (a
/// revoke or an edit on any instance, or by hand in psql); the watch listens on a connection of
/// its own and forgets the changed row at once. While it is not listening (starting, or its
/// connection lost) it remembers nothing, and every read goes to PostgreSQL as before.
public final class ChangeWatch: Service, Sendable {
    /// When a valid token stops being valid by itself.
    enum Expiry: Sendable, Equatable {
        case never
        case at(secondsSince1970: Int64)

        func isLater(than now: Int64) -> Bool {
            switch self {
            case .never: true
            case .at(let seconds): seconds > now
            }
        }
    }

    /// Payload of a change to a whole table (TRUNCATE), or one the watch cannot read.
    static let everyRow = "*"

    static let tokenChannel = "ewmatch_token"
    static let countyChannel = "ewmatch_county"

    // Capacities: more rows than any deployment has; past one a memory starts afresh.
    let tokens = RowMemory<Int64, Expiry>(channel: tokenChannel, capacity: 100_000) { Int64($0) }
    let counties = RowMemory<String, County>(channel: countyChannel, capacity: 100_000) { $0 }

    private let connection: PGConnection
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    public init(conninfo: String, logger: Logger) {
        connection = PGConnection(conninfo: conninfo)
        self.logger = logger
    }

    /// Whether the watch knows `token` to be valid, without asking PostgreSQL.
    func knowsValid(_ token: Int64) -> Bool {
        isValid(token, check: { nil })
    }

    /// Whether `token` is valid: from memory when the watch knows it, else by `check` (the
    /// token's expiry, nil when it is not valid), whose answer is remembered while listening.
    /// Expiry is checked at each use.
    func isValid(_ token: Int64, check: () throws -> Expiry?) rethrows -> Bool {
        let now = Int64(time(nil))
        return try tokens.value(token, isCurrent: { $0.isLater(than: now) }, read: check)?.isLater(than: now) ?? false
    }

    public func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        try await withGracefulShutdownHandler {
            try await thread.runIfActive { self.listen() }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        try await thread.shutdownGracefully()
    }

    /// Listens until the service stops, starting over (with empty memories) whenever the
    /// connection is lost.
    private func listen() {
        var failing = false
        while !stopping.load(ordering: .relaxed) {
            do {
                try connection.ensureConnected()
                try connection.execute(script: "LISTEN \(tokens.channel); LISTEN \(counties.channel)")
                tokens.setListening(true)
                counties.setListening(true)
                if failing { logger.notice("listening for changes again; tokens and counties are remembered between commands") }
                failing = false
                while !stopping.load(ordering: .relaxed) {
                    heard(try connection.notifications(waitingUpTo: .milliseconds(250)))
                }
            } catch {
                stopListening()
                if !failing {
                    logger.warning(
                        "cannot listen for changes; every command reads tokens and counties from PostgreSQL until it can",
                        metadata: ["error": "\(error)"])
                }
                failing = true
                connection.disconnect()
                usleep(500_000)
            }
        }
        stopListening()
        connection.disconnect()
    }

    /// Forgets the rows that changed, whether another instance's commit notified them or one
    /// of this instance's transactions ended having changed them.
    func heard(_ changes: [PGNotification]) {
        for change in changes {
            switch change.channel {
            case tokens.channel: tokens.forget(payload: change.payload)
            case counties.channel: counties.forget(payload: change.payload)
            default: break
            }
        }
    }

    private func stopListening() {
        tokens.setListening(false)
        counties.setListening(false)
    }
}

/// One table's rows as the watch remembers them, by key.
final class RowMemory<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State: Sendable {
        var listening = false
        /// Moves on every change heard and every (re)start: a read that began before a change was
        /// heard must not remember its answer.
        var generation: UInt64 = 0
        var rows: [Key: Value] = [:]
    }

    private enum Lookup {
        case remembered(Value)
        /// Not remembered: read, and remember the answer if the generation is still this one.
        case unknown(generation: UInt64?)
    }

    /// The NOTIFY channel its table's triggers send the changed row's key on.
    let channel: String
    private let capacity: Int
    private let key: @Sendable (String) -> Key?
    private let state = Mutex(State())

    init(channel: String, capacity: Int, key: @escaping @Sendable (String) -> Key?) {
        self.channel = channel
        self.capacity = capacity
        self.key = key
    }

    /// The row from memory when it is remembered and current, else `read`'s answer, remembered
    /// when it is a row, the watch is listening and no change was heard meanwhile.
    func value(_ key: Key, isCurrent: (Value) -> Bool = { _ in true }, read: () throws -> Value?) rethrows -> Value? {
        let lookup = state.withLock { state -> Lookup in
            guard state.listening else { return .unknown(generation: nil) }
            if let row = state.rows[key] {
                if isCurrent(row) { return .remembered(row) }
                state.rows[key] = nil
            }
            return .unknown(generation: state.generation)
        }
        if case .remembered(let row) = lookup { return row }
        guard let row = try read() else { return nil }
        if case .unknown(let generation?) = lookup {
            state.withLock { state in
                guard state.listening, state.generation == generation else { return }
                if state.rows.count >= capacity { state.rows.removeAll() }
                state.rows[key] = row
            }
        }
        return row
    }

    /// The row when it is remembered, without reading.
    func known(_ key: Key) -> Value? {
        state.withLock { $0.listening ? $0.rows[key] : nil }
    }

    /// Forgets the row a notification names, or every row.
    func forget(payload: String) {
        if payload != ChangeWatch.everyRow, let key = key(payload) { forget(key) } else { forgetAll() }
    }

    func forget(_ key: Key) {
        state.withLock { state in
            state.generation &+= 1
            state.rows[key] = nil
        }
    }

    func forgetAll() {
        state.withLock { state in
            state.generation &+= 1
            state.rows.removeAll()
        }
    }

    /// Starting or stopping, the memory starts empty: what changed while nobody listened is unknown.
    func setListening(_ listening: Bool) {
        state.withLock { state in
            state.listening = listening
            state.generation &+= 1
            state.rows.removeAll()
        }
    }
}
