/// What the server sends for one request: a message, a record, or a header and records, or an
/// error with its stable code. The edge writes it once, in the connection's format.
public enum Reply: Sendable, Equatable {
    /// `OK <text>`
    case ok(String)
    /// `OK k=v …`
    case record(Record)
    /// `OK <n> <header>`, then n record lines, then a line holding only `.`.
    case records(header: Header, [Record])
    /// A file's lines (CSV, Markdown, HELP's text): the same text in every format.
    case lines(header: Header, [String])
    /// `ERR <CODE> <text>`
    case error(ErrorCode, String)

    /// What a multi-line reply holds: the words after the count (`needs`, `lines csv`), then named
    /// values such as `next=`.
    public struct Header: Sendable, Equatable, ExpressibleByStringLiteral {
        public var what: String
        public var fields: Record

        public init(_ what: String, _ fields: Record = Record()) {
            self.what = what
            self.fields = fields
        }

        public init(stringLiteral what: String) { self.init(what) }

        var text: String { [what, fields.text].filter { !$0.isEmpty }.joined(separator: " ") }
    }

    /// The reply's wire form: `OK`/`ERR` lines (text), or one JSON object per line (json).
    ///
    /// Text: records are dot-stuffed; line breaks and other control characters inside a text or
    /// record are escaped, so one reply can never be read as two and no terminal escape sequence
    /// reaches a human's screen.
    ///
    /// JSON: `{"ok":true,"message":…}`, `{"ok":true,<fields>}`, `{"ok":false,"code":…,"message":…}`;
    /// a multi-line reply is `{"ok":true,"records":n,"what":…,<header fields>}` and n objects, a
    /// file's line as `{"line":…}`. The count frames the records, so there is no closing line:
    /// every line is one JSON object. Strings escape every control character, so a line never breaks.
    public func rendered(as format: OutputFormat) -> String {
        switch format {
        case .text: text
        case .json: json
        }
    }

    private var text: String {
        switch self {
        case .ok(let text):
            return text.isEmpty ? "OK\n" : "OK \(Self.singleLine(text))\n"
        case .record(let record):
            return Reply.ok(record.text).text
        case .error(let code, let text):
            return text.isEmpty ? "ERR \(code.rawValue)\n" : "ERR \(code.rawValue) \(Self.singleLine(text))\n"
        case .records(let header, let records):
            return Reply.lines(header: header, records.map(\.text)).text
        case .lines(let header, let lines):
            var out = "OK \(lines.count)"
            let words = header.text
            if !words.isEmpty { out += " \(Self.singleLine(words))" }
            out += "\n"
            for line in lines {
                let safe = Self.singleLine(line)
                // Bytes, not `hasPrefix`: "." plus a combining mark is one Character but still starts with a dot.
                if safe.utf8.first == UInt8(ascii: ".") { out += "." }
                out += safe
                out += "\n"
            }
            out += ".\n"
            return out
        }
    }

    private var json: String {
        switch self {
        case .ok(let text):
            return Self.object(ok: true, text.isEmpty ? [] : [("message", .text(text))])
        case .record(let record):
            return Self.object(ok: true, record.fields)
        case .error(let code, let text):
            return Self.object(ok: false, [("code", .text(code.rawValue))] + (text.isEmpty ? [] : [("message", .text(text))]))
        case .records(let header, let records):
            return Self.header(header, count: records.count) + records.map { $0.json + "\n" }.joined()
        case .lines(let header, let lines):
            return Self.header(header, count: lines.count) + lines.map { Record([("line", .text($0))]).json + "\n" }.joined()
        }
    }

    private static func header(_ header: Header, count: Int) -> String {
        let what: [(String, Record.Value)] = header.what.isEmpty ? [] : [("what", .text(header.what))]
        return object(ok: true, [("records", .int(count))] + what + header.fields.fields)
    }

    private static func object(ok: Bool, _ fields: [(String, Record.Value)]) -> String {
        Record([("ok", .bool(ok))] + fields).json + "\n"
    }

    /// `\n` and `\r` as those two-character escapes, other control characters but tab as `\xHH`.
    static func singleLine(_ text: String) -> String {
        guard text.utf8.contains(where: isEscapedControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case _ where scalar.isASCII && isEscapedControl(UInt8(scalar.value)): out += hexEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isEscapedControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F
    }

    static func hexEscape(_ scalar: Unicode.Scalar) -> String {
        "\\x" + CommandParser.hex(UInt8(scalar.value))
    }
}

/// Builds `key=value` record lines that the parser's own rules read back.
public enum Field {
    /// `value` as one word: bare when it is safe, otherwise quoted with the protocol's escapes.
    /// A NUL comes back as `\x00`, which the parser refuses: no stored text can hold one.
    public static func quoted(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.utf8.contains {
                $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "=")
                    || $0 < 0x20 || $0 == 0x7F
            }
            || value.utf8.first == UInt8(ascii: "#")
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += Reply.hexEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `k1=v1 k2=v2 …`, values quoted where needed.
    public static func line(_ pairs: KeyValuePairs<String, String>) -> String {
        line(pairs.map { ($0.key, $0.value) })
    }

    public static func line(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: " ")
    }
}
