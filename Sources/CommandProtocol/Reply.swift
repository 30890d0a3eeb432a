/// What the server sends for one request. Every reply starts with `OK` or `ERR`.
public enum Reply: Sendable, Equatable {
    /// `OK <text>`
    case ok(String)
    /// `ERR <CODE> <text>`
    case error(ErrorCode, String)
    /// `OK <n> <header>`, then n record lines, then a line holding only `.`.
    case records(header: String, [String])

    /// The reply's wire form. Records are dot-stuffed; line breaks and other control characters
    /// inside a text or record are escaped, so one reply can never be read as two and no terminal
    /// escape sequence reaches a human's screen.
    public func rendered() -> String {
        switch self {
        case .ok(let text):
            return text.isEmpty ? "OK\n" : "OK \(Self.singleLine(text))\n"
        case .error(let code, let text):
            return text.isEmpty ? "ERR \(code.rawValue)\n" : "ERR \(code.rawValue) \(Self.singleLine(text))\n"
        case .records(let header, let lines):
            var out = "OK \(lines.count)"
            if !header.isEmpty { out += " \(Self.singleLine(header))" }
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
