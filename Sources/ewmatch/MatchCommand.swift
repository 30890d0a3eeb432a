import ArgumentParser
import CommandProtocol
import Foundation
import MatchCore
import Synchronization

/// `ewmatch match run`: a matching run from the shell or cron, through a running server.
struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match", abstract: "Matching runs through a running server.", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a matching and print its summary; exits non-zero on any error (for cron).")

        enum Mode: String, ExpressibleByArgument, CaseIterable { case optimal, fair, stable }

        @Option(help: "optimal, fair or stable.") var mode: Mode = .optimal
        @Option(help: "optimal: score or units-first.") var objective: String?
        @Option(help: "fair: each county's first share (0 < share <= 1).") var share: String?
        @Option(help: "stable: needs or offers propose.") var side: String?
        @Option(help: "Only needs of this kind.") var kind: String?
        @Option(help: "Only needs of this western province (code or name).") var province: String?
        @Option(help: "Only needs of this county (6-digit code).") var county: String?
        @Option(help: "Seconds to wait while another run is being stored.") var wait: Int?
        @Flag(help: "Solve and report, store nothing.") var dry = false
        @Flag(help: "Print the server's reply as one JSON object (FORMAT json), errors included.") var json = false
        @OptionGroup var server: ServerOptions

        func run() throws {
            var words = ["MATCH", "RUN", "mode=\(mode.rawValue)"]
            let options: [(String, String?)] = [
                ("objective", objective), ("share", share), ("side", side), ("kind", kind), ("province", province),
                ("county", county), ("wait", wait.map(String.init)),
            ]
            for case let (key, value?) in options {
                guard !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\n" }) else {
                    throw ValidationError("--\(key) must be one word")
                }
                words.append("\(key)=\(value)")
            }
            if dry { words.append("dry") }
            let reply: String
            var watcher: PhaseWatcher?
            do {
                let connection = try server.connect(format: json ? .json : .text)
                if !json && isatty(2) == 1 { watcher = PhaseWatcher(server: server, signedIn: connection.signedIn ?? "") }
                reply = try connection.request(words.joined(separator: " "))
            } catch let refused as RefusedToken where json {
                reply = refused.reply
            }
            let ok = ServerConnection.isOK(reply)
            watcher?.finish(reply: ok ? reply : nil)
            if json {
                // Scripts read one object from stdout, whatever the outcome; the exit code says which.
                print(reply)
            } else if ok {
                print(reply.dropFirst(3))
            } else {
                FileHandle.standardError.write(Data((reply + "\n").utf8))
            }
            if !ok { throw ExitCode(1) }
        }
    }
}

/// On a terminal, shows a run's phases as they pass: a second connection reads `RUN PROGRESS`
/// four times a second while the first waits for `MATCH RUN`'s reply, and each phase is printed
/// on stderr once it has passed; the reply's own figures complete what the polls missed.
final class PhaseWatcher: @unchecked Sendable {
    private let stopped = Mutex(false)
    private let printed = Mutex<[String]>([])
    private let done = DispatchSemaphore(value: 0)
    private let token: String?

    init(server: ServerOptions, signedIn: String) {
        token = Self.fields(signedIn)["token"]
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            guard let token, let connection = try? server.connect() else { return }
            while !stopped.withLock({ $0 }) {
                guard (try? connection.send(Array("RUN PROGRESS\n".utf8))) != nil, let (_, records) = try? connection.readReply()
                else { return }
                if let run = records.map(Self.fields).first(where: { $0["token"] == token }) {
                    show(passed: run, current: run["phase"].map { ($0, run["phase-s"] ?? "") })
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
    }

    /// Stops polling and prints the phases not yet shown from the run's reply (nil: it failed).
    func finish(reply: String?) {
        stopped.withLock { $0 = true }
        done.wait()
        if let reply { show(passed: Self.fields(reply), current: nil) } else { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Prints the phases in `fields` not printed yet, in their order, then the one under way.
    private func show(passed fields: [String: String], current: (String, String)?) {
        var text = "\r\u{1B}[K"
        printed.withLock { printed in
            for phase in RunPhases.names where !printed.contains(phase) {
                guard let seconds = fields["\(phase)-s"] else { break }
                printed.append(phase)
                text += Self.line(phase, seconds) + "\n"
            }
        }
        if let (phase, seconds) = current { text += Self.line(phase, seconds) + " …" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func line(_ phase: String, _ seconds: String) -> String {
        phase.padding(toLength: 14, withPad: " ", startingAt: 0) + seconds.padding(toLength: 8, withPad: " ", startingAt: 0) + " s"
    }

    /// A reply line's `key=value` words (the values here are never quoted).
    static func fields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        return fields
    }
}
