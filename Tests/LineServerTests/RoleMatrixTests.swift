import MatchCore
import MatchingEngine
import PostgresStore
import Testing
import TestSupport

/// Every command × every role and scope: allowed, or `ERR DENIED`. Deny by default means the
/// table must name each command; a command added without a row fails `everyCommandHasARow`.
@Suite("Roles and scopes")
struct RoleMatrixTests {
    enum Who: String, CaseIterable {
        case admin, westCounty, westProvince, westOther, eastOrg, eastProvince, eastCity, eastOther

        var role: Role {
            switch self {
            case .admin: .admin
            case .westCounty, .westProvince, .westOther: .west
            case .eastOrg, .eastProvince, .eastCity, .eastOther: .east
            }
        }
    }

    enum Outcome { case allowed, denied }

    /// Fixed ids the whole matrix works with; each row also gets fresh records of its own.
    struct World: Sendable {
        var guizhouCounty = "520204"  // 水城区, 贵州
        var sichuanCounty = "510000"  // made up here for the "other" west scope: a test-only county
        var suzhouOrg: Int64 = 0  // 江苏 苏州市
        var guangdongOrg: Int64 = 0  // 广东 广州市
        var tokens: [String: String] = [:]
        var setup: Principal?
    }

    struct Row: Sendable {
        var command: String
        var allowed: Set<Who>
        /// Lines sent first, each answered OK (a batch for COMMIT and ABORT).
        var before: [String] = []
        /// The request line for one case; `Fresh` has records made just for it.
        var line: @Sendable (Fresh) -> String
    }

    struct Fresh: Sendable {
        var index: Int
        var need: Int64
        var offer: Int64
        var token: Int64
        var world: World
        /// A proposal and a confirmed match between a second need and offer of the row's own.
        var run: Int64
        var match: Int64
        var confirmed: Int64
        /// A placement of one person on the confirmed match.
        var placement: Int64
        /// Administrators name the side they answer for.
        var asAdmin = false
    }

    static let everyone = Set(Who.allCases)
    static let adminOnly: Set<Who> = [.admin]
    static let guizhouWriters: Set<Who> = [.admin, .westCounty, .westProvince]
    static let suzhouWriters: Set<Who> = [.admin, .eastOrg, .eastProvince, .eastCity]
    /// Progress reports: administrators, and west coordinators for their own scope.
    static let westReaders: Set<Who> = [.admin, .westCounty, .westProvince, .westOther]

    static let rows: [Row] = [
        Row(command: "PING", allowed: everyone) { _ in "PING" },
        Row(command: "HELP", allowed: everyone) { _ in "HELP NEED" },
        Row(command: "CAPA", allowed: everyone) { _ in "CAPA" },
        Row(command: "AUTH", allowed: everyone) { _ in "AUTH ewm_0000000000000000000000000000000000000000" },
        Row(command: "WHOAMI", allowed: everyone) { _ in "WHOAMI" },
        Row(command: "FORMAT", allowed: everyone) { _ in "FORMAT text" },
        Row(command: "QUIT", allowed: everyone) { _ in "QUIT" },
        Row(command: "BEGIN", allowed: everyone) { _ in "BEGIN" },
        Row(command: "COMMIT", allowed: everyone, before: ["BEGIN"]) { _ in "COMMIT" },
        Row(command: "ABORT", allowed: everyone, before: ["BEGIN"]) { _ in "ABORT" },
        Row(command: "PROVINCE LIST", allowed: everyone) { _ in "PROVINCE LIST" },
        Row(command: "COUNTY ADD", allowed: adminOnly) { f in "COUNTY ADD \(520_900 + f.index) name=测试县\(f.index)" },
        Row(command: "COUNTY SHOW", allowed: everyone) { f in "COUNTY SHOW \(f.world.guizhouCounty)" },
        Row(command: "COUNTY LIST", allowed: everyone) { _ in "COUNTY LIST province=52" },
        Row(command: "COUNTY UPDATE", allowed: adminOnly) { f in "COUNTY UPDATE \(f.world.guizhouCounty) prefecture=六盘水市" },
        Row(command: "PAIRING ADD", allowed: adminOnly) { f in "PAIRING ADD east=广东省 west=贵州省 east-city=测试市\(f.index)" },
        Row(command: "PAIRING SHOW", allowed: everyone) { _ in "PAIRING SHOW 1" },
        Row(command: "PAIRING LIST", allowed: everyone) { _ in "PAIRING LIST west=52" },
        Row(command: "PAIRING UPDATE", allowed: adminOnly) { _ in "PAIRING UPDATE 1 period=current" },
        Row(command: "ORG ADD", allowed: adminOnly) { f in "ORG ADD kind=school name=测试学校\(f.index) province=32" },
        Row(command: "ORG SHOW", allowed: everyone) { f in "ORG SHOW \(f.world.suzhouOrg)" },
        Row(command: "ORG LIST", allowed: everyone) { _ in "ORG LIST" },
        Row(command: "ORG UPDATE", allowed: adminOnly) { f in "ORG UPDATE \(f.world.suzhouOrg) city=苏州市" },
        Row(command: "OCCUPATION ADD", allowed: adminOnly) { f in "OCCUPATION ADD 6-01-99 name=测试工种\(f.index)" },
        Row(command: "OCCUPATION SHOW", allowed: everyone) { _ in "OCCUPATION SHOW 6-01" },
        Row(command: "OCCUPATION LIST", allowed: everyone) { _ in "OCCUPATION LIST parent=6" },
        Row(command: "OCCUPATION UPDATE", allowed: adminOnly) { _ in "OCCUPATION UPDATE 6-01 name=农副产品加工人员" },
        Row(command: "NEED ADD", allowed: guizhouWriters) { f in
            "NEED ADD county=\(f.world.guizhouCounty) kind=labor occupations=6-01 qty=3 from=2027-01-01 to=2027-03-31"
        },
        Row(command: "NEED SHOW", allowed: everyone.subtracting([.westOther])) { f in "NEED SHOW \(f.need)" },
        Row(command: "NEED LIST", allowed: everyone) { _ in "NEED LIST" },
        Row(command: "NEED UPDATE", allowed: guizhouWriters) { f in "NEED UPDATE \(f.need) qty=4" },
        Row(command: "NEED CANCEL", allowed: guizhouWriters) { f in "NEED CANCEL \(f.need)" },
        Row(command: "OFFER ADD", allowed: suzhouWriters) { f in
            "OFFER ADD org=\(f.world.suzhouOrg) kind=labor occupations=6-01 capacity=5 from=2027-01-01 to=2027-12-31"
        },
        Row(command: "OFFER SHOW", allowed: everyone.subtracting([.eastOther])) { f in "OFFER SHOW \(f.offer)" },
        Row(command: "OFFER LIST", allowed: everyone) { _ in "OFFER LIST" },
        Row(command: "OFFER UPDATE", allowed: suzhouWriters) { f in "OFFER UPDATE \(f.offer) capacity=6" },
        Row(command: "OFFER WITHDRAW", allowed: suzhouWriters) { f in "OFFER WITHDRAW \(f.offer)" },
        Row(command: "NEED IMPORT", allowed: guizhouWriters) { f in
            "NEED IMPORT\ncounty,kind,occupations,qty,from,to\n\(f.world.guizhouCounty),labor,6-01,3,2027-01-01,2027-03-31\n."
        },
        Row(command: "NEED EXPORT", allowed: everyone) { _ in "NEED EXPORT" },
        Row(command: "OFFER IMPORT", allowed: suzhouWriters) { f in
            "OFFER IMPORT\norg,kind,occupations,capacity,from,to\n\(f.world.suzhouOrg),labor,6-01,3,2027-01-01,2027-03-31\n."
        },
        Row(command: "OFFER EXPORT", allowed: everyone) { _ in "OFFER EXPORT" },
        Row(command: "MATCH RUN", allowed: adminOnly) { _ in "MATCH RUN dry" },
        Row(command: "RUN PROGRESS", allowed: adminOnly) { _ in "RUN PROGRESS" },
        Row(command: "RUN LIST", allowed: everyone) { _ in "RUN LIST" },
        Row(command: "RUN SHOW", allowed: everyone) { f in "RUN SHOW \(f.run)" },
        Row(command: "RUN DIFF", allowed: everyone) { f in "RUN DIFF \(f.run) \(f.run)" },
        Row(command: "MATCH LIST", allowed: everyone) { _ in "MATCH LIST" },
        Row(command: "MATCH SHOW", allowed: everyone.subtracting([.westOther, .eastOther])) { f in "MATCH SHOW \(f.match)" },
        Row(command: "MATCH EXPLAIN", allowed: everyone.subtracting([.westOther, .eastOther])) { f in "MATCH EXPLAIN \(f.match)" },
        Row(command: "MATCH ACCEPT", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "MATCH ACCEPT \(f.match)" + (f.asAdmin ? " side=west" : "")
        },
        Row(command: "MATCH DECLINE", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "MATCH DECLINE \(f.match) reason=other note=test" + (f.asAdmin ? " side=east" : "")
        },
        Row(command: "MATCH PLACE", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "MATCH PLACE \(f.confirmed) people=1 date=2026-06-01"
        },
        Row(command: "PLACEMENT LIST", allowed: everyone) { f in "PLACEMENT LIST match=\(f.confirmed)" },
        Row(command: "PLACEMENT SHOW", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "PLACEMENT SHOW \(f.placement)"
        },
        Row(command: "PLACEMENT CHECK", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "PLACEMENT CHECK \(f.placement) date=2026-05-01 status=working"
        },
        Row(command: "PLACEMENT DUE", allowed: everyone) { _ in "PLACEMENT DUE days=30" },
        Row(command: "MATCH CANCEL", allowed: everyone.subtracting([.westOther, .eastOther])) { f in
            "MATCH CANCEL \(f.confirmed) reason=test"
        },
        Row(command: "TOKEN ISSUE", allowed: adminOnly) { _ in "TOKEN ISSUE role=west scope=province:52" },
        Row(command: "TOKEN LIST", allowed: adminOnly) { _ in "TOKEN LIST" },
        Row(command: "TOKEN REVOKE", allowed: adminOnly) { f in "TOKEN REVOKE \(f.token)" },
        Row(command: "AUDIT", allowed: adminOnly) { _ in "AUDIT limit=5" },
        Row(command: "STATS", allowed: westReaders) { _ in "STATS" },
        Row(command: "UNMET", allowed: everyone) { _ in "UNMET limit=5" },
        Row(command: "FILL", allowed: westReaders) { _ in "FILL by=county" },
        Row(command: "REPORT", allowed: westReaders) { _ in "REPORT year=2027" },
        // The eastern side's report: administrators, and east tokens of a province or city.
        Row(command: "REPORT", allowed: [.admin, .eastProvince, .eastCity]) { _ in "REPORT side=east year=2027" },
        // A province files its report; a county's token may not file it for the province.
        Row(command: "REPORT SUBMIT", allowed: [.admin, .westProvince]) { _ in "REPORT SUBMIT year=2027 province=52" },
        Row(command: "PAIRING FLOW", allowed: [.admin, .westCounty, .westProvince, .eastProvince, .eastCity]) { _ in
            "PAIRING FLOW 江苏省 贵州省"
        },
        Row(command: "PLAN SET", allowed: adminOnly) { f in "PLAN SET year=2027 province=52 kind=labor units=\(f.index)" },
        Row(command: "PLAN LIST", allowed: everyone) { _ in "PLAN LIST" },
    ]

    @Test func everyCommandHasARow() {
        let registry = CommandRegistry.standard
        let named = Set(Self.rows.map(\.command))
        let missing = registry.commands.map(\.name).filter { !named.contains($0) }
        #expect(missing.isEmpty, "commands without a row in the role matrix: \(missing)")
    }

    /// The table may narrow what a command's declared access admits (scopes), never widen it.
    @Test func theTableAgreesWithEachCommandsDeclaredAccess() {
        let registry = CommandRegistry.standard
        for row in Self.rows {
            guard let spec = registry.commands.first(where: { $0.name == row.command }) else { continue }
            let widened = row.allowed.filter { !spec.access.admits($0.role) }
            #expect(widened.isEmpty, "\(row.command) is declared \(spec.access.note) but the table allows \(widened)")
            if spec.access == .admin { #expect(row.allowed == Self.adminOnly, "\(row.command)") }
        }
    }

    @Test func everyCommandIsAllowedOrDeniedAsTheTableSays() async throws {
        try await TestDatabase.with { database in
            let world = try await Self.makeWorld(database)
            try await TestServer.with(database: database) { port in
                var index = 0
                for row in Self.rows {
                    for who in Who.allCases {
                        index += 1
                        var fresh = try await Self.fresh(index: index, world: world, database: database)
                        fresh.asAdmin = who == .admin
                        let (client, _) = try await LineClient.connectReady(port: port)
                        #expect(try await client.request("AUTH \(world.tokens[who.rawValue]!)").hasPrefix("OK "))
                        for line in row.before {
                            #expect(try await client.request(line).hasPrefix("OK "), "\(who) \(line)")
                        }
                        let line = row.line(fresh)
                        let reply = try await client.request(line)
                        await client.close()
                        if row.allowed.contains(who) {
                            let acceptable = reply.hasPrefix("OK") || (row.command == "AUTH" && reply.hasPrefix("ERR AUTH_FAILED"))
                            #expect(acceptable, "\(who) \(line) → \(reply)")
                        } else {
                            #expect(reply.hasPrefix("ERR DENIED "), "\(who) \(line) → \(reply)")
                        }
                    }
                }
            }
        }
    }

    static func makeWorld(_ database: TestDatabase) async throws -> World {
        var world = World()
        let admin = try await database.token(role: .admin, scope: "", label: "setup").principal
        world.setup = admin
        let (sichuanCounty, suzhou, guangdong) = (world.sichuanCounty, Self.suzhou, Self.guangdong)
        (world.suzhouOrg, world.guangdongOrg) = try await PGStore(pool: database.pool).bootstrap { db in
            try db.registry.addCounty(County(code: sichuanCounty, name: "测试县", province: "51", prefecture: "", isKey: true))
            return (try db.registry.addOrganisation(suzhou).id, try db.registry.addOrganisation(guangdong).id)
        }
        let scopes: [Who: (Role, String)] = [
            .admin: (.admin, ""), .westCounty: (.west, "county:\(world.guizhouCounty)"), .westProvince: (.west, "province:52"),
            .westOther: (.west, "county:\(world.sichuanCounty)"), .eastOrg: (.east, "org:\(world.suzhouOrg)"),
            .eastProvince: (.east, "province:32"), .eastCity: (.east, "city:苏州市"),
            .eastOther: (.east, "org:\(world.guangdongOrg)"),
        ]
        for (who, (role, scope)) in scopes {
            world.tokens[who.rawValue] = try await database.token(role: role, scope: scope, label: who.rawValue).secret
        }
        return world
    }

    static let suzhou = Organisation(kind: .enterprise, name: "苏州测试厂", province: "32", city: "苏州市")
    static let guangdong = Organisation(kind: .enterprise, name: "广州测试厂", province: "44", city: "广州市")

    /// A need, an offer and a token of the row's own, so that writes (cancel, withdraw, revoke)
    /// never depend on what earlier rows did.
    static func fresh(index: Int, world: World, database: TestDatabase) async throws -> Fresh {
        let audit = AuditEntry(actor: world.setup!, command: "test setup", target: "", changes: [])
        let need = Need(
            county: world.guizhouCounty, kind: .labor, occupations: ["6-01"], quantity: 10, from: Day("2027-01-01")!, to: Day("2027-06-30")!)
        let offer = Offer(
            organisation: world.suzhouOrg, kind: .labor, occupations: ["6-01"], capacity: 10, from: Day("2027-01-01")!, to: Day("2027-12-31")!)
        // The matched pair began in the past, so placements and follow-ups on it can be dated today or earlier.
        var matchedNeed = need
        matchedNeed.from = Day("2026-01-01")!
        var matchedOffer = offer
        matchedOffer.from = Day("2026-01-01")!
        let token = try await database.token(role: .west, scope: "province:52", label: "to revoke").principal
        let (needID, offerID, matchedNeedID, matchedOfferID) = try await PGStore(pool: database.pool).bootstrap { [matchedNeed, matchedOffer] db in
            let needs = try db.needs.insert([need, matchedNeed], audits: [audit, audit]).map { outcome -> Int64 in
                guard case .stored(let stored) = outcome else { throw TestEnvironmentError("need not stored: \(outcome)") }
                return stored.id
            }
            return (needs[0], try db.offers.insert(offer), needs[1], try db.offers.insert(matchedOffer))
        }
        let (run, match, confirmed, placement) = try await database.pool.withConnection { connection in
            let run = try connection.query(
                "INSERT INTO match_run (mode, input_hash, weights) VALUES ('optimal(score)', 'test', \(storedDefaultWeights)::jsonb) RETURNING id"
            ).first!.int64(0)
            let match = try connection.query(
                "INSERT INTO match (run, need, offer, units, score) VALUES (\(run), \(matchedNeedID), \(matchedOfferID), 2, 500) RETURNING id"
            ).first!.int64(0)
            let confirmed = try connection.query(
                """
                INSERT INTO match (run, need, offer, units, score, status, confirmed_units)
                VALUES (\(run), \(matchedNeedID), \(matchedOfferID), 3, 500, 'confirmed', 3) RETURNING id
                """
            ).first!.int64(0)
            try connection.query("UPDATE need SET matched = 3, status = 'partly_matched' WHERE id = \(matchedNeedID)")
            try connection.query("UPDATE offer SET matched = 3, status = 'partly_matched' WHERE id = \(matchedOfferID)")
            let placement = try connection.query(
                """
                INSERT INTO placement (match, need, people, placed_on) VALUES (\(confirmed), \(matchedNeedID), 1, '2026-02-01')
                RETURNING id
                """
            ).first!.int64(0)
            try connection.query("UPDATE match SET placed_units = 1, placed_on = '2026-02-01' WHERE id = \(confirmed)")
            return (run, match, confirmed, placement)
        }
        return Fresh(
            index: index, need: needID, offer: offerID, token: token.tokenID, world: world, run: run, match: match,
            confirmed: confirmed, placement: placement)
    }
}
