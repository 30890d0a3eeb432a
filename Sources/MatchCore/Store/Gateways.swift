import MatchingEngine

/// The tables as a unit of work sees them. Every call is synchronous and runs on the thread that
/// holds the unit's connection; a unit's calls share its transaction. Gateways store and load
/// rows; what a change means (statuses, what confirmed units pin, what a confirmation is worth)
/// is decided by the rules in MatchCore before a gateway is asked to store it.
public struct Gateways {
    public var tokens: any TokenGateway
    public var audit: any AuditGateway
    public var registry: any RegistryGateway
    public var needs: any NeedGateway
    public var offers: any OfferGateway
    public var matches: any MatchGateway
    public var placements: any PlacementGateway
    public var reports: any ReportGateway
    public var requests: any RequestGateway

    public init(
        tokens: any TokenGateway, audit: any AuditGateway, registry: any RegistryGateway, needs: any NeedGateway,
        offers: any OfferGateway, matches: any MatchGateway, placements: any PlacementGateway, reports: any ReportGateway,
        requests: any RequestGateway
    ) {
        self.tokens = tokens
        self.audit = audit
        self.registry = registry
        self.needs = needs
        self.offers = offers
        self.matches = matches
        self.placements = placements
        self.reports = reports
        self.requests = requests
    }
}

/// What a client's earlier request with the same `req=` key stored.
public struct EarlierRequest: Sendable, Equatable {
    public var target: String
    public var rows: Int

    public init(target: String, rows: Int) {
        self.target = target
        self.rows = rows
    }
}

/// Client request keys (`req=`), which make a retried write idempotent within a window.
public protocol RequestGateway {
    /// What the token's request `key` stored, if it did so within the last `hours`.
    func earlier(token: Int64, key: String, withinHours hours: Int) throws -> EarlierRequest?
    /// Remembers what the request stored; false when another unit holds the same key (a retry
    /// running beside the first request) — the caller refuses rather than storing twice.
    func remember(token: Int64, key: String, _ stored: EarlierRequest, withinHours hours: Int) throws -> Bool
}

public protocol TokenGateway {
    /// The principal for a presented secret, or nil when it is unknown, revoked or expired.
    func authenticate(secret: String) throws -> Principal?
    /// Whether the token is neither revoked nor expired now.
    func isValid(_ tokenID: Int64) throws -> Bool
    /// Stores the hash of `secret`.
    func create(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?) throws -> Principal
    func list(page: Page) throws -> [TokenInfo]
    /// nil when there is no such token; false when it was already revoked.
    func revoke(_ id: Int64) throws -> Bool?
}

public protocol AuditGateway {
    /// Records the entry; false (and nothing recorded) when its actor's token is no longer valid.
    func record(_ entry: AuditEntry) throws -> Bool
    /// Records an entry of the shell bootstrap, which has no token.
    func recordFromShell(command: String, target: String, changes: [(String, String)]) throws
    func entries(filter: AuditFilter, page: Page) throws -> [AuditRecord]
}

/// Provinces, counties, pairings, organisations and occupations. Updates return nil when the
/// row does not exist.
public protocol RegistryGateway {
    func provinces() throws -> [Province]

    func county(code: String) throws -> County?
    func counties(province: String?, isKey: Bool?, page: Page) throws -> [County]
    func addCounty(_ county: County) throws
    func updateCounty(code: String, name: String?, prefecture: String?, isKey: Bool?) throws -> County?

    func pairing(id: Int64) throws -> Pairing?
    func pairings(east: String?, west: String?, period: PairingPeriod?, page: Page) throws -> [Pairing]
    func addPairing(_ pairing: Pairing) throws -> Pairing
    func updatePairing(id: Int64, period: PairingPeriod?, eastCity: String?, westArea: String?) throws -> Pairing?

    func organisation(id: Int64) throws -> Organisation?
    func organisations(province: String?, kind: OrganisationKind?, page: Page) throws -> [Organisation]
    func addOrganisation(_ organisation: Organisation) throws -> Organisation
    func updateOrganisation(id: Int64, name: String?, city: String?, quality: Int?, employmentBase: Bool?) throws -> Organisation?

    func occupation(code: String) throws -> Occupation?
    func occupations(parent: String?, level: OccupationLevel?, page: Page) throws -> [Occupation]
    func addOccupation(_ occupation: Occupation) throws
    func renameOccupation(code: String, name: String) throws -> Occupation?
    /// The codes among `codes` that name no occupation, sorted.
    func unknownOccupations(_ codes: [String]) throws -> [String]

    /// The codes an import's rows are checked against.
    func importReference() throws -> ImportReference
}

/// What storing one NEED ADD came to.
public enum NeedInsertOutcome: Sendable, Equatable {
    case stored(Need)
    case tokenRevoked
    case unknownCounty
    case unknownOccupation(String)
}

public protocol NeedGateway {
    func load(_ id: Int64, lock: Bool) throws -> Need?
    func list(filter: NeedFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Need]
    /// Stores each need whose actor token is valid and whose county and occupation codes exist,
    /// with its audit entry, in one statement; the outcomes are in the needs' order.
    func insert(_ needs: [Need], audits: [AuditEntry]) throws -> [NeedInsertOutcome]
    /// Writes every field of a need that exists; with `supersedingProposals`, its unanswered
    /// proposals are superseded by the same statement.
    func save(_ need: Need, supersedingProposals: Bool) throws
    /// Stores one need whose county and occupations the caller has checked; returns its id.
    func add(_ need: Need) throws -> Int64
    /// Streams imported needs into the table (COPY), inside the unit's transaction.
    func beginImport() throws
    func importRows(_ needs: [Need]) throws
    /// Ends the stream; returns the rows stored.
    func endImport() throws -> Int
    func abortImport(reason: String)
}

/// An offer with its organisation's province and city, for scope checks.
public struct OwnedOffer: Sendable {
    public var offer: Offer
    public var province: String
    public var city: String

    public init(offer: Offer, province: String, city: String) {
        self.offer = offer
        self.province = province
        self.city = city
    }
}

public protocol OfferGateway {
    func load(_ id: Int64, lock: Bool) throws -> OwnedOffer?
    func list(filter: OfferFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Offer]
    /// Stores the offer; returns its id.
    func insert(_ offer: Offer) throws -> Int64
    func save(_ offer: Offer, supersedingProposals: Bool) throws
    func beginImport() throws
    func importRows(_ offers: [Offer]) throws
    func endImport() throws -> Int
    func abortImport(reason: String)
}

public protocol MatchGateway {
    /// Takes the lock that lets one run commit at a time, held to the end of the unit's
    /// transaction; false when another run holds it.
    func tryLockRuns() throws -> Bool
    /// Marks unanswered proposals older than the given age as expired.
    func expireProposals(olderThanDays days: Int) throws
    /// Open needs (those in the filter, or just `needID`) and open offers as engine records,
    /// with the pairings and declined pairs.
    func runInput(_ filter: RunFilter, needID: Int64?) throws -> RunInput
    /// Stores the run and its proposals, superseding the unanswered proposals of earlier runs
    /// for the needs in `filter`; returns the run's id.
    func storeRun(_ run: RunRecord, proposals: [Proposal], filter: RunFilter, startedBy: Int64) throws -> Int64
    /// Adds figures known only once the run is stored (the store phase's time).
    func addFigures(run: Int64, _ figures: [(String, String)]) throws
    func runs(page: Page) throws -> [RunRecord]
    func run(id: Int64) throws -> RunRecord?
    /// All proposals of a run, as (need, offer) → (units, score), for RUN DIFF.
    func proposals(run: Int64) throws -> [PairID: (units: Int64, score: Int64)]

    func load(_ id: Int64, lock: Bool) throws -> MatchInfo?
    func list(filter: MatchFilter, within scope: Scope, page: Page) throws -> [MatchInfo]
    /// Writes a match's answers, status, confirmed and placed units, placement day and reason.
    func save(_ match: MatchInfo) throws
    /// Remembers a declined pair so no later run proposes it again.
    func rememberDeclined(need: Int64, offer: Int64) throws
}

public struct PlacementFilter: Sendable {
    public var match: Int64?
    public var need: Int64?
    public var county: String?
    public var organisation: Int64?
    public init() {}
}

/// Placements (with their need's county and their match's organisation) and their follow-ups.
public protocol PlacementGateway {
    /// Stores a new placement; returns its id.
    func add(_ placement: Placement) throws -> Int64
    func load(_ id: Int64, lock: Bool) throws -> Placement?
    /// Writes what a follow-up changes: who left, who was given back, the stable counts, the last check.
    func save(_ placement: Placement) throws
    func record(_ check: PlacementCheck) throws
    func checks(placement: Int64) throws -> [PlacementCheck]
    /// The 脱贫劳动力 and 监测对象 already placed on the need, over all its matches.
    func placedCounts(need: Int64) throws -> (poverty: Int, monitored: Int)
    func list(filter: PlacementFilter, within scope: Scope, page: Page) throws -> [Placement]
    /// Placements with people at work whose next follow-up (3, then 6 months) falls on or before `day`, by id.
    func due(by day: Day, within scope: Scope, page: Page) throws -> [Placement]
}

public protocol ReportGateway {
    func stats(within scope: Scope) throws -> Stats
    func unmetNeeds(filter: NeedFilter, within scope: Scope, after cursor: UnmetCursor?, limit: Int) throws -> [Need]
    /// Open offers that could serve the needs (at most `perKey` per kind and occupation group),
    /// as engine records with the pairings, for UNMET's candidates.
    func candidateOffers(for needs: [Need], within scope: Scope, perKey: Int) throws -> RunInput
    func needFill(years: [Int]?, kind: Kind?, within scope: Scope) throws -> [FillCell]
    func occupationFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup]
    func pairingFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup]
    func flows(_ filter: FlowFilter) throws -> [FlowCell]
    func plans(year: Int?, province: String?) throws -> [Plan]
    func setPlan(_ plan: Plan) throws
    /// What eastern organisations gave in `year`, by their province, city and kind.
    func eastFlows(year: Int, province: String?) throws -> [EastFlowCell]
    /// Stores a filing of a province's report; the store adds its fingerprint (the SHA-256 of
    /// `csv`), version and time.
    func submitReport(year: Int, province: String, rows: String, csv: String, by principal: Principal) throws -> ReportSubmission
    /// The latest filing per province (one province, or all) for `year`.
    func filings(year: Int, province: String?) throws -> Filings
}
