/// SQL with its parameters kept apart: interpolated values become `$n` binds sent through
/// `PQexecParams`, never text spliced into the statement.
public struct PGQuery: Sendable, ExpressibleByStringInterpolation {
    public var sql: String
    public var binds: [String?]

    public init(sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(sql: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(sql: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        public mutating func appendInterpolation(_ value: (some PGBindable)?) {
            binds.append(value?.pgText)
            sql += "$\(binds.count)"
        }

        /// Splices trusted SQL text (an identifier or fragment chosen by code, never by a user).
        public mutating func appendInterpolation(unsafeSQL fragment: String) {
            sql += fragment
        }
    }
}

/// A Swift value sent as a text-format parameter.
public protocol PGBindable: Sendable {
    var pgText: String { get }
}

extension String: PGBindable { public var pgText: String { self } }
extension Substring: PGBindable { public var pgText: String { String(self) } }
extension Int: PGBindable { public var pgText: String { String(self) } }
extension Int64: PGBindable { public var pgText: String { String(self) } }
extension Int32: PGBindable { public var pgText: String { String(self) } }
extension Bool: PGBindable { public var pgText: String { self ? "t" : "f" } }
extension Double: PGBindable { public var pgText: String { String(self) } }
