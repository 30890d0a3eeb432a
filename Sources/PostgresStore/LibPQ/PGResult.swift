/// The rows of one statement, copied out of libpq's `PGresult` (which is cleared at once).
public struct PGResult: Sendable {
    public var rows: [PGRow]
    /// Rows touched, from `PQcmdTuples` (0 when the command reports none).
    public var affectedRows: Int

    public init(rows: [PGRow], affectedRows: Int) {
        self.rows = rows
        self.affectedRows = affectedRows
    }

    public var first: PGRow? { rows.first }
}

public struct PGRow: Sendable {
    public var values: [String?]

    public init(values: [String?]) { self.values = values }

    public subscript(index: Int) -> String? { values[index] }

    public func string(_ index: Int) throws -> String {
        guard let value = values[index] else { throw PGError(sqlState: nil, message: "column \(index) is NULL") }
        return value
    }

    public func int64(_ index: Int) throws -> Int64 {
        guard let text = values[index], let value = Int64(text) else {
            throw PGError(sqlState: nil, message: "column \(index) is not an integer: \(values[index] ?? "NULL")")
        }
        return value
    }

    public func int(_ index: Int) throws -> Int { Int(try int64(index)) }

    public func bool(_ index: Int) throws -> Bool {
        guard let text = values[index] else { throw PGError(sqlState: nil, message: "column \(index) is NULL") }
        return text == "t"
    }
}
