import Foundation
import MatchCore
import Testing

/// The README is the protocol reference users read: every command the server has must be in it
/// with the usage line `HELP` prints.
@Suite("README")
struct ReadmeTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appending(path: "README.md"), encoding: .utf8)) ?? ""
    }()

    @Test func opensWithTheTwoCommands() {
        let lines = Self.readme.split(separator: "\n").prefix(6).map(String.init)
        #expect(lines.contains { $0.hasPrefix("./deploy/run ") })
        #expect(lines.contains { $0.hasPrefix("./deploy/test ") })
    }

    @Test(arguments: CommandRegistry.standard.commands.map(\.usage))
    func documentsEveryCommand(usage: String) {
        // Inside a Markdown table a literal | is written \|.
        let escaped = usage.replacingOccurrences(of: "|", with: "\\|")
        #expect(Self.readme.contains("`\(escaped)`"), "README lacks `\(escaped)`")
    }
}
