/// A failure reported by libpq or the server, with the SQLSTATE when there is one.
public struct PGError: Error, Sendable, CustomStringConvertible {
    public var sqlState: String?
    public var message: String
    /// The connection is gone (or never came up): the statement may be retried on a new one.
    public var isConnectionFailure: Bool

    public init(sqlState: String?, message: String, isConnectionFailure: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        self.isConnectionFailure = isConnectionFailure || Self.isConnectionState(sqlState)
    }

    public var description: String {
        if let sqlState { return "\(message) (SQLSTATE \(sqlState))" }
        return message
    }

    /// Class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect now).
    static func isConnectionState(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
}
