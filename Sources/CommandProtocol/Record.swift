/// Named values in order: what a reply says about one thing. The edge writes it in the
/// connection's format, as `key=value` words (`FORMAT text`, the default, readable in nc) or as
/// one JSON object (`FORMAT json`, for scripts).
public struct Record: Sendable, Equatable {
    public indirect enum Value: Sendable, Equatable {
        case text(String)
        case integer(Int64)
        /// A decimal as written (`0.300`), so text mode keeps its trailing zeros.
        case decimal(String)
        case bool(Bool)
        case null
        case object([(String, Value)])
        case array([Value])
        /// A nested value that text mode writes as `text`, the spelling its replies have always
        /// had (a stored JSON text, `key=value` words), while JSON mode writes the value itself.
        case spelled(Value, text: String)

        public static func == (lhs: Value, rhs: Value) -> Bool {
            switch (lhs, rhs) {
            case (.text(let a), .text(let b)): a == b
            case (.integer(let a), .integer(let b)): a == b
            case (.decimal(let a), .decimal(let b)): a == b
            case (.bool(let a), .bool(let b)): a == b
            case (.null, .null): true
            case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            case (.array(let a), .array(let b)): a == b
            case (.spelled(let a, let x), .spelled(let b, let y)): a == b && x == y
            default: false
            }
        }
    }

    public var fields: [(String, Value)]

    public init(_ fields: [(String, Value)] = []) {
        self.fields = fields
    }

    public static func == (lhs: Record, rhs: Record) -> Bool {
        Value.object(lhs.fields) == Value.object(rhs.fields)
    }

    /// `k1=v1 k2=v2 …`, values quoted where needed.
    var text: String {
        fields.map { "\($0.0)=\(Field.quoted($0.1.spelling))" }.joined(separator: " ")
    }

    /// `{"k1":v1,…}`
    var json: String {
        var out = ""
        write(json: &out)
        return out
    }

    /// Appends `json`: one string grows, where joining each member's own string made several
    /// per member (a matching run writes an explanation for each of tens of thousands of proposals).
    func write(json out: inout String) {
        out += "{"
        for (index, field) in fields.enumerated() {
            if index > 0 { out += "," }
            JSON.write(string: field.0, to: &out)
            out += ":"
            field.1.write(json: &out)
        }
        out += "}"
    }
}

extension Record.Value {
    /// The value as one text-mode word before quoting: `yes`/`no` for a bool, `-` for null,
    /// compact JSON for a nested value without a spelling of its own.
    public var spelling: String {
        switch self {
        case .text(let text): text
        case .integer(let number): "\(number)"
        case .decimal(let number): number
        case .bool(let flag): flag ? "yes" : "no"
        case .null: "-"
        case .object, .array: json
        case .spelled(_, let text): text
        }
    }

    /// The value as JSON. A decimal that is not a JSON number is written as a string, so a
    /// reply line is always valid JSON.
    public var json: String {
        var out = ""
        write(json: &out)
        return out
    }

    func write(json out: inout String) {
        switch self {
        case .text(let text): JSON.write(string: text, to: &out)
        case .integer(let number): out += String(number)
        case .decimal(let number): if JSON.isNumber(number) { out += number } else { JSON.write(string: number, to: &out) }
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .object(let members): Record(members).write(json: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(json: &out)
            }
            out += "]"
        case .spelled(let value, _): value.write(json: &out)
        }
    }

    public static func int(_ value: Int) -> Record.Value { .integer(Int64(value)) }
    public static func optional(_ value: String?) -> Record.Value { value.map { .text($0) } ?? .null }

    /// `text` as a number when it spells one (`12`, `-0.250`), else as text: for figures that
    /// are kept as strings. Text mode writes the same word either way.
    public static func numeric(_ text: String) -> Record.Value {
        guard JSON.isNumber(text) else { return .text(text) }
        if let number = Int64(text), "\(number)" == text { return .integer(number) }
        return .decimal(text)
    }
}

extension Record.Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json
}

enum JSON {
    /// A JSON string literal; non-ASCII text stays as UTF-8, control characters (DEL too, so no
    /// terminal sees one) are escaped.
    static func write(string text: String, to out: inout String) {
        // Most strings need no escape: they are appended whole.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20 || control.value == 0x7F:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// Whether `text` is a number in JSON's grammar: `-`, digits without a leading zero,
    /// optional fraction and exponent.
    static func isNumber(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let leadingZero = bytes.first == UInt8(ascii: "0")
        let whole = digits()
        guard whole > 0, !leadingZero || whole == 1 else { return false }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
