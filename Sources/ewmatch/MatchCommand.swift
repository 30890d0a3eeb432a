import ArgumentParser
import CommandProtocol
import Foundation

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
            do {
                reply = try server.connect(format: json ? .json : .text).request(words.joined(separator: " "))
            } catch let refused as RefusedToken where json {
                reply = refused.reply
            }
            let ok = ServerConnection.isOK(reply)
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
