import CommandProtocol

/// What a token may act on. Stored as text in the token's `scope`:
/// west `county:<code>` or `province:<code>`; east `org:<id>`, `province:<code>` or `city:<name>`.
public enum Scope: Sendable, Equatable {
    case everything
    case county(String)
    case westProvince(String)
    case organisation(Int64)
    case eastProvince(String)
    case eastCity(String)

    /// The scope a principal acts in; nil for a malformed stored scope (then nothing is allowed).
    public init?(_ principal: Principal) {
        if principal.role == .admin {
            self = .everything
            return
        }
        let parts = principal.scope.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        switch (principal.role, parts[0]) {
        case (.west, "county") where parts[1].count == 6: self = .county(parts[1])
        case (.west, "province") where parts[1].count == 2: self = .westProvince(parts[1])
        case (.east, "org"):
            guard let id = Int64(wholeNumber: parts[1]) else { return nil }
            self = .organisation(id)
        case (.east, "province") where parts[1].count == 2: self = .eastProvince(parts[1])
        case (.east, "city"): self = .eastCity(parts[1])
        default: return nil
        }
    }

    public var isWest: Bool {
        switch self {
        case .county, .westProvince: true
        default: false
        }
    }

    public var isEast: Bool {
        switch self {
        case .organisation, .eastProvince, .eastCity: true
        default: false
        }
    }
}

extension CommandContext {
    func scope(_ session: Session) throws(ProtocolError) -> Scope {
        let principal = try principal(session)
        guard let scope = Scope(principal) else {
            throw ProtocolError(.denied, "this token's scope '\(principal.scope)' is not valid; ask an administrator for a new one")
        }
        return scope
    }
}
