/// What the command logic needs from the system of record. `PostgresStore` implements it over
/// libpq; the command logic never sees SQL.
public protocol Repository: Sendable {
    /// The principal for a presented secret, or nil when it is unknown, revoked or expired.
    func authenticate(secret: String) async throws -> Principal?
    /// The principal behind a token id as it stands now: nil once revoked or expired.
    func principal(tokenID: Int64) async throws -> Principal?
    /// Stores the hash of `secret` and returns the new token's principal.
    func createToken(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?) async throws -> Principal
}

/// Failures a repository reports in terms the protocol can answer.
public enum RepositoryError: Error, Sendable, Equatable {
    /// The database cannot be reached now; the same request may work later.
    case unavailable(String)
    case notFound(String)
    case conflict(String)
    case invalid(field: String, message: String)
}
