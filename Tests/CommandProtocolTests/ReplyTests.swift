import Foundation
import CommandProtocol
import Testing

@Suite("Reply and Field")
struct ReplyTests {
    @Test(
        "rendering",
        arguments: [
            (Reply.ok("PONG"), "OK PONG\n"),
            (.ok(""), "OK\n"),
            (.ok("两个 words\t"), "OK 两个 words\t\n"),
            (.ok("a\nb"), "OK a\\nb\n"),
            (.ok("a\r\nb\r"), "OK a\\r\\nb\\r\n"),
            (.ok("\u{1B}[2J\u{7}\u{0}\u{7F}"), "OK \\x1B[2J\\x07\\x00\\x7F\n"),
            (.error(.badArg, "limit: must be 1 to 500"), "ERR BAD_ARG limit: must be 1 to 500\n"),
            (.error(.internal, ""), "ERR INTERNAL\n"),
            (.error(.badSyntax, "two\nlines"), "ERR BAD_SYNTAX two\\nlines\n"),
            (.records(header: "needs", []), "OK 0 needs\n.\n"),
            (.records(header: "", ["a"]), "OK 1\na\n.\n"),
            (.records(header: "h", [".", "..", ".x", "x.", "", " ."]), "OK 6 h\n..\n...\n..x\nx.\n\n .\n.\n"),
            // a dot followed by a combining mark is one Character, but the line still starts with a dot
            (.records(header: "h", [".\u{301}x", ".\u{742}"]), "OK 2 h\n..\u{301}x\n..\u{742}\n.\n"),
            (.records(header: "multi\nline", ["a\nb", "\n.", "c\r", "\u{1B}"]), "OK 4 multi\\nline\na\\nb\n\\n.\nc\\r\n\\x1B\n.\n"),
        ])
    func rendering(reply: Reply, wire: String) {
        #expect(reply.rendered() == wire)
    }

    @Test(
        "Field.quoted",
        arguments: [
            ("abc", "abc"), ("", "\"\""), ("a b", "\"a b\""), ("a\"b", #""a\"b""#), ("a\\b", #""a\\b""#),
            ("a\nb", #""a\nb""#), ("a\tb", #""a\tb""#), ("a\rb", #""a\rb""#), ("a=b", "\"a=b\""), ("#x", "\"#x\""),
            ("x#", "x#"), ("两个", "两个"), ("两个 words", "\"两个 words\""), ("\u{1B}[m", #""\x1B[m""#),
            ("\u{7F}", #""\x7F""#), ("#\u{301}", "\"#\u{301}\""), ("\u{0}", #""\x00""#), (".", "."), ("-1.5", "-1.5"),
        ])
    func quoted(value: String, written: String) {
        #expect(Field.quoted(value) == written)
    }

    @Test("Field.line builds records the parser reads back")
    func fieldLine() {
        let record = Field.line(["id": "7", "note": "两个 words", "empty": "", "q": "say \"hi\"\n"])
        #expect(record == #"id=7 note="两个 words" empty="" q="say \"hi\"\n""#)
        let back = request("R " + record)
        #expect(back?.options == [RequestOption("id", "7"), RequestOption("note", "两个 words"), RequestOption("empty", ""), RequestOption("q", "say \"hi\"\n")])
    }

    static let alphabet: [Unicode.Scalar] =
        Array("aZ09 _-.=#\"\\'/,;:()[]{}".unicodeScalars) + ["\n", "\t", "\r", "\u{1}", "\u{1B}", "\u{1F}", "\u{7F}"]
        + ["\u{80}", "\u{85}", "\u{A0}", "é", "两", "个", "\u{301}", "\u{200B}", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "😀", "\u{10FFFF}"]

    static func randomString(_ random: inout SplitMix64) -> String {
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...24, using: &random) { text.append(alphabet.randomElement(using: &random)!) }
        return String(text)
    }

    /// Any text a server can store (no NUL) survives `Field.quoted` and the parser, as a positional
    /// word and as an option value.
    @Test("Field.quoted round-trips through the parser", arguments: 0..<20)
    func roundTrip(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        for _ in 0..<200 {
            let value = Self.randomString(&random)
            let written = Field.quoted(value)
            #expect(request("X \(written) k=\(written)") == Request(verb: "X", words: [value], options: [RequestOption("k", value)]), "\(written)")
        }
    }

    /// Whatever the texts, a reply is exactly its expected number of lines, and no record reads as the end.
    @Test("replies re-split into their lines", arguments: 0..<20)
    func lineCount(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) + 1000)
        for _ in 0..<50 {
            let text = Self.randomString(&random)
            let records = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                Bool.random(using: &random) ? Self.randomString(&random) : ["", ".", "..", ".\n.", ".\u{301}", "#\u{301}"].randomElement(using: &random)!
            }
            for (reply, count) in [(Reply.ok(text), 1), (.error(.notFound, text), 1), (.records(header: text, records), records.count + 2)] {
                let lines = reply.rendered().utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                #expect(lines.count == count + 1 && lines.last?.isEmpty == true)
                #expect(!reply.rendered().utf8.contains(UInt8(ascii: "\r")))
                guard case .records = reply else { continue }
                for (line, original) in zip(lines.dropFirst().dropLast(2), records) {
                    #expect(Array(line) != [UInt8(ascii: ".")])
                    let unstuffed = line.first == UInt8(ascii: ".") ? line.dropFirst() : line[...]
                    if !original.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                        #expect(Array(unstuffed) == Array(original.utf8), "\(original.debugDescription)")
                    }
                }
            }
        }
    }
}

@Suite("ErrorCode")
struct ErrorCodeTests {
    @Test("codes are stable UPPER_SNAKE words with a meaning")
    func codes() {
        for code in ErrorCode.allCases {
            #expect(code.rawValue.allSatisfy { $0.isUppercase || $0 == "_" }, "\(code)")
            #expect(!code.meaning.isEmpty && !code.meaning.contains("\n") && !code.meaning.contains("|"), "\(code)")
        }
        #expect(Set(ErrorCode.allCases.map(\.rawValue)).count == ErrorCode.allCases.count)
    }

    @Test("exactly the transient failures are retryable")
    func retryable() {
        #expect(Set(ErrorCode.allCases.filter(\.isRetryable)) == [.busy, .unavailable, .idleTimeout, .tooSlow, .shuttingDown, .internal])
    }

    @Test("ProtocolError becomes one ERR line")
    func protocolErrorReply() {
        #expect(ProtocolError(.badArg, "qty: not a number").reply.rendered() == "ERR BAD_ARG qty: not a number\n")
    }
}

@Suite("README protocol reference")
struct ProtocolDocumentTests {
    /// Scripts branch on these codes: the README's table must say what the code says.
    @Test("the error-code table matches ErrorCode")
    func errorTable() throws {
        let source = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let document = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        let rows = ["| Code | Retry? | Meaning |", "| --- | --- | --- |"]
            + ErrorCode.allCases.map { "| `\($0.rawValue)` | \($0.isRetryable ? "yes" : "no") | \($0.meaning) |" }
        let section = text.components(separatedBy: "## Error codes").last?.components(separatedBy: "\n## ").first ?? ""
        let documented = section.split(separator: "\n").filter { $0.hasPrefix("|") }.map(String.init)
        #expect(documented == rows)
    }
}
