/// RFC 4180 CSV over UTF-8 bytes: fields separated by commas, `"…"` quoting with `""` for a
/// quote. A quoted field may span lines; `feed` returns a record once its quotes are balanced.
/// Bytes, not Characters: a million-row import is parsed at memory speed.
struct CSVReader {
    private var pending: [UInt8] = []
    private var quotes = 0

    /// Feeds one line (without its line ending); returns the record it completes, if any.
    mutating func feed(_ line: [UInt8]) -> [[UInt8]]? {
        if quotes % 2 == 1 { pending.append(UInt8(ascii: "\n")) }
        pending.append(contentsOf: line)
        for byte in line where byte == UInt8(ascii: "\"") { quotes += 1 }
        guard quotes % 2 == 0 else { return nil }
        defer {
            pending.removeAll(keepingCapacity: true)
            quotes = 0
        }
        return Self.split(pending)
    }

    /// Whether a record is still waiting for its closing quote at the end of the block.
    var isIncomplete: Bool { quotes % 2 == 1 }

    private static func split(_ text: [UInt8]) -> [[UInt8]] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var fields: [[UInt8]] = []
        var start = 0
        while true {
            // A field without quotes is copied whole, up to its comma.
            let end = text[start...].firstIndex(of: comma) ?? text.count
            if !text[start..<end].contains(quote) {
                fields.append(Array(text[start..<end]))
                if end == text.count { return fields }
                start = end + 1
                continue
            }
            var field: [UInt8] = []
            var inside = false
            var index = start
            while index < text.count {
                let byte = text[index]
                if inside {
                    if byte == quote {
                        if index + 1 < text.count && text[index + 1] == quote {
                            field.append(byte)
                            index += 1
                        } else {
                            inside = false
                        }
                    } else {
                        field.append(byte)
                    }
                } else if byte == quote {
                    inside = true
                } else if byte == comma {
                    break
                } else {
                    field.append(byte)
                }
                index += 1
            }
            fields.append(field)
            if index >= text.count { return fields }
            start = index + 1
        }
    }

    /// One CSV field: quoted only when it must be.
    static func field(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
            || value.hasPrefix(" ") || value.hasSuffix(" ")
        else { return value }
        var out = "\""
        for character in value {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        return out + "\""
    }
}
