import CommandProtocol
import Foundation
import MatchCore
import PostgresStore
import Testing
import TestSupport

/// The eastern side's plans and report, the report as a province files it (REPORT SUBMIT, the
/// filed copy, what changed since, the deadline) and the report in Chinese, over TCP against the
/// rows of `ReportTests.makeWorld` and a few more inserted here; every expected figure is summed
/// here from those rows.
@Suite("Eastern report, filed report, Chinese report")
struct FiledAndEasternReportTests {
    typealias World = ReportTests.World
    typealias MatchRow = ReportTests.MatchRow

    /// A record's or header's `key=value` words, read by the protocol's own parser.
    static func fields(_ line: String) throws -> [String: String] {
        guard case .success(.request(let request)) = CommandParser.parse(Array(("R " + line).utf8)) else {
            throw TestEnvironmentError("not a record: \(line)")
        }
        return Dictionary(request.options.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// A multi-line reply: its header's fields and its records.
    static func reply(_ client: LineClient, _ line: String) async throws -> (header: [String: String], records: [String]) {
        let header = try await client.request(line)
        #expect(header.hasPrefix("OK "), "\(line) → \(header)")
        return (try fields(header), try await client.readRecords(after: header))
    }

    /// The day it is in China now, which the deadline is judged by.
    static var chinaToday: String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }

    static func sha256(_ text: String) async throws -> String {
        let (code, output) = try await ChildProcess.run("/usr/bin/sha256sum", [], stdin: text)
        #expect(code == 0)
        return String(output.prefix(64))
    }

    // MARK: The eastern side

    /// Confirmed matches from 苏州 beside 广州's: 2 units on every third need of 2027, and 4
    /// labour units on one need through an organisation that writes its city 江苏省苏州市.
    static func addSuzhouMatches(_ world: inout World, _ database: TestDatabase) async throws {
        let needs = world.needs.filter { $0.year == 2027 && !$0.cancelled }
        let (extra, longOffer) = try await database.pool.withConnection { [world] connection in
            let org = try connection.query(
                "INSERT INTO organisation (kind, name, province, city) VALUES ('enterprise', '苏州二厂', '32', '江苏省苏州市') RETURNING id"
            ).first!.int64(0)
            let longOffer = try connection.query(
                """
                INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                VALUES (\(org), 'labor', '{6-01}', 1000, '2027-01-01', '2027-12-31') RETURNING id
                """
            ).first!.int64(0)
            var extra: [MatchRow] = []
            for (index, need) in needs.enumerated() where index % 3 == 0 {
                let offer = world.offers.first { $0.value.kind == need.kind && $0.value.province == "32" }!.key
                extra.append(MatchRow(need: need.id, offer: offer, units: 2, status: "confirmed", placed: need.kind == "labor" ? 1 : 0))
            }
            let labour = needs.first { $0.kind == "labor" }!
            extra.append(MatchRow(need: labour.id, offer: longOffer, units: 4, status: "confirmed", placed: 3))
            for match in extra {
                try connection.query(
                    """
                    INSERT INTO match (run, need, offer, units, score, status, confirmed_units, placed_units)
                    VALUES (\(world.run), \(match.need), \(match.offer), \(match.units), 100, 'confirmed', \(match.units), \(match.placed))
                    """)
            }
            return (extra, longOffer)
        }
        world.matches += extra
        world.offers[longOffer] = ("labor", "32", "苏州市")
    }

    /// What the rows say each eastern province (city "") and city gave in 2027, by kind, and placed.
    static func eastTotals(_ world: World) -> [String: (byKind: [String: Int], placed: Int)] {
        let year = Set(world.needs.filter { $0.year == 2027 }.map(\.id))
        var totals: [String: (byKind: [String: Int], placed: Int)] = [:]
        for match in world.matches where match.status == "confirmed" && year.contains(match.need) {
            let offer = world.offers[match.offer]!
            for key in [offer.province, "\(offer.province)/\(offer.city)"] {
                totals[key, default: ([:], 0)].byKind[offer.kind, default: 0] += match.units
                totals[key, default: ([:], 0)].placed += match.placed
            }
        }
        return totals
    }

    static func eastProvinces(_ database: TestDatabase) async throws -> [(code: String, name: String)] {
        try await database.pool.withConnection { connection in
            try connection.query("SELECT code, name FROM province WHERE side = 'east' ORDER BY code").rows.map {
                (try $0.string(0), try $0.string(1))
            }
        }
    }

    @Test func easternPlansAndTheEasternReportAddUpFromTheRows() async throws {
        try await TestDatabase.with { database in
            var world = try await ReportTests.makeWorld(database)
            try await Self.addSuzhouMatches(&world, database)
            let totals = Self.eastTotals(world)
            let provinces = try await Self.eastProvinces(database)
            let token = try await database.adminToken()
            try await TestServer.with(database: database) { [world] port in
                let client = try await LineClient.signedIn(port: port, token: token)
                let sets = [
                    "PLAN SET year=2027 province=江苏省 kind=labor units=500", "PLAN SET year=2027 province=32 city=江苏省苏州市 kind=training units=40",
                    "PLAN SET year=2027 province=广东省 city=广州市 kind=labor units=100", "PLAN SET year=2027 province=52 kind=labor units=90",
                ]
                var replies: [String] = []
                for line in sets {
                    let reply = try await client.request(line)
                    #expect(reply.hasPrefix("OK "), "\(line) → \(reply)")
                    replies.append(String(reply.dropFirst(3)))
                }
                // PLAN SET says what PLAN LIST says, confirmed units included.
                let listed = try await client.readRecords(after: try await client.request("PLAN LIST year=2027"))
                #expect(Set(replies) == Set(listed), "\(replies) against \(listed)")
                let guizhouLabour = world.needs.filter { $0.year == 2027 && $0.county.hasPrefix("52") && $0.kind == "labor" }
                    .reduce(0) { $0 + $1.matched }
                #expect(guizhouLabour > 0)
                let units = { (key: String, kind: String) in totals[key]?.byKind[kind] ?? 0 }
                let want = [
                    (2027, "east", "32", "", "labor", 500, units("32", "labor")),
                    (2027, "east", "32", "苏州市", "training", 40, units("32/苏州市", "training")),
                    (2027, "east", "44", "广州市", "labor", 100, units("44/广州市", "labor")),
                    (2027, "west", "52", "", "labor", 90, guizhouLabour),
                ].map { year, side, province, city, kind, planned, confirmed in
                    "year=\(year) side=\(side) province=\(province) city=\(city.isEmpty ? "\"\"" : city) kind=\(kind) units=\(planned) "
                        + "confirmed=\(confirmed) remaining=\(max(0, planned - confirmed)) of-plan=\(ReportTests.ratio(confirmed, planned))"
                }
                #expect(listed == want)

                let rows = try await client.readRecords(after: try await client.request("REPORT side=east year=2027"))
                var expected: [String] = []
                for (code, name) in provinces {
                    let plans = [("32", "", "labor", 500), ("32", "苏州市", "training", 40), ("44", "广州市", "labor", 100)]
                    func line(level: String, key: String, name: String, city: String) -> String {
                        let byKind = totals[key]?.byKind ?? [:]
                        let plan = plans.first { $0.0 == code && $0.1 == city }
                        return "level=\(level) code=\(key) name=\(name) province=\(code) confirmed=\(byKind.values.reduce(0, +)) "
                            + ReportTests.reportKinds.map { "\($0)=\(byKind[$0] ?? 0)" }.joined(separator: " ")
                            + " placed=\(totals[key]?.placed ?? 0) plan=\(plan.map { "\($0.3)" } ?? "-") "
                            + "of-plan=\(plan.map { ReportTests.ratio(byKind[$0.2] ?? 0, $0.3) } ?? "-")"
                    }
                    expected.append(line(level: "province", key: code, name: name, city: ""))
                    let city = ["32": "苏州市", "44": "广州市"][code]
                    if let city { expected.append(line(level: "city", key: "\(code)/\(city)", name: city, city: city)) }
                }
                #expect(rows == expected)
                #expect(totals["32/苏州市"]!.byKind["labor"]! > 4, "the long spelling joins the city's other matches")

                let csv = try await client.readRecords(after: try await client.request("REPORT side=east year=2027 province=江苏省 format=csv lang=zh"))
                #expect(csv.first == "层级,代码,名称,所属省份,已确认,转移就业（人）,技能培训（人次）,技工院校招生（人）,结对帮扶学校（所）,选派人才（人次）,双向挂职（人次）,实际到岗（人）,年度计划,计划完成率")
                #expect(csv.dropFirst().first?.hasPrefix("省,32,江苏省,32,") == true, "\(csv)")
                let jiangsu = totals["32"]!.byKind
                #expect(
                    csv.last == "小结,,江苏省2027年吸纳重点帮扶县农村劳动力就业\(jiangsu["labor"] ?? 0)人；培训\(jiangsu["training"] ?? 0)人次；"
                        + "结对帮扶技工院校\(jiangsu["school_partnership"] ?? 0)所；选派专业技术人才\(jiangsu["talent"] ?? 0)人次。,,,,,,,,,,,")

                for (line, message) in [
                    ("PLAN SET year=2027 province=52 city=贵阳市 kind=labor units=1", "city: only eastern provinces set targets per city"),
                    ("PLAN SET year=2027 province=河北省 kind=labor units=1", "takes no part in the east–west cooperation"),
                    ("PLAN SET year=2027 province=32 city= kind=labor units=1", "city must not be empty"),
                    ("REPORT side=north year=2027", "side must be one of west|east, not 'north'"),
                    ("REPORT side=east year=2027 province=贵州省", "province: 贵州省 is not a eastern province"),
                    ("REPORT side=east year=2027 province=32 submitted", "submitted: only western provinces file their report"),
                ] {
                    let reply = try await client.request(line)
                    #expect(reply.hasPrefix("ERR BAD_ARG ") && reply.contains(message), "\(line) → \(reply)")
                }
                await client.close()
            }
        }
    }

    @Test func eastTokensReadTheirOwnEasternReportAndPlansOnly() async throws {
        try await TestDatabase.with { database in
            var world = try await ReportTests.makeWorld(database)
            try await Self.addSuzhouMatches(&world, database)
            let totals = Self.eastTotals(world)
            let admin = try await database.adminToken()
            let jiangsu = try await database.token(role: .east, scope: "province:32", label: "江苏省人社厅").secret
            let suzhou = try await database.token(role: .east, scope: "city:苏州市", label: "苏州市人社局").secret
            let org = try await database.token(role: .east, scope: "org:1", label: "广州市厂").secret
            let guizhou = try await database.token(role: .west, scope: "province:52", label: "贵州省人社厅").secret
            try await TestServer.with(database: database) { port in
                let setup = try await LineClient.signedIn(port: port, token: admin)
                for line in [
                    "PLAN SET year=2027 province=32 kind=labor units=500", "PLAN SET year=2027 province=32 city=苏州市 kind=labor units=300",
                    "PLAN SET year=2027 province=44 kind=labor units=200", "PLAN SET year=2027 province=52 kind=labor units=90",
                ] {
                    #expect(try await setup.request(line).hasPrefix("OK "), "\(line)")
                }
                await setup.close()

                let province = try await LineClient.signedIn(port: port, token: jiangsu)
                let own = try await province.readRecords(after: try await province.request("REPORT side=east year=2027"))
                #expect(try own.map { try Self.fields($0)["code"]! } == ["32", "32/苏州市"])
                #expect(try Self.fields(own[0])["labor"] == "\(totals["32"]!.byKind["labor"]!)")
                #expect(try await province.request("REPORT side=east year=2027 province=广东省").hasPrefix("ERR DENIED "))
                #expect(try await province.request("REPORT year=2027").hasPrefix("ERR DENIED "))
                #expect(try await province.request("PLAN SET year=2027 province=32 kind=labor units=1").hasPrefix("ERR DENIED "))
                let plans = try await province.readRecords(after: try await province.request("PLAN LIST"))
                #expect(try plans.map { try Self.fields($0)["province"]! } == ["32", "32"])
                #expect(try await province.request("PLAN LIST province=44").hasPrefix("ERR DENIED "))
                await province.close()

                let city = try await LineClient.signedIn(port: port, token: suzhou)
                let cityRows = try await city.readRecords(after: try await city.request("REPORT side=east year=2027 province=江苏省"))
                #expect(try cityRows.map { try Self.fields($0)["code"]! } == ["32/苏州市"])
                #expect(try Self.fields(cityRows[0])["of-plan"] == ReportTests.ratio(totals["32/苏州市"]!.byKind["labor"]!, 300))
                #expect(try await city.request("REPORT side=east year=2027 province=广东省").hasPrefix("ERR DENIED "))
                let cityPlans = try await city.readRecords(after: try await city.request("PLAN LIST"))
                #expect(try cityPlans.map { try Self.fields($0)["city"]! } == ["苏州市"])
                await city.close()

                for secret in [org, guizhou] {
                    let client = try await LineClient.signedIn(port: port, token: secret)
                    #expect(try await client.request("REPORT side=east year=2027").hasPrefix("ERR DENIED "))
                    await client.close()
                }
            }
        }
    }

    // MARK: The report as filed

    @Test func aFiledReportStaysAsFiledWhileTheLiveOneShowsWhatChanged() async throws {
        try await TestDatabase.with { database in
            let world = try await ReportTests.makeWorld(database)
            let admin = try await database.adminToken()
            let (guizhou, guizhouPrincipal) = try await database.token(role: .west, scope: "province:52", label: "贵州省人社厅")
            let county = try await database.token(role: .west, scope: "county:520324", label: "正安县").secret
            // A proposal of a Guizhou county, confirmed after the filing.
            let proposal = try #require(
                world.matches.first { match in
                    match.status == "proposed" && world.needs.contains { $0.id == match.need && $0.year == 2027 && $0.county.hasPrefix("52") }
                })
            let changedCounty = world.needs.first { $0.id == proposal.need }!.county
            let today = Self.chinaToday
            try await TestServer.with(database: database) { port in
                let client = try await LineClient.signedIn(port: port, token: guizhou)
                let before = try await Self.reply(client, "REPORT year=2027 province=52 limit=1").header
                #expect(before["deadline"] == "2027-12-15")
                #expect(before["filing"] == (today <= "2027-12-15" ? "due" : "overdue"))
                #expect(before["submitted"] == "-" && before["changed"] == "-")

                let liveCSV = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=csv"))
                let reply = try Self.fields(try await client.request("REPORT SUBMIT year=2027 province=贵州省"))
                #expect(reply["province"] == "52" && reply["version"] == "1" && reply["rows"] == "\(liveCSV.count - 2)")
                #expect(reply["by"] == "\(guizhouPrincipal.tokenID)" && reply["label"] == "贵州省人社厅")
                #expect(reply["filing"] == (today <= "2027-12-15" ? "filed" : "late"))
                let fingerprint = try #require(reply["fingerprint"])
                // The fingerprint is the SHA-256 of the CSV file as `ewmatch report --csv` writes it.
                #expect(fingerprint == (try await Self.sha256(liveCSV.map { $0 + "\n" }.joined())))

                try await database.pool.withConnection { connection in
                    try connection.query(
                        """
                        UPDATE match SET status = 'confirmed', confirmed_units = units
                        WHERE need = \(proposal.need) AND offer = \(proposal.offer) AND status = 'proposed'
                        """)
                    try connection.query("UPDATE need SET matched = matched + \(proposal.units), status = 'partly_matched' WHERE id = \(proposal.need)")
                }

                let liveHeader = try await client.request("REPORT year=2027 province=52 limit=1000")
                let live = try Self.fields(liveHeader)
                #expect(live["submitted"] == reply["submitted-at"] && live["fingerprint"] == fingerprint && live["changed"] == "2", "\(liveHeader)")
                let rows = try await client.readRecords(after: liveHeader).map(Self.fields)
                for row in rows {
                    let changed = row["code"] == "52" || row["code"] == changedCounty
                    #expect(row["since-filed"] == (changed ? "changed" : "same"), "\(row)")
                }
                let markdown = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=md"))
                #expect(markdown.contains("## Changed since filed"))
                #expect(markdown.contains { $0.hasPrefix("- ") && $0.contains("(\(changedCounty)): ") && $0.contains("confirmed ") })

                // The filed copy: the same file, the same fingerprint, the figures as they were.
                let filedHeader = try await client.request("REPORT year=2027 province=52 submitted format=csv")
                #expect(try Self.fields(filedHeader)["fingerprint"] == fingerprint)
                let filed = try await client.readRecords(after: filedHeader)
                #expect(filed == liveCSV)
                #expect(try await Self.sha256(filed.map { $0 + "\n" }.joined()) == fingerprint)
                let nowCSV = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=csv"))
                #expect(nowCSV != liveCSV)
                let filedRows = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 submitted"))
                let wasConfirmed = world.needs.filter { $0.county == changedCounty && $0.year == 2027 }.reduce(0) { $0 + $1.matched }
                let filedCounty = try #require(try filedRows.map(Self.fields).first { $0["code"] == changedCounty })
                let liveCounty = try #require(rows.first { $0["code"] == changedCounty })
                #expect(filedCounty["confirmed"] == "\(wasConfirmed)")
                #expect(liveCounty["confirmed"] == "\(wasConfirmed + proposal.units)")

                // Filing again replaces the filed copy; both filings stay in the audit trail.
                let adminClient = try await LineClient.signedIn(port: port, token: admin)
                let again = try Self.fields(try await adminClient.request("REPORT SUBMIT year=2027 province=52"))
                #expect(again["version"] == "2" && again["fingerprint"] != fingerprint)
                #expect(again["fingerprint"] == (try await Self.sha256(nowCSV.map { $0 + "\n" }.joined())))
                #expect(try await Self.reply(adminClient, "REPORT year=2027 province=52 submitted format=md").header["fingerprint"] == again["fingerprint"])
                #expect(try await Self.reply(adminClient, "REPORT year=2027 province=52 limit=1").header["changed"] == "0")
                let audit = try await adminClient.readRecords(after: try await adminClient.request("AUDIT target=report:2027:52"))
                #expect(audit.count == 2 && audit.allSatisfy { $0.contains("command=\"REPORT SUBMIT\"") })
                #expect(audit.last!.contains(again["fingerprint"]!))

                // The deadline of a year long past: overdue until filed, then filed late.
                #expect(try await Self.reply(adminClient, "REPORT year=2025 province=52 format=md").header["filing"] == "overdue")
                #expect(try Self.fields(try await adminClient.request("REPORT SUBMIT year=2025 province=52"))["filing"] == "late")
                #expect(try await adminClient.request("REPORT year=2027 province=45 submitted").hasPrefix("ERR NOT_FOUND "))
                #expect(try await adminClient.request("REPORT year=2027 submitted").hasPrefix("ERR BAD_ARG submitted needs province="))
                #expect(try await adminClient.request("REPORT year=2027 province=52 filed").hasPrefix("ERR BAD_ARG unexpected argument 'filed'"))
                await adminClient.close()

                #expect(try await client.request("REPORT SUBMIT year=2027 province=45").hasPrefix("ERR DENIED "))
                #expect(try await client.request("REPORT year=2027 province=45").hasPrefix("ERR DENIED "))
                await client.close()
                let countyClient = try await LineClient.signedIn(port: port, token: county)
                #expect(try await countyClient.request("REPORT SUBMIT year=2027 province=52").hasPrefix("ERR DENIED "))
                #expect(try await countyClient.request("REPORT year=2027 submitted").hasPrefix("ERR DENIED "))
                await countyClient.close()
            }
        }
    }

    // MARK: In Chinese

    @Test func theChineseReportSpeaksChineseWithTheRightNumbers() async throws {
        try await ReportTests.withAdmin { world, client, _ in
            let guizhou = world.needs.filter { $0.year == 2027 && $0.county.hasPrefix("52") }
            let units = { (kind: String) in guizhou.filter { $0.kind == kind }.reduce(0) { $0 + $1.matched } }
            // 实现就业 counts the people placed on the labour matches (none of them counted as 脱贫劳动力 here).
            let ids = Set(guizhou.map(\.id))
            let placed = world.matches.filter { ids.contains($0.need) && world.offers[$0.offer]!.kind == "labor" }.reduce(0) { $0 + $1.placed }
            let sentence =
                "贵州省2027年通过东西部协作帮助重点帮扶县农村劳动力实现就业\(placed)人，其中脱贫劳动力0人、防止返贫监测对象0人；稳定就业3个月以上0人，同一单位稳定就业6个月以上0人；培训\(units("training"))人次；"
                + "结对帮扶技工院校\(units("school_partnership"))所；选派专业技术人才\(units("talent"))人次。"

            let csv = try await client.readRecords(after: try await client.request("REPORT year=2027 province=贵州省 format=csv lang=zh"))
            let headings: String =
                "层级,代码,名称,所属省份,需求条数,需求总量,已确认,对接率,转移就业（人）,技能培训（人次）,技工院校招生（人）,结对帮扶学校（所）,"
                + "选派人才（人次）,双向挂职（人次）,实际到岗（人）,其中脱贫劳动力（人）,其中防止返贫监测对象（人）,仍在岗（人）,离岗退回需求（人）,"
                + "稳定就业3个月以上（人）,同一单位稳定就业6个月以上（人）,年度计划,计划完成率,上年需求总量,上年已确认,上年对接率,对接率变化,"
                + "被拒绝对接（工资待遇）,被拒绝对接（路途距离）,被拒绝对接（条件不符）,被拒绝对接（时间不合）,被拒绝对接（岗位已满）,被拒绝对接（其他）,"
                + "进展滞后,原因"
            #expect(csv.first == headings)
            #expect(csv.dropFirst().first?.hasPrefix("省,52,贵州省,52,") == true)
            #expect(csv.last == "小结,,\(sentence)" + String(repeating: ",", count: 32))
            // 晴隆县 gets a tenth of what it asks.
            let behind = try #require(csv.first { $0.hasPrefix("县,522324,") })
            #expect(behind.contains("，低于30%") && !behind.contains("below"), "\(behind)")

            let markdown = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=md lang=zh"))
            #expect(markdown.first == "# 2027年度东西部协作工作推进和落实情况：贵州省")
            #expect(markdown.contains(sentence))
            #expect(markdown.contains("## 进展滞后的县"))
            #expect(markdown.contains { $0.hasPrefix("| 省（区、市） | 需求条数 | 需求总量 | 已确认 | 对接率 | 转移就业（人） |") })
            #expect(markdown.contains { $0.hasPrefix("- 晴隆县 (522324): 对接率") })

            let header = try await client.request("REPORT year=2027 province=52 lang=zh limit=1000")
            #expect(try Self.fields(header)["summary"] == sentence)
            let rows = try await client.readRecords(after: header).map(Self.fields)
            #expect(rows.first { $0["code"] == "522324" }?["why"]?.hasPrefix("对接率") == true)

            let english = try await client.readRecords(after: try await client.request("REPORT year=2027 province=52 format=csv"))
            #expect(
                english.last
                    == "summary,,\"贵州省, 2027: helped \(placed) workers of the key assistance counties into jobs, of them 0 poverty-alleviated "
                    + "and 0 under monitoring; 0 in stable work for 3 months or more, 0 with one employer for 6 months; trained \(units("training")); "
                    + "partnered \(units("school_partnership")) technical schools; dispatched \(units("talent")) professionals.\""
                    + String(repeating: ",", count: 32))
            #expect(try await client.request("REPORT year=2027 lang=fr").hasPrefix("ERR BAD_ARG lang must be one of en|zh, not 'fr'"))
        }
    }
}
