/// What the command logic needs from the system of record. `PostgresStore` implements it over
/// libpq; the command logic never sees SQL.
public protocol Repository: TokenRepository, RegistryRepository, SubmissionRepository, BulkRepository, MatchRepository,
    ReportRepository {}

public protocol TokenRepository: Sendable {
    /// Opens a transaction that the calls of the returned batch's repository share, until
    /// `commit()` or `rollback()` (BEGIN … COMMIT on a connection).
    func beginBatch() async throws -> any BatchTransaction

    /// The principal for a presented secret, or nil when it is unknown, revoked or expired.
    func authenticate(secret: String) async throws -> Principal?
    /// The principal behind a token id as it stands now: nil once revoked or expired.
    func principal(tokenID: Int64) async throws -> Principal?
    /// Stores the hash of `secret` and returns the new token's principal. `audit` is nil only for
    /// the shell bootstrap (`ewmatch token create`), which has no principal; it is then audited as
    /// done from the shell.
    func createToken(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?, audit: AuditEntry?)
        async throws -> Principal
    func tokens(page: Page) async throws -> [TokenInfo]
    func revokeToken(id: Int64, audit: AuditEntry) async throws
    func auditEntries(filter: AuditFilter, page: Page) async throws -> [AuditRecord]
}

public protocol BatchTransaction: AnyObject, Sendable {
    var repository: any Repository { get }
    func commit() async throws
    func rollback() async
}

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

/// Provinces, counties, pairings, organisations and occupations. Every write records its
/// `AuditEntry` in the same transaction.
public protocol RegistryRepository: Sendable {
    func provinces() async throws -> [Province]

    func county(code: String) async throws -> County?
    func counties(province: String?, isKey: Bool?, page: Page) async throws -> [County]
    func addCounty(_ county: County, audit: AuditEntry) async throws
    func updateCounty(code: String, name: String?, prefecture: String?, isKey: Bool?, audit: AuditEntry) async throws -> County

    func pairing(id: Int64) async throws -> Pairing?
    func pairings(east: String?, west: String?, period: PairingPeriod?, page: Page) async throws -> [Pairing]
    func addPairing(_ pairing: Pairing, audit: AuditEntry) async throws -> Pairing
    func updatePairing(id: Int64, period: PairingPeriod?, eastCity: String?, westArea: String?, audit: AuditEntry) async throws -> Pairing

    func organisation(id: Int64) async throws -> Organisation?
    func organisations(province: String?, kind: OrganisationKind?, page: Page) async throws -> [Organisation]
    func addOrganisation(_ organisation: Organisation, audit: AuditEntry) async throws -> Organisation
    func updateOrganisation(id: Int64, name: String?, city: String?, audit: AuditEntry) async throws -> Organisation

    func occupation(code: String) async throws -> Occupation?
    func occupations(parent: String?, level: OccupationLevel?, page: Page) async throws -> [Occupation]
    func addOccupation(_ occupation: Occupation, audit: AuditEntry) async throws
    func renameOccupation(code: String, name: String, audit: AuditEntry) async throws -> Occupation
}

/// Needs and offers. Reads take the caller's scope and see only what it may; writes record their
/// `AuditEntry` in the same transaction.
public protocol SubmissionRepository: Sendable {
    /// Checks the audit's actor token in the same transaction (throws `tokenRevoked`) and the
    /// county and occupation codes (throws `invalid`): NEED ADD needs no other round trip.
    func addNeed(_ need: Need, audit: AuditEntry) async throws -> Need
    func need(id: Int64) async throws -> Need?
    func needs(filter: NeedFilter, within scope: Scope, openOnly: Bool, page: Page) async throws -> [Need]
    /// Refuses (conflict) a change that confirmed matches depend on.
    func updateNeed(id: Int64, changes: SubmissionChanges, audit: AuditEntry) async throws -> Need
    func cancelNeed(id: Int64, audit: AuditEntry) async throws -> Need

    func addOffer(_ offer: Offer, audit: AuditEntry) async throws -> Offer
    /// The offer with its organisation's province and city, for scope checks.
    func offer(id: Int64) async throws -> (offer: Offer, province: String, city: String)?
    func offers(filter: OfferFilter, within scope: Scope, openOnly: Bool, page: Page) async throws -> [Offer]
    func updateOffer(id: Int64, changes: SubmissionChanges, audit: AuditEntry) async throws -> Offer
    func withdrawOffer(id: Int64, audit: AuditEntry) async throws -> Offer
}

/// Bulk import: the codes rows are checked against, and a COPY stream into PostgreSQL.
public protocol BulkRepository: Sendable {
    func importReference() async throws -> ImportReference
    /// Opens a transaction (or joins the open batch) and starts `statement` (`COPY … FROM STDIN`).
    func beginCopy(_ statement: String) async throws -> any CopyWriter
}

public struct ImportReference: Sendable {
    public var counties: Set<String>
    public var occupations: Set<String>
    /// Organisation id → (province, city).
    public var organisations: [Int64: (String, String)]

    public init(counties: Set<String>, occupations: Set<String>, organisations: [Int64: (String, String)]) {
        self.counties = counties
        self.occupations = occupations
        self.organisations = organisations
    }
}

public protocol CopyWriter: AnyObject, Sendable {
    /// COPY text-format rows, each ending in `\n`.
    func write(_ rows: [UInt8]) async throws
    /// Ends the COPY, records `audit` and commits (unless inside a batch); returns the rows stored.
    func finish(audit: AuditEntry) async throws -> Int
    /// Stores nothing.
    func cancel(reason: String) async
}

/// Failures a repository reports in terms the protocol can answer.
public enum RepositoryError: Error, Sendable, Equatable {
    /// The database cannot be reached now; the same request may work later.
    case unavailable(String)
    case notFound(String)
    case conflict(String)
    case invalid(field: String, message: String)
    /// The acting token was revoked or expired, found by a write that checks it itself.
    case tokenRevoked
    /// Another holder has the resource (a matching run); retry later.
    case busy(String)
}
