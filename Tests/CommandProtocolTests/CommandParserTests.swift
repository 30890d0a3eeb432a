import CommandProtocol
import Testing

@Suite("CommandParser")
struct CommandParserTests {
    @Test(
        "bad bytes are BAD_ENCODING, comments included",
        arguments: [
            bytes("PING\r"), bytes("\rPING"), bytes("PING\rX"), bytes("PI\u{0}NG"), bytes("PING \u{1}"),
            bytes("PING \u{1B}[2J"), bytes("PING \u{7F}"), bytes("PING \u{B}"), bytes("PING \u{C}"),
            bytes("# comment \u{0}"), bytes("SAY \"a\u{1}b\""),
            [0xFF], bytes("PING ") + [0xC3], [0xC0, 0xAF], bytes("SAY ") + [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], bytes("# caf") + [0xE9],
        ])
    func badEncoding(line: [UInt8]) {
        #expect(errorCode(line) == .badEncoding)
    }

    @Test("bad bytes are located by column")
    func badEncodingColumn() {
        #expect(parsed("PING a\u{0}") == .failure(ProtocolError(.badEncoding, "NUL byte at column 7")))
        #expect(parsed("PI\u{1B}") == .failure(ProtocolError(.badEncoding, "control character 0x1B at column 3")))
    }

    @Test("blank and comment lines are ignored", arguments: ["", " ", "\t", " \t ", "#", "# PING", "   # indented", "\t#x", "#PING \"unterminated"])
    func ignored(line: String) {
        #expect(parsed(line) == .success(.ignored))
    }

    @Test(
        "requests",
        arguments: [
            ("PING", Request(verb: "PING")),
            ("ping", Request(verb: "PING")),
            ("PiNg", Request(verb: "PING")),
            ("  PING  ", Request(verb: "PING")),
            ("X-1 a", Request(verb: "X-1", words: ["a"])),
            ("a_b", Request(verb: "A_B")),
            ("PING\tA\t\tB \t C", Request(verb: "PING", words: ["A", "B", "C"])),
            ("HELP need", Request(verb: "HELP", words: ["need"])),
            ("SAY 两个 words", Request(verb: "SAY", words: ["两个", "words"])),
            ("SAY a\\b", Request(verb: "SAY", words: ["a\\b"])),
            ("SAY #x a#", Request(verb: "SAY", words: ["#x", "a#"])),
            ("SAY \"hello world\"", Request(verb: "SAY", words: ["hello world"])),
            ("SAY \"  \"", Request(verb: "SAY", words: ["  "])),
            ("SAY \"\"", Request(verb: "SAY", words: [""])),
            ("SAY \"\" x \"\"", Request(verb: "SAY", words: ["", "x", ""])),
            ("SAY\t\"a b\"\tc", Request(verb: "SAY", words: ["a b", "c"])),
            (#"SAY "a\"b""#, Request(verb: "SAY", words: ["a\"b"])),
            (#"SAY "a\\b""#, Request(verb: "SAY", words: ["a\\b"])),
            (#"SAY "a\nb""#, Request(verb: "SAY", words: ["a\nb"])),
            (#"SAY "a\tb""#, Request(verb: "SAY", words: ["a\tb"])),
            (#"SAY "a\rb""#, Request(verb: "SAY", words: ["a\rb"])),
            (#"SAY "\\\"\\""#, Request(verb: "SAY", words: ["\\\"\\"])),
            (#"SAY "\x41\x1b\x7F\x01""#, Request(verb: "SAY", words: ["A\u{1B}\u{7F}\u{1}"])),
            (##"SAY "#x" "a=b" "=""##, Request(verb: "SAY", words: ["#x", "a=b", "="])),
            (#"SAY "两个 words""#, Request(verb: "SAY", words: ["两个 words"])),
            ("NEED note=\"两个 words\"", Request(verb: "NEED", options: [RequestOption("note", "两个 words")])),
            ("NEED note=两个", Request(verb: "NEED", options: [RequestOption("note", "两个")])),
            (#"NEED note="say \"hi\"\n" qty=3"#, Request(verb: "NEED", options: [RequestOption("note", "say \"hi\"\n"), RequestOption("qty", "3")])),
            ("CMD Key=V", Request(verb: "CMD", options: [RequestOption("key", "V")])),
            ("CMD k=", Request(verb: "CMD", options: [RequestOption("k", "")])),
            ("CMD k=\"\"", Request(verb: "CMD", options: [RequestOption("k", "")])),
            ("CMD k=a=b", Request(verb: "CMD", options: [RequestOption("k", "a=b")])),
            ("CMD k=a\\b", Request(verb: "CMD", options: [RequestOption("k", "a\\b")])),
            ("CMD b.c-d_e9=z _k=1", Request(verb: "CMD", options: [RequestOption("b.c-d_e9", "z"), RequestOption("_k", "1")])),
            ("CMD a=1 w b=2 v", Request(verb: "CMD", words: ["w", "v"], options: [RequestOption("a", "1"), RequestOption("b", "2")])),
            ("CMD =v 1k=v -k=v k!=v ké=v .k=v", Request(verb: "CMD", words: ["=v", "1k=v", "-k=v", "k!=v", "ké=v", ".k=v"])),
            ("CMD k=\"a b\" w", Request(verb: "CMD", words: ["w"], options: [RequestOption("k", "a b")])),
            ("CMD K.X=\"v\"", Request(verb: "CMD", options: [RequestOption("k.x", "v")])),
        ])
    func requests(line: String, expected: Request) {
        #expect(parsed(line) == .success(.request(expected)))
    }

    @Test(
        "malformed lines are BAD_SYNTAX",
        arguments: [
            // the verb must be a bare word starting with a letter
            "\"PING\"", "1PING", "-x", "PING=1", "k=\"v\"", "é", "P.ING",
            // unterminated quotes
            "SAY \"abc", "SAY \"abc\\\"", "SAY \"abc\\", "SAY \"", "SAY k=\"abc",
            // escapes outside the set, and \x outside 01-7F
            #"SAY "\q""#, #"SAY "\0""#, #"SAY "\u0041""#, #"SAY "\ ""#, #"SAY "\x""#, #"SAY "\x4""#,
            #"SAY "\x4g""#, #"SAY "\x00""#, #"SAY "\x80""#, #"SAY "\xFF""#, #"SAY "\x""#,
            // a closing quote must end the word
            "SAY \"a\"b", "SAY \"\"x", "SAY k=\"a\"b", "SAY \"a\"\"b\"", "SAY \"a\"=",
            // a quote may not start inside a bare word, except right after key=
            "SAY ab\"c\"", "SAY ab\"", "CMD k=v\"", "SAY a=b\"c\"", "SAY a==\"c\"", "SAY 1k=\"c\"", "SAY =\"c\"",
            // repeated options, keys compared case-insensitively
            "CMD a=1 a=2", "CMD a=1 A=2", "CMD a=\"1\" a=2", "CMD a= a=",
        ])
    func badSyntax(line: String) {
        #expect(errorCode(line) == .badSyntax)
    }

    @Test("syntax errors name what is wrong and where")
    func badSyntaxMessages() {
        #expect(parsed("CMD a=1 A=2") == .failure(ProtocolError(.badSyntax, "option 'a' given twice")))
        #expect(parsed("SAY x \"abc") == .failure(ProtocolError(.badSyntax, "unterminated quote starting at column 7")))
        guard case .failure(let escape) = parsed(#"SAY "\q""#) else { Issue.record("accepted \\q"); return }
        #expect(escape.message.contains("\\q") && escape.message.contains("column 6"))
        guard case .failure(let hex) = parsed(#"SAY "\x00""#) else { Issue.record("accepted \\x00"); return }
        #expect(hex.message.contains("column 6"))
    }

    @Test(
        "leadingWords reads the first two plain words of any line",
        arguments: [
            ("NEED IMPORT x=1", "NEED IMPORT"),
            ("need import", "NEED IMPORT"),
            ("  NEED\t IMPORT  ", "NEED IMPORT"),
            ("NEED IMPORT \"unterminated", "NEED IMPORT"),
            ("NEED IMPORT a=1 a=1", "NEED IMPORT"),
            ("NEED", "NEED"),
            ("NEED \"IMPORT\"", "NEED"),
            ("NEED import=1", "NEED"),
            ("NEED 1x", "NEED"),
        ])
    func leadingWords(line: String, expected: String) {
        let words = CommandParser.leadingWords(bytes(line))
        #expect(words.map { [$0.0, $0.1].compactMap { $0 }.joined(separator: " ") } == expected)
    }

    @Test("leadingWords is nil without a verb", arguments: ["", "   ", "#NEED IMPORT", "# NEED IMPORT", "1X Y", "\"NEED\" IMPORT", "k=v IMPORT"])
    func noLeadingWords(line: String) {
        #expect(CommandParser.leadingWords(bytes(line)) == nil)
    }

    @Test("leadingWords ignores bad bytes after the second word")
    func leadingWordsBeforeBadBytes() {
        let words = CommandParser.leadingWords(bytes("NEED IMPORT ") + [0xFF, 0, 0x0D])
        #expect(words?.0 == "NEED" && words?.1 == "IMPORT")
    }

    @Test(
        "HTTP is recognised",
        arguments: [
            "GET / HTTP/1.1", "get /", "POST /api HTTP/1.0", "HEAD /x", "PUT /", "DELETE /x", "PATCH /x",
            "OPTIONS * HTTP/1.1", "CONNECT example.com:443 HTTP/1.1", "TRACE / HTTP/1.1", "PRI * HTTP/2.0",
            "Host: example.com", "host:x", "GET http://example.com/ HTTP/1.1",
            "Host:\u{301}x", "GET /\u{301}", "GET *\u{301}", "get HTTP\u{301}",
        ])
    func http(line: String) {
        #expect(CommandParser.looksLikeHTTP(bytes(line)))
    }

    @Test("protocol lines are not HTTP", arguments: ["PING", "GET", "HELP GET", "GETX / HTTP/1.1", "NEED IMPORT", "", "HOST", "GET thing", "WHOAMI /"])
    func notHTTP(line: String) {
        #expect(!CommandParser.looksLikeHTTP(bytes(line)))
    }

    @Test("HTTP detection survives bad bytes")
    func httpWithBadBytes() {
        #expect(CommandParser.looksLikeHTTP(bytes("GET / HTTP/1.1") + [0xFF]))
        #expect(!CommandParser.looksLikeHTTP([0xFF, 0x00, 0x16, 0x03, 0x01]))
    }

    /// Every parsed request, written back with `Field.quoted`, parses to itself.
    @Test("parsed requests write back to themselves")
    func writeBack() {
        let lines = [
            ##"NEED note="两个 words" qty=3 "a=b" "" x\y "#x" k="\x1b\x7f""##, "CMD a=1 w b=2", #"SAY "a\"b\\c\n\t\r""#,
        ]
        for line in lines {
            guard let original = request(line) else { Issue.record("\(line) did not parse"); continue }
            let written = ([original.verb] + original.words.map(Field.quoted) + original.options.map { "\($0.key)=\(Field.quoted($0.value))" })
                .joined(separator: " ")
            #expect(request(written) == original, "\(written)")
        }
    }
}
