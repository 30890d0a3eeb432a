/// What the server sends for one request. Every reply starts with `OK` or `ERR`.
public enum Reply: Sendable, Equatable {
    /// `OK <text>`
    case ok(String)
    /// `ERR <CODE> <text>`
    case error(ErrorCode, String)
    /// `OK <n> <header>`, then n record lines, then a line holding only `.`.
    case records(header: String, [String])

    /// The reply's wire form. Records are dot-stuffed; any line break inside a text or record is
    /// escaped, so one reply can never be read as two.
    public func rendered() -> String {
        switch self {
        case .ok(let text):
            return text.isEmpty ? "OK\n" : "OK \(Self.singleLine(text))\n"
        case .error(let code, let text):
            return "ERR \(code.rawValue) \(Self.singleLine(text))\n"
        case .records(let header, let lines):
            var out = "OK \(lines.count)"
            if !header.isEmpty { out += " \(Self.singleLine(header))" }
            out += "\n"
            for line in lines {
                let safe = Self.singleLine(line)
                if safe.hasPrefix(".") { out += "." }
                out += safe
                out += "\n"
            }
            out += ".\n"
            return out
        }
    }

    static func singleLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Builds `key=value` record lines that the parser's own rules read back.
public enum Field {
    /// `value` as one word: bare when it is safe, otherwise quoted with the protocol's escapes.
    public static func quoted(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.utf8.contains {
                $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\")
                    || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "=")
            }
            || value.hasPrefix("#")
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
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
