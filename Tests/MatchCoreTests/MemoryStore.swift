import MatchCore
import MatchingEngine
import Synchronization

/// The tables in memory, for pure unit tests of the command logic: a unit works on a copy and
/// puts it back only when it succeeds, so a failed unit stores nothing, as a transaction would.
/// It counts the units each command opens. Runs and the summary reports are not kept here: the
/// tests of those run on PostgreSQL.
final class MemoryStore: Store {
    struct Tables {
        var tokens: [Int64: (secret: String, principal: Principal, revoked: Bool)] = [:]
        var audit: [AuditEntry] = []
        var provinces = [
            Province(code: "32", name: "江苏省", side: .east), Province(code: "44", name: "广东省", side: .east),
            Province(code: "52", name: "贵州省", side: .west),
        ]
        var counties: [String: County] = [
            "520204": County(code: "520204", name: "水城区", province: "52", prefecture: "六盘水市", isKey: true),
            "520324": County(code: "520324", name: "正安县", province: "52", prefecture: "遵义市", isKey: true),
        ]
        var organisations: [Int64: Organisation] = [:]
        var occupations: [String: Occupation] = [
            "6": Occupation(code: "6", name: "生产制造", level: .major, parent: nil),
            "6-01": Occupation(code: "6-01", name: "农副产品加工", level: .mid, parent: "6"),
        ]
        var needs: [Int64: Need] = [:]
        var offers: [Int64: Offer] = [:]
        var matches: [Int64: MatchInfo] = [:]
        var placements: [Int64: Placement] = [:]
        var checks: [PlacementCheck] = []
        var declined: Set<PairID> = []
        var requests: [String: EarlierRequest] = [:]
        var lastID: Int64 = 0

        mutating func nextID() -> Int64 {
            lastID += 1
            return lastID
        }
    }

    enum UnitKind: Equatable { case read, write, long }

    private let state = Mutex((tables: Tables(), units: [UnitKind]()))

    var tables: Tables {
        get { state.withLock { $0.tables } }
        set { state.withLock { $0.tables = newValue } }
    }

    /// The units opened so far, in order.
    var units: [UnitKind] { state.withLock { $0.units } }

    var longUnitLimit: Int { 1 }
    var leaseTimeoutSeconds: Double { 1 }

    func principal(role: Role, scope: String) -> (secret: String, principal: Principal) {
        state.withLock { state in
            let id = state.tables.nextID()
            let secret = TokenSecret.generate()
            let principal = Principal(tokenID: id, role: role, scope: scope, label: "\(role)")
            state.tables.tokens[id] = (secret, principal, false)
            return (secret, principal)
        }
    }

    func read<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try unit(.read) { unit in
            if let token, try !unit.isValid(token) { throw StoreError.tokenRevoked }
            return try body(unit.gateways)
        }
    }

    func write<T: Sendable>(audit: AuditEntry, _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T)
        async throws -> T
    {
        try unit(.write) { unit in try unit.step(audit: audit, body) }
    }

    func openLongUnit(_ isolation: Isolation) async throws -> any LongUnit {
        state.withLock { $0.units.append(.long) }
        return MemoryLongUnit(store: self, tables: tables)
    }

    func submitNeed(_ need: Need, audit: AuditEntry) async throws -> NeedInsertOutcome {
        try unit(.write) { unit in try unit.gateways.needs.insert([need], audits: [audit])[0] }
    }

    private func unit<T>(_ kind: UnitKind, _ body: (MemoryUnit) throws -> T) throws -> T {
        try state.withLock { state in
            state.units.append(kind)
            let unit = MemoryUnit(state.tables)
            let value = try body(unit)
            state.tables = unit.tables
            return value
        }
    }

    fileprivate func commit(_ tables: Tables) {
        state.withLock { $0.tables = tables }
    }
}

/// A batch, import or run held across awaits: its copy of the tables goes back on commit.
final class MemoryLongUnit: LongUnit, @unchecked Sendable {
    private let store: MemoryStore
    private let lock = Mutex<MemoryStore.Tables?>(nil)

    init(store: MemoryStore, tables: MemoryStore.Tables) {
        self.store = store
        lock.withLock { $0 = tables }
    }

    func read<T: Sendable>(token: Int64?, _ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        try step { unit in
            if let token, try !unit.isValid(token) { throw StoreError.tokenRevoked }
            return try body(unit.gateways)
        }
    }

    func write<T: Sendable>(audit: AuditEntry, _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T)
        async throws -> T
    {
        try step { unit in try unit.step(audit: audit, body) }
    }

    func commit() async throws {
        guard let tables = lock.withLock({ state -> MemoryStore.Tables? in defer { state = nil }; return state }) else {
            throw StoreError.conflict("the unit of work has already ended")
        }
        store.commit(tables)
    }

    func rollback() async {
        lock.withLock { $0 = nil }
    }

    private func step<T>(_ body: (MemoryUnit) throws -> T) throws -> T {
        try lock.withLock { tables in
            guard let current = tables else { throw StoreError.conflict("the unit of work has already ended") }
            let unit = MemoryUnit(current)
            let value = try body(unit)
            tables = unit.tables
            return value
        }
    }
}

struct NotKeptInMemory: Error, CustomStringConvertible {
    var what: String
    var description: String { "\(what) are not kept by the in-memory store" }
}

/// One unit's copy of the tables, seen through the gateways.
final class MemoryUnit: TokenGateway, AuditGateway, RegistryGateway, NeedGateway, OfferGateway, MatchGateway,
    PlacementGateway, ReportGateway, RequestGateway
{
    var tables: MemoryStore.Tables

    init(_ tables: MemoryStore.Tables) {
        self.tables = tables
    }

    var gateways: Gateways {
        Gateways(
            tokens: self, audit: self, registry: self, needs: self, offers: self, matches: self, placements: self, reports: self,
            requests: self)
    }

    func step<T>(audit: AuditEntry, _ body: (Gateways, inout AuditEntry) throws -> T) throws -> T {
        var entry = audit
        let value = try body(gateways, &entry)
        guard try record(entry) else { throw StoreError.tokenRevoked }
        return value
    }

    // MARK: Tokens and audit

    func authenticate(secret: String) throws -> Principal? {
        tables.tokens.values.first { $0.secret == secret && !$0.revoked }?.principal
    }

    func isValid(_ tokenID: Int64) throws -> Bool {
        tables.tokens[tokenID].map { !$0.revoked } ?? false
    }

    func create(secret: String, role: Role, scope: String, label: String, expiresInDays: Int?) throws -> Principal {
        let principal = Principal(tokenID: tables.nextID(), role: role, scope: scope, label: label)
        tables.tokens[principal.tokenID] = (secret, principal, false)
        return principal
    }

    func list(page: Page) throws -> [TokenInfo] {
        tables.tokens.keys.sorted().compactMap { id in
            tables.tokens[id].map { TokenInfo(principal: $0.principal, createdAt: "", expiresAt: nil, revokedAt: $0.revoked ? "" : nil) }
        }
    }

    func revoke(_ id: Int64) throws -> Bool? {
        guard let token = tables.tokens[id] else { return nil }
        guard !token.revoked else { return false }
        tables.tokens[id]?.revoked = true
        return true
    }

    func record(_ entry: AuditEntry) throws -> Bool {
        guard try isValid(entry.actor.tokenID) else { return false }
        tables.audit.append(entry)
        return true
    }

    func recordFromShell(command: String, target: String, changes: [(String, String)]) throws {}

    func entries(filter: AuditFilter, page: Page) throws -> [AuditRecord] {
        tables.audit.enumerated().map { index, entry in
            AuditRecord(
                id: Int64(index + 1), at: "", tokenID: entry.actor.tokenID, role: entry.actor.role.rawValue, scope: entry.actor.scope,
                command: entry.command, target: entry.target, changes: entry.changesJSON)
        }
    }

    // MARK: Registry

    func provinces() throws -> [Province] { tables.provinces }
    func county(code: String) throws -> County? { tables.counties[code] }

    func counties(province: String?, isKey: Bool?, page: Page) throws -> [County] {
        tables.counties.values.filter { province == nil || $0.province == province }.sorted { $0.code < $1.code }
    }

    func addCounty(_ county: County) throws {
        guard tables.counties[county.code] == nil else { throw StoreError.conflict("already exists: county \(county.code)") }
        tables.counties[county.code] = county
    }

    func updateCounty(code: String, name: String?, prefecture: String?, isKey: Bool?) throws -> County? {
        guard var county = tables.counties[code] else { return nil }
        county.name = name ?? county.name
        county.prefecture = prefecture ?? county.prefecture
        county.isKey = isKey ?? county.isKey
        tables.counties[code] = county
        return county
    }

    func pairing(id: Int64) throws -> Pairing? { nil }
    func pairings(east: String?, west: String?, period: PairingPeriod?, page: Page) throws -> [Pairing] { [] }
    func addPairing(_ pairing: Pairing) throws -> Pairing { throw NotKeptInMemory(what: "pairings") }
    func updatePairing(id: Int64, period: PairingPeriod?, eastCity: String?, westArea: String?) throws -> Pairing? { nil }

    func organisation(id: Int64) throws -> Organisation? { tables.organisations[id] }

    func organisations(province: String?, kind: OrganisationKind?, page: Page) throws -> [Organisation] {
        tables.organisations.values.sorted { $0.id < $1.id }
    }

    func addOrganisation(_ organisation: Organisation) throws -> Organisation {
        var stored = organisation
        stored.id = tables.nextID()
        tables.organisations[stored.id] = stored
        return stored
    }

    func updateOrganisation(id: Int64, name: String?, city: String?, quality: Int?, employmentBase: Bool?) throws -> Organisation? {
        guard var organisation = tables.organisations[id] else { return nil }
        organisation.name = name ?? organisation.name
        organisation.city = city ?? organisation.city
        organisation.quality = quality ?? organisation.quality
        organisation.employmentBase = employmentBase ?? organisation.employmentBase
        tables.organisations[id] = organisation
        return organisation
    }

    func occupation(code: String) throws -> Occupation? { tables.occupations[code] }

    func occupations(parent: String?, level: OccupationLevel?, page: Page) throws -> [Occupation] {
        tables.occupations.values.sorted { $0.code < $1.code }
    }

    func addOccupation(_ occupation: Occupation) throws { tables.occupations[occupation.code] = occupation }

    func renameOccupation(code: String, name: String) throws -> Occupation? {
        tables.occupations[code]?.name = name
        return tables.occupations[code]
    }

    func unknownOccupations(_ codes: [String]) throws -> [String] {
        codes.filter { tables.occupations[$0] == nil }.sorted()
    }

    func importReference() throws -> ImportReference {
        ImportReference(
            counties: Set(tables.counties.keys), occupations: Set(tables.occupations.keys),
            organisations: tables.organisations)
    }

    // MARK: Needs

    func load(_ id: Int64, lock: Bool) throws -> Need? { tables.needs[id] }

    func list(filter: NeedFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Need] {
        tables.needs.values.filter { !openOnly || $0.status.isOpen }.sorted { $0.id < $1.id }
    }

    func insert(_ needs: [Need], audits: [AuditEntry]) throws -> [NeedInsertOutcome] {
        zip(needs, audits).map { need, audit in
            guard tables.tokens[audit.actor.tokenID].map({ !$0.revoked }) ?? false else { return .tokenRevoked }
            guard tables.counties[need.county] != nil else { return .unknownCounty }
            if let unknown = need.occupations.first(where: { tables.occupations[$0] == nil }) { return .unknownOccupation(unknown) }
            var stored = need
            stored.id = tables.nextID()
            tables.needs[stored.id] = stored
            var entry = audit
            entry.target = "need:\(stored.id)"
            tables.audit.append(entry)
            return .stored(stored)
        }
    }

    func save(_ need: Need, supersedingProposals: Bool) throws {
        tables.needs[need.id] = need
        if supersedingProposals { supersede { $0.need == need.id } }
    }

    func add(_ need: Need) throws -> Int64 {
        var stored = need
        stored.id = tables.nextID()
        tables.needs[stored.id] = stored
        return stored.id
    }

    // MARK: Client requests (no window in memory: a key is remembered for the test's length)

    func earlier(token: Int64, key: String, withinHours hours: Int) throws -> EarlierRequest? {
        tables.requests["\(token)/\(key)"]
    }

    func remember(token: Int64, key: String, _ stored: EarlierRequest, withinHours hours: Int) throws -> Bool {
        guard tables.requests["\(token)/\(key)"] == nil else { return false }
        tables.requests["\(token)/\(key)"] = stored
        return true
    }

    private var importing: [Need] = []
    private var importingOffers: [Offer] = []

    func beginImport() throws {}
    func importRows(_ needs: [Need]) throws { importing += needs }

    func endImport() throws -> Int {
        for need in importing {
            var stored = need
            stored.id = tables.nextID()
            tables.needs[stored.id] = stored
        }
        for offer in importingOffers {
            var stored = offer
            stored.id = tables.nextID()
            tables.offers[stored.id] = stored
        }
        defer { importing = []; importingOffers = [] }
        return importing.count + importingOffers.count
    }

    func abortImport(reason: String) {
        importing = []
        importingOffers = []
    }

    // MARK: Offers

    func load(_ id: Int64, lock: Bool) throws -> OwnedOffer? {
        guard let offer = tables.offers[id], let organisation = tables.organisations[offer.organisation] else { return nil }
        return OwnedOffer(offer: offer, province: organisation.province, city: organisation.city)
    }

    func list(filter: OfferFilter, within scope: Scope, openOnly: Bool, page: Page) throws -> [Offer] {
        tables.offers.values.filter { !openOnly || $0.status.isOpen }.sorted { $0.id < $1.id }
    }

    func insert(_ offer: Offer) throws -> Int64 {
        var stored = offer
        stored.id = tables.nextID()
        tables.offers[stored.id] = stored
        return stored.id
    }

    func save(_ offer: Offer, supersedingProposals: Bool) throws {
        tables.offers[offer.id] = offer
        if supersedingProposals { supersede { $0.offer == offer.id } }
    }

    func importRows(_ offers: [Offer]) throws { importingOffers += offers }

    private func supersede(_ affected: (MatchInfo) -> Bool) {
        for (id, match) in tables.matches where match.status == .proposed && affected(match) {
            tables.matches[id]?.status = .superseded
        }
    }

    // MARK: Matches

    func load(_ id: Int64, lock: Bool) throws -> MatchInfo? { tables.matches[id] }

    func list(filter: MatchFilter, within scope: Scope, page: Page) throws -> [MatchInfo] {
        tables.matches.values.sorted { $0.id < $1.id }
    }

    func save(_ match: MatchInfo) throws { tables.matches[match.id] = match }
    func rememberDeclined(need: Int64, offer: Int64) throws { tables.declined.insert(PairID(need: need, offer: offer)) }

    /// A proposal as a run would store it, for tests of the answers.
    func propose(need: Int64, offer: Int64, units: Int64) -> MatchInfo {
        let county = tables.needs[need]?.county ?? ""
        let organisation = tables.offers[offer]?.organisation ?? 0
        let match = MatchInfo(
            id: tables.nextID(), run: 1, need: need, offer: offer, county: county, organisation: organisation, units: units,
            score: 500, explanation: "{}", status: .proposed, westAnswer: nil, westUnits: nil, eastAnswer: nil, eastUnits: nil,
            confirmedUnits: nil, reason: "")
        tables.matches[match.id] = match
        return match
    }

    // MARK: Placements

    func add(_ placement: Placement) throws -> Int64 {
        var stored = placement
        stored.id = tables.nextID()
        tables.placements[stored.id] = stored
        return stored.id
    }

    func load(_ id: Int64, lock: Bool) throws -> Placement? { tables.placements[id] }
    func save(_ placement: Placement) throws { tables.placements[placement.id] = placement }
    func record(_ check: PlacementCheck) throws { tables.checks.append(check) }
    func checks(placement: Int64) throws -> [PlacementCheck] { tables.checks.filter { $0.placement == placement } }

    func placedCounts(need: Int64) throws -> (poverty: Int, monitored: Int) {
        let placed = tables.placements.values.filter { $0.need == need }
        return (placed.reduce(0) { $0 + $1.poverty }, placed.reduce(0) { $0 + $1.monitored })
    }

    func list(filter: PlacementFilter, within scope: Scope, page: Page) throws -> [Placement] {
        tables.placements.values.filter { filter.match == nil || $0.match == filter.match }.sorted { $0.id < $1.id }
    }

    func due(by day: Day, within scope: Scope, page: Page) throws -> [Placement] {
        tables.placements.values.filter { placement in placement.nextMilestone.map { placement.due($0) <= day } ?? false }
            .sorted { $0.id < $1.id }
    }

    func tryLockRuns() throws -> Bool { throw NotKeptInMemory(what: "runs") }
    func expireProposals(olderThanDays days: Int) throws { throw NotKeptInMemory(what: "runs") }
    func runInput(_ filter: RunFilter, needID: Int64?) throws -> RunInput { throw NotKeptInMemory(what: "runs") }
    func storeRun(_ run: RunRecord, proposals: [Proposal], filter: RunFilter, startedBy: Int64) throws -> Int64 {
        throw NotKeptInMemory(what: "runs")
    }
    func addFigures(run: Int64, _ figures: [(String, String)]) throws { throw NotKeptInMemory(what: "runs") }
    func runs(page: Page) throws -> [RunRecord] { throw NotKeptInMemory(what: "runs") }
    func run(id: Int64) throws -> RunRecord? { throw NotKeptInMemory(what: "runs") }
    func proposals(run: Int64) throws -> [PairID: (units: Int64, score: Int64)] { throw NotKeptInMemory(what: "runs") }

    // MARK: Reports

    func stats(within scope: Scope) throws -> Stats { throw NotKeptInMemory(what: "reports") }
    func unmetNeeds(filter: NeedFilter, within scope: Scope, after cursor: UnmetCursor?, limit: Int) throws -> [Need] {
        throw NotKeptInMemory(what: "reports")
    }
    func candidateOffers(for needs: [Need], within scope: Scope, perKey: Int) throws -> RunInput { throw NotKeptInMemory(what: "reports") }
    func needFill(years: [Int]?, kind: Kind?, within scope: Scope) throws -> [FillCell] { throw NotKeptInMemory(what: "reports") }
    func occupationFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup] { throw NotKeptInMemory(what: "reports") }
    func pairingFill(year: Int?, kind: Kind?, within scope: Scope) throws -> [FillGroup] { throw NotKeptInMemory(what: "reports") }
    func flows(_ filter: FlowFilter) throws -> [FlowCell] { throw NotKeptInMemory(what: "reports") }
    func plans(year: Int?, province: String?) throws -> [Plan] { throw NotKeptInMemory(what: "reports") }
    func setPlan(_ plan: Plan) throws { throw NotKeptInMemory(what: "reports") }
    func eastFlows(year: Int, province: String?) throws -> [EastFlowCell] { throw NotKeptInMemory(what: "reports") }
    func submitReport(year: Int, province: String, rows: String, csv: String, by principal: Principal) throws -> ReportSubmission {
        throw NotKeptInMemory(what: "reports")
    }
    func filings(year: Int, province: String?) throws -> Filings { throw NotKeptInMemory(what: "reports") }
}
