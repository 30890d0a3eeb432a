import Synchronization

/// The phases of one matching run as they pass. The same laps make the run's reply, the
/// figures it stores, the phase metric, and what `RUN PROGRESS` shows while the run works
/// (its solve runs on another thread, so the laps are locked).
public final class RunPhases: Sendable {
    /// In the order a run passes them; `load` includes taking the run lock and the fingerprint.
    public static let names = ["load", "candidates", "solve", "certificate", "explanations", "store"]

    private struct State {
        var current: String
        var currentSince: ContinuousClock.Instant
        var passed: [(String, Duration)] = []
    }

    let token: Int64
    let started: ContinuousClock.Instant
    private let state: Mutex<State>

    init(token: Int64, now: ContinuousClock.Instant = .now) {
        self.token = token
        self.started = now
        self.state = Mutex(State(current: Self.names[0], currentSince: now))
    }

    /// Ends the phase under way and starts `phase`.
    func begin(_ phase: String, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.passed.append((state.current, now - state.currentSince))
            state.current = phase
            state.currentSince = now
        }
    }

    /// The phases passed, with the one under way up to now.
    func laps(now: ContinuousClock.Instant = .now) -> (passed: [(String, Duration)], current: String, currentFor: Duration) {
        state.withLock { ($0.passed, $0.current, now - $0.currentSince) }
    }

    /// Every phase up to now, the one under way included: what a finished run reports.
    func finished(now: ContinuousClock.Instant = .now) -> [(String, Duration)] {
        let laps = laps(now: now)
        return laps.passed + [(laps.current, laps.currentFor)]
    }
}

/// The runs working on this instance, for `RUN PROGRESS`.
public final class RunsInProgress: Sendable {
    private let runs = Mutex<[ObjectIdentifier: RunPhases]>([:])

    public init() {}

    /// Tracks a run for as long as `body` works on it.
    func track<T>(token: Int64, _ body: (RunPhases) async throws -> T) async rethrows -> T {
        let phases = RunPhases(token: token)
        let key = ObjectIdentifier(phases)
        runs.withLock { $0[key] = phases }
        defer { _ = runs.withLock { $0.removeValue(forKey: key) } }
        return try await body(phases)
    }

    var current: [RunPhases] { runs.withLock { Array($0.values) }.sorted { $0.started < $1.started } }
}
