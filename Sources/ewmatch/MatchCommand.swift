import ArgumentParser
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
        @Flag(help: "Print the summary as one JSON object.") var json = false
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
            let connection = try server.connect()
            let reply = try connection.request(words.joined(separator: " "))
            guard reply.hasPrefix("OK ") else {
                FileHandle.standardError.write(Data((reply + "\n").utf8))
                throw ExitCode(1)
            }
            let summary = String(reply.dropFirst(3))
            print(json ? Self.json(summary) : summary)
        }

        /// The reply's `key=value` words as a JSON object; numbers stay numbers.
        static func json(_ summary: String) -> String {
            let members = summary.split(separator: " ").compactMap { word -> String? in
                guard let equals = word.firstIndex(of: "=") else { return nil }
                let key = word[..<equals]
                let value = String(word[word.index(after: equals)...])
                let number = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-") } && Double(value) != nil
                return "\"\(key)\":" + (number ? value : "\"\(value)\"")
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}
