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
            (.lines(header: "", ["a"]), "OK 1\na\n.\n"),
            (.lines(header: "h", [".", "..", ".x", "x.", "", " ."]), "OK 6 h\n..\n...\n..x\nx.\n\n .\n.\n"),
            // a dot followed by a combining mark is one Character, but the line still starts with a dot
            (.lines(header: "h", [".\u{301}x", ".\u{742}"]), "OK 2 h\n..\u{301}x\n..\u{742}\n.\n"),
            (.lines(header: "multi\nline", ["a\nb", "\n.", "c\r", "\u{1B}"]), "OK 4 multi\\nline\na\\nb\n\\n.\nc\\r\n\\x1B\n.\n"),
            (.record(Record()), "OK\n"),
            (.record(Self.need), #"OK id=7 note="两个 words" qty=30 fill=0.300 poverty=yes to=- weights="a=1 b=2" parts="{\"x\":[1,\"y\"]}""# + "\n"),
            (.records(header: Reply.Header("needs", Record([("next", "7")])), [Self.need, Record([("id", 8)])]),
             "OK 2 needs next=7\n" + Self.needText + "\nid=8\n.\n"),
            (.records(header: Reply.Header("rows", Record([("year", 2027), ("who", "a b")])), []), "OK 0 rows year=2027 who=\"a b\"\n.\n"),
        ])
    func rendering(reply: Reply, wire: String) {
        #expect(reply.rendered(as: .text) == wire)
    }

    /// A record with every kind of value: text that needs quotes, numbers, a bool, null, a nested
    /// value with a text spelling of its own and one without.
    static let need = Record([
        ("id", 7), ("note", "两个 words"), ("qty", .int(30)), ("fill", .decimal("0.300")), ("poverty", .bool(true)), ("to", .null),
        ("weights", .spelled(.object([("a", 1), ("b", 2)]), text: "a=1 b=2")), ("parts", .object([("x", .array([1, "y"]))])),
    ])
    static let needText = #"id=7 note="两个 words" qty=30 fill=0.300 poverty=yes to=- weights="a=1 b=2" parts="{\"x\":[1,\"y\"]}""#
    static let needJSON = #""id":7,"note":"两个 words","qty":30,"fill":0.300,"poverty":true,"to":null,"weights":{"a":1,"b":2},"parts":{"x":[1,"y"]}"#

    @Test(
        "JSON rendering",
        arguments: [
            (Reply.ok("PONG"), #"{"ok":true,"message":"PONG"}"# + "\n"),
            (.ok(""), #"{"ok":true}"# + "\n"),
            (.ok("a\nb\r\t\"\\\u{1B}\u{7F}两"), #"{"ok":true,"message":"a\nb\r\t\"\\\u001b\u007f两"}"# + "\n"),
            (.error(.badArg, "limit: must be 1 to 500"), #"{"ok":false,"code":"BAD_ARG","message":"limit: must be 1 to 500"}"# + "\n"),
            (.error(.internal, ""), #"{"ok":false,"code":"INTERNAL"}"# + "\n"),
            (.record(Record()), #"{"ok":true}"# + "\n"),
            (.record(Self.need), "{\"ok\":true,\(Self.needJSON)}\n"),
            // The count frames the records: no closing line, and a record starting with a dot is not stuffed.
            (.records(header: Reply.Header("needs", Record([("next", "7")])), [Self.need, Record([("id", 8)])]),
             #"{"ok":true,"records":2,"what":"needs","next":"7"}"# + "\n{\(Self.needJSON)}\n" + #"{"id":8}"# + "\n"),
            (.records(header: "", []), #"{"ok":true,"records":0}"# + "\n"),
            (.lines(header: "lines csv", ["a,b", ".", "x\ny"]),
             #"{"ok":true,"records":3,"what":"lines csv"}"# + "\n" + #"{"line":"a,b"}"# + "\n" + #"{"line":"."}"# + "\n"
                + #"{"line":"x\ny"}"# + "\n"),
            // A decimal that is no JSON number becomes a string rather than break the line.
            (.record(Record([("a", .decimal("1.50")), ("b", .decimal(".5")), ("c", .decimal("1e-3")), ("d", .decimal("inf"))])),
             #"{"ok":true,"a":1.50,"b":".5","c":1e-3,"d":"inf"}"# + "\n"),
        ])
    func jsonRendering(reply: Reply, wire: String) {
        #expect(reply.rendered(as: .json) == wire)
    }

    @Test(
        "figures kept as text become numbers when they spell one",
        arguments: [
            ("12", Record.Value.integer(12)), ("-3", .integer(-3)), ("0.250", .decimal("0.250")), ("-0.5", .decimal("-0.5")),
            ("2e3", .decimal("2e3")), ("-0", .decimal("-0")), ("", .text("")), ("01", .text("01")), ("1.", .text("1.")), ("nan", .text("nan")),
            ("99999999999999999999", .decimal("99999999999999999999")), ("0x10", .text("0x10")), ("+1", .text("+1")),
        ])
    func numeric(text: String, value: Record.Value) {
        #expect(Record.Value.numeric(text) == value)
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
            let header = Reply.Header(text, Record([(text, .text(text))]))
            let fields = records.enumerated().map { ("k\($0.offset)", Record.Value.spelled(.text($0.element), text: text)) }
            // Text lines, then JSON lines: the count frames JSON records, so there is no closing line.
            let replies: [(Reply, Int, Int)] = [
                (.ok(text), 1, 1), (.error(.notFound, text), 1, 1), (.record(Record(fields)), 1, 1),
                (.lines(header: header, records), records.count + 2, records.count + 1),
                (.records(header: header, records.map { Record([("k", .text($0)), (text, .spelled(.null, text: $0))]) }),
                 records.count + 2, records.count + 1),
            ]
            for (reply, count, jsonCount) in replies {
                let lines = reply.rendered(as: .text).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                #expect(lines.count == count + 1 && lines.last?.isEmpty == true)
                #expect(!reply.rendered(as: .text).utf8.contains(UInt8(ascii: "\r")))
                let json = reply.rendered(as: .json).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                #expect(json.count == jsonCount + 1 && json.last?.isEmpty == true)
                for line in json.dropLast() {
                    let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
                    #expect(object != nil, "\(String(decoding: line, as: UTF8.self))")
                    #expect(!line.contains { $0 < 0x20 || $0 == 0x7F })
                }
                guard case .lines = reply else { continue }
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
        #expect(ProtocolError(.badArg, "qty: not a number").reply.rendered(as: .text) == "ERR BAD_ARG qty: not a number\n")
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
