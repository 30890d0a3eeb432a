import CommandProtocol
import Foundation

extension Record.Value {
    /// A JSON text the store keeps (audit changes, a match's score parts) as a nested value:
    /// JSON mode writes its objects and numbers, text mode the stored text as it always has.
    /// Text that does not parse stays text, so a reply never fails on one bad row.
    static func storedJSON(_ text: String) -> Record.Value {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return .text(text)
        }
        return .spelled(value(parsed), text: text)
    }

    private static func value(_ parsed: Any) -> Record.Value {
        switch parsed {
        case let text as String: return .text(text)
        case let number as NSNumber:
            // Foundation gives booleans, integers and doubles all as NSNumber; the type code tells them apart.
            switch String(cString: number.objCType) {
            case "c", "B": return .bool(number.boolValue)
            case "f", "d": return .numeric(number.stringValue)
            default: return .integer(number.int64Value)
            }
        case let array as [Any]: return .array(array.map(value))
        // jsonb keeps keys in an order of its own, and Foundation none: sorted, the reply is the same every time.
        case let object as [String: Any]: return .object(object.sorted { $0.key < $1.key }.map { ($0.key, value($0.value)) })
        default: return .null
        }
    }
}
