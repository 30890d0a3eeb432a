import CommandProtocol

/// One record of a multi-line reply: ordered named values, rendered as `key=value` words
/// (`FORMAT text`, the default, readable in nc) or as one JSON object (`FORMAT json`, for scripts).
public struct Record: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case text(String)
        case integer(Int64)
        case decimal(String)
        case bool(Bool)
        case null
    }

    public var fields: [(String, Value)]

    public init(_ fields: [(String, Value)]) {
        self.fields = fields
    }

    public static func == (lhs: Record, rhs: Record) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public func rendered(as format: OutputFormat) -> String {
        switch format {
        case .text:
            return fields.map { key, value in
                switch value {
                case .text(let text): "\(key)=\(Field.quoted(text))"
                case .integer(let number): "\(key)=\(number)"
                case .decimal(let number): "\(key)=\(number)"
                case .bool(let flag): "\(key)=\(flag ? "yes" : "no")"
                case .null: "\(key)=-"
                }
            }.joined(separator: " ")
        case .json:
            let members = fields.map { key, value in
                let json: String =
                    switch value {
                    case .text(let text): JSON.string(text)
                    case .integer(let number): "\(number)"
                    case .decimal(let number): number
                    case .bool(let flag): flag ? "true" : "false"
                    case .null: "null"
                    }
                return "\(JSON.string(key)):\(json)"
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}

extension Record.Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public static func int(_ value: Int) -> Record.Value { .integer(Int64(value)) }
    public static func optional(_ value: String?) -> Record.Value { value.map { .text($0) } ?? .null }
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json
}

enum JSON {
    /// A JSON string literal; non-ASCII text stays as UTF-8, control characters are escaped.
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
