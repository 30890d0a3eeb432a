/// Who is speaking on a connection, as established by `AUTH`.
public struct Principal: Sendable, Equatable {
    public var tokenID: Int64
    public var role: Role
    /// '' for admin; a county code or western province for `west`; an organisation id or eastern
    /// province/city for `east`.
    public var scope: String
    public var label: String

    public init(tokenID: Int64, role: Role, scope: String, label: String = "") {
        self.tokenID = tokenID
        self.role = role
        self.scope = scope
        self.label = label
    }
}

public enum Role: String, Sendable, CaseIterable {
    case admin, west, east
}
