/// A token as administrators see it: never its secret or hash.
public struct TokenInfo: Sendable {
    public var principal: Principal
    public var createdAt: String
    public var expiresAt: String?
    public var revokedAt: String?

    public init(principal: Principal, createdAt: String, expiresAt: String?, revokedAt: String?) {
        self.principal = principal
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

public struct AuditFilter: Sendable {
    public var tokenID: Int64?
    public var target: String?
    public var since: String?
    public var until: String?
    public init() {}
}

public struct AuditRecord: Sendable {
    public var id: Int64
    public var at: String
    public var tokenID: Int64?
    public var role: String
    public var scope: String
    public var command: String
    public var target: String
    public var changes: String

    public init(id: Int64, at: String, tokenID: Int64?, role: String, scope: String, command: String, target: String, changes: String) {
        self.id = id
        self.at = at
        self.tokenID = tokenID
        self.role = role
        self.scope = scope
        self.command = command
        self.target = target
        self.changes = changes
    }
}

public struct ImportReference: Sendable {
    public var counties: Set<String>
    public var occupations: Set<String>
    public var organisations: [Int64: Organisation]

    public init(counties: Set<String>, occupations: Set<String>, organisations: [Int64: Organisation]) {
        self.counties = counties
        self.occupations = occupations
        self.organisations = organisations
    }
}
