import Foundation
import MatchCore
import MatchingEngine
import PostgresStore
import Testing
import TestSupport

/// STATS, UNMET, FILL, REPORT, PAIRING FLOW and PLAN over TCP against rows this suite inserts
/// with SQL; every expected number is computed here from those rows, never read back from the
/// summaries under test.
@Suite("Administrators' queries and the yearly report")
struct ReportTests {
    struct NeedRow {
        var id: Int64
        var county: String
        var kind: String
        var occupations: [String]
        var quantity: Int
        var matched: Int
        var year: Int
        var start: String
        var priority: Int
        var poverty: Bool
        var cancelled: Bool

        var status: String {
            cancelled ? "cancelled" : matched == 0 ? "open" : matched < quantity ? "partly_matched" : "filled"
        }
        var isOpen: Bool { status == "open" || status == "partly_matched" }
        var demand: Int { cancelled ? 0 : quantity }
    }

    struct MatchRow {
        var need: Int64
        var offer: Int64
        var units: Int
        var status: String
        var placed: Int

        /// A declined match's reason code: two of them, by the need's id.
        var reason: String { status == "declined" ? (need % 2 == 0 ? "wage" : "timing") : "" }
    }

    struct World {
        var needs: [NeedRow] = []
        var matches: [MatchRow] = []
        /// Offer id → (kind, east province, city); four kinds from 广州 (44) and 苏州 (32).
        var offers: [Int64: (kind: String, province: String, city: String)] = [:]
        var run: Int64 = 0

        func proposed(_ need: NeedRow) -> Int {
            matches.filter { $0.need == need.id && $0.status == "proposed" }.reduce(0) { $0 + $1.units }
        }
    }

    /// The kinds the made-up rows use; reports show every kind, in `Kind`'s order.
    static let kinds = ["labor", "training", "school_partnership", "talent"]
    static let reportKinds = Kind.allCases.map(\.rawValue)
    static let counties = ["520204", "520324", "520326", "450124"]

    /// 52 needs over five counties, two years and every kind; a confirmed match for most, a
    /// proposal for some, a declined one for others, a few needs filled and a few cancelled.
    static func makeWorld(_ database: TestDatabase) async throws -> World {
        try await database.pool.withConnection { connection in
            var world = World()
            let orgs = try [("44", "广州市"), ("32", "苏州市")].map { province, city in
                try connection.query(
                    "INSERT INTO organisation (kind, name, province, city) VALUES ('enterprise', \(city + "厂"), \(province), \(city)) RETURNING id"
                ).first!.int64(0)
            }
            for (index, org) in orgs.enumerated() {
                for kind in kinds {
                    let id = try connection.query(
                        """
                        INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                        VALUES (\(org), \(kind), '{6-01,2-05}', 100000, '2026-01-01', '2027-12-31') RETURNING id
                        """
                    ).first!.int64(0)
                    world.offers[id] = (kind, index == 0 ? "44" : "32", index == 0 ? "广州市" : "苏州市")
                }
            }
            world.run = try connection.query("INSERT INTO match_run (mode, input_hash, weights) VALUES ('optimal', 'test', \(storedDefaultWeights)::jsonb) RETURNING id").first!.int64(0)
            for i in 0..<52 {
                // The last four go to 晴隆县, which gets a tenth of what it asks: left behind.
                let behind = i >= 48
                let year = i % 6 == 5 ? 2026 : 2027
                let quantity = 10 + (i * 7) % 40
                let cancelled = i % 11 == 10
                let confirmed = behind ? quantity / 10 : cancelled ? 0 : i % 7 == 0 ? quantity : quantity * ((i * 13) % 10) / 10
                var need = NeedRow(
                    id: 0, county: behind ? "522324" : counties[i % 4], kind: kinds[(i / 4) % 4], occupations: i % 2 == 0 ? ["6-01"] : ["2-05", "6-01-02"],
                    quantity: quantity, matched: confirmed, year: year, start: "\(year)-0\(1 + i % 9)-01", priority: 1 + (i * 3) % 5,
                    poverty: i % 3 == 0, cancelled: cancelled)
                need.id = try connection.query(
                    """
                    INSERT INTO need (county, kind, occupations, quantity, matched, window_start, window_end, priority, poverty_people, status)
                    VALUES (\(need.county), \(need.kind), \("{" + need.occupations.joined(separator: ",") + "}")::text[], \(quantity),
                            \(confirmed), \(need.start)::date, \("\(year)-12-31")::date, \(need.priority), \(need.poverty ? quantity : 0),
                            \(need.status))
                    RETURNING id
                    """
                ).first!.int64(0)
                world.needs.append(need)
                let fromGuangzhou = world.offers.first { $0.value.kind == need.kind && $0.value.province == "44" }!.key
                let fromSuzhou = world.offers.first { $0.value.kind == need.kind && $0.value.province == "32" }!.key
                if confirmed > 0 {
                    world.matches.append(
                        MatchRow(need: need.id, offer: fromGuangzhou, units: confirmed, status: "confirmed",
                                 placed: need.kind == "labor" ? confirmed - i % 3 : 0))
                }
                if !cancelled && i % 4 == 1 && confirmed + 3 <= quantity {
                    world.matches.append(MatchRow(need: need.id, offer: fromSuzhou, units: 3, status: "proposed", placed: 0))
                }
                if !cancelled && i % 5 == 2 {
                    world.matches.append(MatchRow(need: need.id, offer: fromSuzhou, units: 2, status: "declined", placed: 0))
                }
            }
            for match in world.matches where match.status == "declined" {
                try connection.query("INSERT INTO declined_pair (need, offer) VALUES (\(match.need), \(match.offer))")
            }
            for match in world.matches {
                try connection.query(
                    """
                    INSERT INTO match (run, need, offer, units, score, status, confirmed_units, placed_units, reason)
                    VALUES (\(world.run), \(match.need), \(match.offer), \(match.units), 100, \(match.status),
                            \(match.status == "confirmed" ? match.units : nil), \(match.placed), \(match.reason))
                    """)
            }
            return world
        }
    }

    /// `part / whole` with three decimals, rounded half up, as integers.
    static func ratio(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "-" }
        let thousandths = (part * 2_000 + whole) / (2 * whole)
        return "\(thousandths / 1000)." + String("00\(thousandths % 1000)".suffix(3))
    }

    static func field(_ record: String, _ key: String) -> String? {
        record.split(separator: " ").first { $0.hasPrefix("\(key)=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// Every record of a paged command, following next= with pages of `limit`.
    static func allPages(_ client: LineClient, _ command: String, limit: Int) async throws -> (records: [String], pages: Int) {
        var records: [String] = []
        var after: String?
        var pages = 0
        repeat {
            let header = try await client.request(command + " limit=\(limit)" + (after.map { " after=\($0)" } ?? ""))
            #expect(header.hasPrefix("OK "), "\(command): \(header)")
            records += try await client.readRecords(after: header)
            pages += 1
            after = header.split(separator: " ").first { $0.hasPrefix("next=") }.map { String($0.dropFirst(5)) }
        } while after != nil
        return (records, pages)
    }

    static func withAdmin(_ body: @escaping @Sendable (World, LineClient, TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let world = try await makeWorld(database)
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                #expect(try await client.request("AUTH \(token)").hasPrefix("OK "))
                try await body(world, client, database)
                await client.close()
            }
        }
    }

    @Test func statsCountWhatWasInserted() async throws {
        try await Self.withAdmin { world, client, database in
            let open = world.needs.filter(\.isOpen)
            let count = { (status: String) in world.matches.filter { $0.status == status }.count }
            let counties = try await database.pool.withConnection { try $0.query("SELECT count(*) FROM county").first!.int(0) }
            #expect(
                try await client.request("STATS")
                    == "OK counties=\(counties) organisations=2 needs=\(world.needs.count) open-needs=\(open.count) "
                    + "open-units=\(open.reduce(0) { $0 + $1.quantity - $1.matched }) offers=8 open-offers=8 open-capacity=800000 "
                    + "proposed=\(count("proposed")) confirmed=\(count("confirmed")) declined=\(count("declined")) "
                    + "last-run=\(world.run) last-run-at=\(Self.field(try await client.request("STATS"), "last-run-at")!) replica-lag-s=-")
        }
    }

    @Test func fillByCountyProvinceKindAndOccupationIsLowestFirst() async throws {
        try await Self.withAdmin { world, client, _ in
            let year = world.needs.filter { $0.year == 2027 }
            func expected(_ key: (NeedRow) -> [String]) -> [(key: String, line: String, fill: Double)] {
                let keys = Set(year.flatMap(key))
                return keys.map { group in
                    let needs = year.filter { key($0).contains(group) }
                    let demand = needs.reduce(0) { $0 + $1.demand }
                    let confirmed = needs.reduce(0) { $0 + $1.matched }
                    let proposed = needs.reduce(0) { $0 + world.proposed($1) }
                    return (group, "demand=\(demand) proposed=\(proposed) confirmed=\(confirmed) fill=\(Self.ratio(confirmed, demand))",
                            Double(confirmed) / Double(demand))
                }.sorted { ($0.fill, $0.key) < ($1.fill, $1.key) }
            }
            let groupings: [(String, (NeedRow) -> [String])] = [
                ("county", { [$0.county] }), ("province", { [String($0.county.prefix(2))] }), ("kind", { [$0.kind] }),
                ("occupation", { Array(Set($0.occupations.map { String($0.prefix(4)) })) }),
            ]
            for (by, key) in groupings {
                let records = try await client.readRecords(after: try await client.request("FILL by=\(by) year=2027"))
                let want = expected(key)
                #expect(records.map { Self.field($0, "key")! } == want.map(\.key), "FILL by=\(by)")
                for (record, row) in zip(records, want) {
                    #expect(record.contains(row.line), "FILL by=\(by): \(record) lacks \(row.line)")
                }
            }
        }
    }

    @Test func fillByPairingCountsOnlyWhatFlowsAlongIt() async throws {
        try await Self.withAdmin { world, client, _ in
            // 广东 → 贵州 and 广东 → 广西 are province-level pairings of 2021 (migration 003).
            let records = try await client.readRecords(after: try await client.request("FILL by=pairing year=2027"))
            for (west, name) in [("52", "广东省 → 贵州省"), ("45", "广东省 → 广西壮族自治区")] {
                let needs = world.needs.filter { $0.year == 2027 && $0.county.hasPrefix(west) }
                let ids = Set(needs.map(\.id))
                let along = world.matches.filter { ids.contains($0.need) && world.offers[$0.offer]!.province == "44" }
                let demand = needs.reduce(0) { $0 + $1.demand }
                let confirmed = along.filter { $0.status == "confirmed" }.reduce(0) { $0 + $1.units }
                let proposed = along.filter { $0.status == "proposed" }.reduce(0) { $0 + $1.units }
                let record = try #require(records.first { $0.contains("name=\"\(name)\"") }, "\(records)")
                #expect(record.contains("demand=\(demand) proposed=\(proposed) confirmed=\(confirmed) fill=\(Self.ratio(confirmed, demand))"), "\(record)")
            }
        }
    }

    @Test func unmetPagesThroughOpenNeedsMostUrgentFirstEachOnce() async throws {
        try await Self.withAdmin { world, client, _ in
            let want = world.needs.filter(\.isOpen).sorted {
                ($0.priority, $0.poverty ? 1 : 0, $1.start, $1.id) > ($1.priority, $1.poverty ? 1 : 0, $0.start, $0.id)
            }
            let (records, pages) = try await Self.allPages(client, "UNMET", limit: 4)
            #expect(records.map { Self.field($0, "id")! } == want.map { "\($0.id)" })
            #expect(pages == want.count / 4 + 1)
            for (record, need) in zip(records, want) {
                #expect(Self.field(record, "missing") == "\(need.quantity - need.matched)")
                // Every open need has an offer of its kind from each city; 苏州's declined pairs never come back.
                let candidates = Self.field(record, "candidates")!.split(separator: ",").map { Int64($0.split(separator: ":")[0])! }
                let offers = Set(world.offers.filter { $0.value.kind == need.kind }.map(\.key))
                let declined = Set(world.matches.filter { $0.need == need.id && $0.status == "declined" }.map(\.offer))
                #expect(Set(candidates) == offers.subtracting(declined), "\(record)")
            }
            let guizhou = try await client.readRecords(after: try await client.request("UNMET province=贵州省 kind=labor limit=1000"))
            #expect(guizhou.map { Self.field($0, "id")! } == want.filter { $0.county.hasPrefix("52") && $0.kind == "labor" }.map { "\($0.id)" })
            let talent = try await client.readRecords(after: try await client.request("UNMET occupation=2-05 county=520324 limit=1000"))
            #expect(talent.map { Self.field($0, "id")! } == want.filter { $0.county == "520324" && $0.occupations.contains("2-05") }.map { "\($0.id)" })
        }
    }

    /// The expected CSV of REPORT year=2027 province=52, built from the rows.
    static func expectedReport(_ world: World, names: [(String, String)], plan: Int) -> [String] {
        func row(level: String, code: String, name: String, needs: [NeedRow], last: [NeedRow], plan: Int?, behind: Int?) -> (String, Bool) {
            let demand = needs.reduce(0) { $0 + $1.demand }
            let confirmed = needs.reduce(0) { $0 + $1.matched }
            let byKind = reportKinds.map { kind in needs.filter { $0.kind == kind }.reduce(0) { $0 + $1.matched } }
            let ids = Set(needs.map(\.id))
            let placed = world.matches.filter { ids.contains($0.need) && world.offers[$0.offer]!.kind == "labor" }.reduce(0) { $0 + $1.placed }
            let lastDemand = last.reduce(0) { $0 + $1.demand }
            let lastConfirmed = last.reduce(0) { $0 + $1.matched }
            var change = ""
            if demand > 0 && lastDemand > 0 {
                let numerator = confirmed * lastDemand - lastConfirmed * demand
                let thousandths = (abs(numerator) * 2_000 + demand * lastDemand) / (2 * demand * lastDemand)
                change = (numerator < 0 ? "-" : "") + "\(thousandths / 1000)." + String("00\(thousandths % 1000)".suffix(3))
            }
            let isBehind = demand > 0 && confirmed * 10 < demand * 3
            let declines = declineReasons.map { reason in world.matches.filter { ids.contains($0.need) && $0.reason == reason }.count }
            var why = ""
            if isBehind && level == "county" {
                var reasons = [confirmed == 0 ? "nothing confirmed of \(demand) units" : "fill \(percent(confirmed, demand)) below 30%"]
                let proposed = needs.reduce(0) { $0 + world.proposed($1) }
                let declined = world.matches.filter { ids.contains($0.need) && $0.status == "declined" }.count
                if proposed > 0 { reasons.append("\(proposed) units proposed, not yet answered") }
                if declined > 0 {
                    let byReason = zip(declineReasons, declines).filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }
                    reasons.append("\(declined) matches declined (\(byReason.joined(separator: ", ")))")
                }
                if proposed == 0 && confirmed == 0 && declined == 0 { reasons.append("no match proposed yet") }
                let open = kinds.compactMap { kind -> String? in
                    let units = needs.filter { $0.kind == kind && $0.isOpen }.reduce(0) { $0 + $1.quantity - $1.matched }
                    return units > 0 ? "\(kind) \(units)" : nil
                }
                if !open.isEmpty { reasons.append("open: " + open.joined(separator: ", ")) }
                if lastDemand > 0 { reasons.append("last year \(percent(lastConfirmed, lastDemand))") }
                why = reasons.joined(separator: "; ")
            }
            let planned = plan.map { _ in needs.filter { $0.kind == "labor" }.reduce(0) { $0 + $1.matched } }
            var fields: [String] = [level, code, name, "52", "\(needs.count)", "\(demand)", "\(confirmed)"]
            fields.append(demand > 0 ? ratio(confirmed, demand) : "")
            fields += byKind.map(String.init)
            // placed, of them poverty-alleviated and monitored, working, reopened, stable at 3 and 6 months
            fields += ["\(placed)", "0", "0", "\(placed)", "0", "0", "0", plan.map(String.init) ?? "", plan.map { ratio(planned!, $0) } ?? ""]
            fields += ["\(lastDemand)", "\(lastConfirmed)", lastDemand > 0 ? ratio(lastConfirmed, lastDemand) : "", change]
            fields += declines.map(String.init)
            fields += ["\(behind ?? (isBehind ? 1 : 0))", why.contains(",") ? "\"\(why)\"" : why]
            return (fields.joined(separator: ","), isBehind)
        }
        let guizhou = world.needs.filter { $0.county.hasPrefix("52") }
        var countyLines: [String] = []
        var behind = 0
        for (code, name) in names {
            let (line, isBehind) = row(
                level: "county", code: code, name: name, needs: guizhou.filter { $0.county == code && $0.year == 2027 },
                last: guizhou.filter { $0.county == code && $0.year == 2026 }, plan: nil, behind: nil)
            countyLines.append(line)
            if isBehind { behind += 1 }
        }
        let province = row(
            level: "province", code: "52", name: "贵州省", needs: guizhou.filter { $0.year == 2027 },
            last: guizhou.filter { $0.year == 2026 }, plan: plan, behind: behind).0
        let units = { (kind: String) in guizhou.filter { $0.year == 2027 && $0.kind == kind }.reduce(0) { $0 + $1.matched } }
        let thisYear = Set(guizhou.filter { $0.year == 2027 }.map(\.id))
        let placed = world.matches.filter { thisYear.contains($0.need) && world.offers[$0.offer]!.kind == "labor" }.reduce(0) { $0 + $1.placed }
        let summary =
            "summary,,\"贵州省, 2027: helped \(placed) workers of the key assistance counties into jobs, of them 0 poverty-alleviated "
            + "and 0 under monitoring; 0 in stable work for 3 months or more, 0 with one employer for 6 months; trained \(units("training")); "
            + "partnered \(units("school_partnership")) technical schools; dispatched \(units("talent")) professionals.\""
            + String(repeating: ",", count: 32)
        return ["level,code,name,province,needs,demand,confirmed,fill,labor,training,enrolment,school_partnership,talent,secondment,placed,poverty-placed,"
                + "monitored-placed,working,reopened,stable-3m,stable-6m,plan,of-plan,"
                + "last-demand,last-confirmed,last-fill,change,declined-wage,declined-distance,declined-conditions,declined-timing,"
                + "declined-filled,declined-other,left-behind,why", province] + countyLines + [summary]
    }

    static let declineReasons = DeclineReason.allCases.map(\.rawValue)

    static func percent(_ part: Int, _ whole: Int) -> String {
        let tenths = (part * 2_000 + whole) / (2 * whole)
        return "\(tenths / 10).\(tenths % 10)%"
    }

    @Test func theReportOfAKnownYearLineByLine() async throws {
        try await Self.withAdmin { world, client, database in
            let names = try await database.pool.withConnection { connection in
                try connection.query("SELECT code, name FROM county WHERE province = '52' ORDER BY code").rows.map {
                    (try $0.string(0), try $0.string(1))
                }
            }
            #expect(try await client.request("PLAN SET year=2027 province=贵州省 kind=labor units=200").hasPrefix("OK year=2027 side=west province=52 city=\"\" kind=labor units=200 "))
            let lines = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=csv"))
            let want = Self.expectedReport(world, names: names, plan: 200)
            #expect(lines.count == want.count)
            for (line, expected) in zip(lines, want) { #expect(line == expected) }
            let behind = want.dropFirst(2).dropLast().filter { $0.split(separator: ",", omittingEmptySubsequences: false)[27] == "1" }
            #expect(!behind.isEmpty, "the rows leave some county behind")

            let markdown = try await client.readRecords(after: try await client.request("REPORT year=2027 province=贵州省 format=md"))
            #expect(markdown.first == "# Yearly progress report 2027: 贵州省")
            #expect(markdown.filter { $0.hasPrefix("- ") }.count == behind.count)
            #expect(try await client.request("REPORT year=2027 format=csv limit=5").hasPrefix("ERR BAD_ARG limit: format=csv returns the whole file"))
        }
    }

    @Test func reportRecordsPageEveryRowExactlyOnce() async throws {
        try await Self.withAdmin { _, client, database in
            let codes = try await database.pool.withConnection { connection in
                try connection.query("SELECT code FROM county UNION SELECT DISTINCT province FROM county ORDER BY 1").rows.map { try $0.string(0) }
            }
            let (records, pages) = try await Self.allPages(client, "REPORT year=2027", limit: 7)
            #expect(records.map { Self.field($0, "code")! } == codes)
            #expect(pages == codes.count / 7 + 1)
            _ = try await client.request("FORMAT json")
            let json = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 limit=1"))
            #expect(json == [try #require(json.first { $0.hasPrefix("{\"level\":\"province\",\"code\":\"52\"") })])
        }
    }

    @Test func pairingFlowByKind() async throws {
        try await Self.withAdmin { world, client, _ in
            let records = try await client.readRecords(after: try await client.request("PAIRING FLOW 江苏省 贵州省 year=2027"))
            #expect(records.map { Self.field($0, "kind")! } == Self.reportKinds + ["all"])
            for (record, kind) in zip(records, Self.reportKinds + ["all"]) {
                let ids = Set(world.needs.filter { $0.year == 2027 && $0.county.hasPrefix("52") && (kind == "all" || $0.kind == kind) }.map(\.id))
                let along = world.matches.filter { ids.contains($0.need) && world.offers[$0.offer]!.province == "32" }
                let units = { (status: String) in along.filter { $0.status == status }.reduce(0) { $0 + $1.units } }
                let count = { (status: String) in along.filter { $0.status == status }.count }
                let placed = along.reduce(0) { $0 + $1.placed }
                #expect(
                    record == "kind=\(kind) proposed-matches=\(count("proposed")) proposed=\(units("proposed")) "
                        + "confirmed-matches=\(count("confirmed")) confirmed=\(units("confirmed")) "
                        + "declined-matches=\(count("declined")) placed=\(placed) poverty-placed=0 monitored-placed=0 working=\(placed) "
                        + "reopened=0 stable-3m=0 stable-6m=0")
            }
            #expect(try await client.request("PAIRING FLOW 贵州省 江苏省").hasPrefix("ERR BAD_ARG east: 贵州省 is not a eastern province"))
        }
    }

    @Test func plansAreSetAuditedAndListedWithProgress() async throws {
        try await Self.withAdmin { world, client, _ in
            for (kind, units) in [("labor", 100), ("talent", 40)] {
                #expect(try await client.request("PLAN SET year=2027 province=52 kind=\(kind) units=\(units)").hasPrefix("OK "))
            }
            #expect(try await client.request("PLAN SET year=2027 province=52 kind=talent units=50").hasPrefix("OK "))
            let records = try await client.readRecords(after: try await client.request("PLAN LIST year=2027"))
            for (record, (kind, units)) in zip(records, [("labor", 100), ("talent", 50)]) {
                let confirmed = world.needs.filter { $0.year == 2027 && $0.county.hasPrefix("52") && $0.kind == kind }.reduce(0) { $0 + $1.matched }
                #expect(record == "year=2027 side=west province=52 city=\"\" kind=\(kind) units=\(units) confirmed=\(confirmed) remaining=\(max(0, units - confirmed)) of-plan=\(Self.ratio(confirmed, units))")
            }
            #expect(records.count == 2)
            let audit = try await client.readRecords(after: try await client.request("AUDIT target=plan"))
            #expect(audit.count == 3 && audit.last!.contains("target=plan:2027:52:talent") && audit.last!.contains("units"))
        }
    }

    @Test(arguments: [
        ("FILL", "by= is required"),
        ("FILL by=city", "by must be one of county|province|pairing|kind|occupation, not 'city'"),
        ("FILL by=county year=1999", "year must be a whole number from 2000 to 2100, not '1999'"),
        ("FILL by=county after=999999", "after: '999999' is not a key of this list"),
        ("REPORT", "year= is required"),
        ("REPORT year=27", "year must be a whole number from 2001 to 2100, not '27'"),
        ("REPORT year=2027 format=pdf", "format must be one of text|csv|md, not 'pdf'"),
        ("REPORT year=2027 province=江苏省", "province: 江苏省 is not a western province"),
        ("UNMET after=xyz", "after must be the next= cursor of an earlier UNMET page"),
        ("UNMET occupation=welder", "occupation must be a classification code like 6-01, not 'welder'"),
        ("UNMET county=52", "county code must be 6 digits, not '52'"),
        ("PLAN SET year=2027 province=52 kind=labor", "units= is required"),
        ("PLAN SET year=2027 province=52 kind=labor units=-1", "units must be a whole number from 0 to 100000000, not '-1'"),
        ("PAIRING FLOW 44", "missing argument; usage: PAIRING FLOW <east> <west> [year=YYYY]"),
        ("STATS now", "unexpected argument 'now'"),
    ])
    func badArgumentsAreNamed(line: String, message: String) async throws {
        try await TestDatabase.with { database in
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(token)")
                let reply = try await client.request(line)
                #expect(reply.hasPrefix("ERR BAD_ARG ") && reply.contains(message), "\(line) → \(reply)")
                await client.close()
            }
        }
    }

    @Test func aCoordinatorSeesItsOwnScope() async throws {
        try await TestDatabase.with { database in
            let world = try await Self.makeWorld(database)
            let secret = try await database.token(role: .west, scope: "county:520324", label: "正安县").secret
            try await TestServer.with(database: database) { port in
                let (client, _) = try await LineClient.connectReady(port: port)
                _ = try await client.request("AUTH \(secret)")
                let own = world.needs.filter { $0.county == "520324" }
                let stats = try await client.request("STATS")
                #expect(stats.hasPrefix("OK counties=1 ") && stats.contains(" needs=\(own.count) "), "\(stats)")
                let fill = try await client.readRecords(after: try await client.request("FILL by=county"))
                #expect(fill.map { Self.field($0, "key")! } == ["520324"])
                let unmet = try await client.readRecords(after: try await client.request("UNMET limit=1000"))
                #expect(Set(unmet.map { Self.field($0, "id")! }) == Set(own.filter(\.isOpen).map { "\($0.id)" }))
                let report = try await client.readRecords(after: try await client.request("REPORT year=2027"))
                #expect(report.map { Self.field($0, "code")! } == ["52", "520324"])
                #expect(try await client.request("PAIRING FLOW 44 45").hasPrefix("ERR DENIED "))
                #expect(try await client.request("PLAN LIST province=45").hasPrefix("ERR DENIED "))
                await client.close()
            }
        }
    }

    /// The triggers keep the summaries equal to summing the rows afresh, through the changes a
    /// live system makes: statements of many needs and matches at once (after the one-row
    /// statements of `makeWorld`, whose plans the triggers keep), answers, placements, a window
    /// moved to another year, an organisation moved to another city, a cancelled need, deleted
    /// matches and needs, offers filling, withdrawn, added and deleted; and the links that worked,
    /// which the continuity score reads, equal to counting them afresh.
    @Test func summariesStayEqualToARebuild() async throws {
        try await TestDatabase.with { database in
            _ = try await Self.makeWorld(database)
            try await database.pool.withConnection { connection in
                try connection.execute(
                    script: """
                        INSERT INTO need (county, kind, occupations, quantity, window_start, window_end, priority)
                        SELECT county, kind, '{6-01,2-05-01}', 5 + copy, '2027-03-01', '2027-09-30', 3
                        FROM unnest(ARRAY['520204', '520324']) AS county, unnest(ARRAY['labor', 'talent']) AS kind,
                             generate_series(1, 3) AS copy;
                        INSERT INTO match (run, need, offer, units, score, status)
                        SELECT (SELECT max(id) FROM match_run), n.id, o.id, 2, 100, 'proposed'
                        FROM need n JOIN offer o ON o.kind = n.kind WHERE n.window_start = '2027-03-01';
                        UPDATE match SET status = 'confirmed', confirmed_units = units WHERE status = 'proposed' AND id % 2 = 0;
                        UPDATE match SET placed_units = placed_units + 1, placed_on = '2027-05-01' WHERE status = 'confirmed' AND id % 3 = 0;
                        UPDATE match SET placed_poverty = 1, left_units = 1, reopened_units = 1, stable3_units = 1
                            WHERE status = 'confirmed' AND placed_units > 1 AND id % 2 = 1;
                        UPDATE match SET status = 'cancelled' WHERE status = 'confirmed' AND id % 7 = 0;
                        UPDATE need SET window_start = '2028-01-01', window_end = '2028-12-31' WHERE id % 5 = 0;
                        UPDATE organisation SET city = '深圳市' WHERE province = '44';
                        UPDATE need SET status = 'cancelled' WHERE matched = 0 AND status = 'open';
                        DELETE FROM match WHERE status = 'declined';
                        DELETE FROM match WHERE status = 'cancelled' AND NOT EXISTS (SELECT 1 FROM placement p WHERE p.match = match.id);
                        UPDATE match SET status = 'declined', reason = 'filled' WHERE status = 'proposed' AND id % 3 = 1;
                        UPDATE offer SET matched = 10, status = 'partly_matched' WHERE id % 2 = 0;
                        UPDATE offer SET status = 'withdrawn' WHERE id % 3 = 0;
                        DELETE FROM match WHERE need IN (SELECT id FROM need WHERE window_start = '2027-03-01' AND id % 2 = 0);
                        DELETE FROM need WHERE id NOT IN (SELECT need FROM match) AND id NOT IN (SELECT need FROM declined_pair)
                            AND id % 2 = 0;
                        INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                        SELECT organisation, kind, '{1-01,6-01-02}', 7, '2027-01-01', '2027-06-30' FROM offer;
                        DELETE FROM offer WHERE capacity = 7 AND id % 2 = 0;
                        """)
                let kept = try Self.summaries(on: connection)
                try connection.execute(script: "SELECT report_rebuild(); SELECT confirmed_link_recount()")
                #expect(try Self.summaries(on: connection) == kept)
                #expect(try connection.query("SELECT count(*) FROM confirmed_link WHERE year = 2028 AND matches > 0").first!.int(0) > 0)
                #expect(try connection.query("SELECT count(*) FROM match_flow WHERE year = 2028").first!.int(0) > 0)
            }
        }
    }

    /// The summary tables' rows, without those whose figures all came back to zero (a rebuild
    /// never writes those).
    static func summaries(on connection: PGConnection) throws -> [String] {
        let measures = [
            "need_fill": "needs, cancelled, demand, confirmed, open_needs, open_units, proposed",
            "need_occupation_fill": "needs, demand, confirmed, proposed",
            "match_flow": """
                proposed_matches, proposed_units, confirmed_matches, confirmed_units, placed_units, declined_matches, declined_units,
                placed_poverty, placed_monitored, working_units, reopened_units, stable3_units, stable6_units,
                declined_wage, declined_distance, declined_conditions, declined_timing, declined_filled, declined_other
                """,
            "offer_totals": "offers, open_offers, open_capacity", "offer_slot": "open_units", "confirmed_link": "matches",
        ]
        return try measures.sorted { $0.key < $1.key }.flatMap { table, columns in
            try connection.query(
                "SELECT t::text FROM \(unsafeSQL: table) t WHERE greatest(\(unsafeSQL: columns)) <> 0 OR least(\(unsafeSQL: columns)) <> 0 ORDER BY 1"
            ).rows.map { table + " " + (try $0.string(0)) }
        }
    }
}
