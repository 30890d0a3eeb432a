#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The tokens known to be valid, kept in the server so that an authenticated read needs no
/// token check of its own in PostgreSQL. A trigger on `api_token` notifies every change to a
/// token (a revoke on any instance, an expiry moved by hand) when it commits; the watch listens
/// on a connection of its own and forgets that token at once. Expiry is checked at each use.
/// While the watch is not listening (starting, or its connection lost) it knows nothing, and
/// every read checks its token in PostgreSQL as before.
public final class TokenWatch: Service, Sendable {
    static let channel = "ewmatch_token"
    /// More tokens than any deployment issues; past it the memory starts afresh.
    private static let capacity = 100_000

    /// When a valid token stops being valid by itself.
    enum Expiry: Sendable, Equatable {
        case never
        case at(secondsSince1970: Int64)
    }

    private struct State {
        var listening = false
        /// Moves on every notification and every (re)start: a check that began before a change
        /// was heard must not remember its answer.
        var generation: UInt64 = 0
        var valid: [Int64: Expiry] = [:]
    }

    private let state = Mutex(State())
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
    func isValid(_ token: Int64, check: () throws -> Expiry?) rethrows -> Bool {
        enum Known { case valid, unknown(generation: UInt64?) }
        let now = Int64(time(nil))
        let known = state.withLock { state -> Known in
            guard state.listening else { return .unknown(generation: nil) }
            switch state.valid[token] {
            case .never?: return .valid
            case .at(let seconds)? where seconds > now: return .valid
            case .at?: state.valid[token] = nil
            case nil: break
            }
            return .unknown(generation: state.generation)
        }
        guard case .unknown(let generation) = known else { return true }
        guard let expiry = try check() else { return false }
        if let generation {
            state.withLock { state in
                guard state.listening, state.generation == generation else { return }
                if state.valid.count >= Self.capacity { state.valid.removeAll() }
                state.valid[token] = expiry
            }
        }
        return true
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

    /// Listens until the service stops, starting over (with an empty memory) whenever the
    /// connection is lost.
    private func listen() {
        var failing = false
        while !stopping.load(ordering: .relaxed) {
            do {
                try connection.ensureConnected()
                try connection.execute(script: "LISTEN \(Self.channel)")
                state.withLock { state in
                    state.listening = true
                    state.generation &+= 1
                    state.valid.removeAll()
                }
                if failing { logger.notice("listening for token changes again; tokens are remembered between commands") }
                failing = false
                while !stopping.load(ordering: .relaxed) {
                    let changed = try connection.notifications(waitingUpTo: .milliseconds(250))
                    guard !changed.isEmpty else { continue }
                    state.withLock { state in
                        state.generation &+= 1
                        for payload in changed {
                            if let id = Int64(payload) { state.valid[id] = nil } else { state.valid.removeAll() }
                        }
                    }
                }
            } catch {
                forgetAll()
                if !failing {
                    logger.warning(
                        "cannot listen for token changes; every command checks its token in PostgreSQL until it can",
                        metadata: ["error": "\(error)"])
                }
                failing = true
                connection.disconnect()
                usleep(500_000)
            }
        }
        forgetAll()
        connection.disconnect()
    }

    private func forgetAll() {
        state.withLock { state in
            state.listening = false
            state.generation &+= 1
            state.valid.removeAll()
        }
    }
}
