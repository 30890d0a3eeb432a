import CommandProtocol

/// Values in the text forms PostgreSQL reads: array literals and JSON objects sent as one bind
/// each, LIKE patterns that match a value literally, and COPY's text format.
enum PGText {
    /// An array literal, every element quoted and escaped.
    static func array(_ values: [String]) -> String {
        var literal: [UInt8] = [UInt8(ascii: "{")]
        for (index, value) in values.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            literal.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }

    static func int64Array(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }

    /// A JSON object of string values, written by the protocol's own JSON writer.
    static func jsonObject(_ pairs: [(String, String)]) -> String {
        Record.Value.object(pairs.map { ($0.0, .text($0.1)) }).json
    }

    /// `value` as a LIKE pattern that matches only itself: `%`, `_` and the escape `\` escaped.
    static func likeLiteral(_ value: String) -> String {
        var out = ""
        for character in value {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// One row of COPY's text format: tab-separated, backslash escapes for what would break it,
    /// `\N` for NULL.
    static func appendCopyRow(_ fields: [String?], to out: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "\t")) }
            guard let field else {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "N")]
                continue
            }
            // Most fields need no escape: they are copied whole.
            guard field.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
                out.append(contentsOf: field.utf8)
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\n"))
    }
}
