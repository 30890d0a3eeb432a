import CommandProtocol
import Metrics

/// What the command handler records: every command by verb and reply code, its latency by
/// verb, and the phases of matching runs. The factory is given, not global, so that each server
/// of a test process records into a registry of its own.
public struct CommandMetrics: Sendable {
    /// The verb label of lines that name no known command: labels must not grow with what clients send.
    static let unknownVerb = "-"

    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    func record(_ reply: Reply, verb: String, since started: ContinuousClock.Instant) {
        let code = if case .error(let code, _) = reply { code.rawValue } else { "OK" }
        Counter(label: "ewmatch_commands_total", dimensions: [("verb", verb), ("code", code)], factory: factory).increment()
        Timer(label: "ewmatch_command_duration_seconds", dimensions: [("verb", verb)], factory: factory)
            .record(duration: ContinuousClock.now - started)
    }

    func recordRunPhases(_ laps: [(String, Duration)]) {
        for (phase, duration) in laps {
            Timer(label: "ewmatch_run_phase_duration_seconds", dimensions: [("phase", phase)], factory: factory).record(duration: duration)
        }
    }
}
