import CommandProtocol
import Metrics
import Synchronization

/// What the command handler records: every command by verb and reply code, its latency by
/// verb, and the phases of matching runs. The factory is given, not global, so that each server
/// of a test process records into a registry of its own.
public struct CommandMetrics: Sendable {
    /// The verb label of lines that name no known command: labels must not grow with what clients send.
    static let unknownVerb = "-"

    private let factory: any MetricsFactory
    /// Every command's counter and timer, made once: making them anew for each command (the
    /// factory validates the names and looks them up under its lock) was 5 % of the server's
    /// CPU on `COUNTY SHOW`. Verbs and codes are fixed sets, so these stay small.
    private let handles = Handles()

    private final class Handles: Sendable {
        let made = Mutex<(counters: [String: Counter], timers: [String: Timer])>(([:], [:]))
    }

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// The counter and timer of a connection's last command, kept by its session: a script
    /// repeating one command records without the lock the event loops share (taking it was
    /// half of what recording cost on pipelined PINGs).
    public struct Remembered: Sendable {
        fileprivate var verb = ""
        fileprivate var code = ""
        fileprivate var handles: (counter: Counter, timer: Timer)?

        public init() {}
    }

    func record(_ reply: Reply, verb: String, since started: ContinuousClock.Instant, remembered: inout Remembered) {
        let code = if case .error(let code, _) = reply { code.rawValue } else { "OK" }
        let (counter, timer): (Counter, Timer)
        if let known = remembered.handles, remembered.verb == verb, remembered.code == code {
            (counter, timer) = known
        } else {
            (counter, timer) = handles(verb: verb, code: code)
            remembered.verb = verb
            remembered.code = code
            remembered.handles = (counter, timer)
        }
        counter.increment()
        timer.record(duration: ContinuousClock.now - started)
    }

    private func handles(verb: String, code: String) -> (counter: Counter, timer: Timer) {
        handles.made.withLock { made in
            let key = verb + " " + code
            if made.counters[key] == nil {
                made.counters[key] = Counter(label: "ewmatch_commands_total", dimensions: [("verb", verb), ("code", code)], factory: factory)
            }
            if made.timers[verb] == nil {
                made.timers[verb] = Timer(label: "ewmatch_command_duration_seconds", dimensions: [("verb", verb)], factory: factory)
            }
            return (made.counters[key]!, made.timers[verb]!)
        }
    }

    func recordRunPhases(_ laps: [(String, Duration)]) {
        for (phase, duration) in laps {
            Timer(label: "ewmatch_run_phase_duration_seconds", dimensions: [("phase", phase)], factory: factory).record(duration: duration)
        }
    }
}
