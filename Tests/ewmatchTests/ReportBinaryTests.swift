import Foundation
import PostgresStore
import Testing
import TestSupport

/// `ewmatch report` from the shell: the CSV file a province files, and the HTML page whose
/// charts must carry the numbers of the rows inserted here.
@Suite("ewmatch report")
struct ReportBinaryTests {
    /// (county, kind, year, quantity, confirmed); every confirmed unit comes from 广州 (广东).
    static let needs: [(String, String, Int, Int, Int)] = [
        ("520204", "labor", 2027, 40, 30), ("520204", "training", 2027, 20, 0), ("520324", "labor", 2027, 50, 5),
        ("450124", "talent", 2027, 10, 10), ("520204", "labor", 2026, 10, 10),
    ]

    static func load(_ database: TestDatabase) async throws {
        try await database.pool.withConnection { connection in
            try connection.execute(
                script: """
                    INSERT INTO organisation (kind, name, province, city) VALUES ('enterprise', '广州工厂', '44', '广州市');
                    INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
                    SELECT 1, k, '{6-01}', 1000, '2026-01-01', '2027-12-31' FROM unnest(ARRAY['labor', 'training', 'talent']) k;
                    """)
            try connection.query(
                "INSERT INTO match_run (mode, input_hash, weights) VALUES ('optimal', 'test', \(storedDefaultWeights)::jsonb)")
            for (county, kind, year, quantity, confirmed) in needs {
                let id = try connection.query(
                    """
                    INSERT INTO need (county, kind, occupations, quantity, matched, window_start, window_end, status)
                    VALUES (\(county), \(kind), '{6-01}', \(quantity), \(confirmed), \("\(year)-03-01")::date, \("\(year)-10-31")::date,
                            \(confirmed == 0 ? "open" : confirmed < quantity ? "partly_matched" : "filled"))
                    RETURNING id
                    """
                ).first!.int64(0)
                if confirmed > 0 {
                    try connection.query(
                        """
                        INSERT INTO match (run, need, offer, units, score, status, confirmed_units)
                        SELECT 1, \(id), o.id, \(confirmed), 100, 'confirmed', \(confirmed) FROM offer o WHERE o.kind = \(kind)
                        """)
                }
            }
        }
    }

    /// The `data-value`s of the bars of one chart, in order.
    static func bars(_ html: String, chart id: String) throws -> [Double] {
        let start = try #require(html.range(of: "<svg class=\"chart\" id=\"\(id)\""), "no chart \(id)")
        let end = try #require(html.range(of: "</svg>", range: start.upperBound..<html.endIndex))
        return html[start.upperBound..<end.lowerBound].components(separatedBy: "data-value=\"").dropFirst().map {
            Double($0.prefix { $0 != "\"" })!
        }
    }

    static func rounded(_ part: Int, _ whole: Int) -> Double {
        Double((part * 2_000 + whole) / (2 * whole)) / 1000
    }

    @Test func writesTheCSVFileAndAPageWhoseChartsCarryTheNumbers() async throws {
        try await TestDatabase.with { database in
            try await Self.load(database)
            let url = database.conninfo
            let (_, tokenOutput) = try await ChildProcess.run(BinaryTests.binary, ["token", "create", "--role", "admin", "--database-url", url])
            let token = try #require(tokenOutput.split(separator: "\n").first { $0.hasPrefix("ewm_") }.map(String.init))
            let server = try ChildProcess(BinaryTests.binary, ["serve", "--port", "0", "--database-url", url])
            let port = String(try BinaryTests.listeningPort(in: try await server.waitForOutput(containing: "listening")))
            let environment: [String: String?] = ["EWMATCH_TOKEN": token]
            let directory = FileManager.default.temporaryDirectory.appending(path: "ewmatch-report-\(UInt64.random(in: 0 ... .max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            let csv = directory.appending(path: "report.csv").path
            let (csvCode, csvOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--province", "贵州省", "--csv", csv, "--port", port], environment: environment)
            #expect(csvCode == 0, "\(csvOutput)")
            let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("level,code,name,province,needs,demand,confirmed,fill,") == true)
            #expect(lines[1].hasPrefix("province,52,贵州省,52,3,110,35,\(Self.rounded(35, 110)),35,0,0,0,"), "\(lines[1])")
            #expect(lines.contains { $0.hasPrefix("county,520324,正安县,52,1,50,5,0.100,5,0,0,0,0,0,0,0,0,0,0,0,0,,,0,0,,,0,0,0,0,0,0,1,") })

            let html = directory.appending(path: "report.html").path
            let (htmlCode, htmlOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--html", html, "--port", port], environment: environment)
            #expect(htmlCode == 0, "\(htmlOutput)")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            // Lowest fill first: 正安县 5/50, 水城区 30/60, 马山县 10/10.
            #expect(try Self.bars(page, chart: "fill-by-county") == [0.1, 0.5, 1.0])
            // 广东 → 广西 and 广东 → 贵州, the province-level pairings with demand, in FILL's order.
            #expect(try Self.bars(page, chart: "fill-by-pairing") == [Self.rounded(35, 110), 1.0])
            // labor, training, enrolment, school partnerships, talent, secondment: this year, then last.
            #expect(try Self.bars(page, chart: "units-by-kind") == [35, 10, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0])
            // 广西 (10/10, nothing last year), 贵州 (35/110 against 10/10).
            #expect(try Self.bars(page, chart: "year-against-last") == [1.0, 0, Self.rounded(35, 110), 1.0])
            #expect(page.contains("<li><b>正安县 (520324)</b>: fill 10.0% below 30%"))
            for forbidden in ["<script", "src=", "href=", "@import", "url("] {
                #expect(!page.contains(forbidden), "the page must be self-contained: \(forbidden)")
            }

            // In Chinese: the headings, the kinds, the reasons and the summary sentence with Guizhou's figures.
            let guizhou = Self.needs.filter { $0.0.hasPrefix("52") && $0.2 == 2027 }
            let units = { (kind: String) in guizhou.filter { $0.1 == kind }.reduce(0) { $0 + $1.4 } }
            // Nothing was placed: 实现就业 counts the people placed, not the posts confirmed.
            let sentence =
                "贵州省2027年通过东西部协作帮助重点帮扶县农村劳动力实现就业0人，其中脱贫劳动力0人、防止返贫监测对象0人；稳定就业3个月以上0人，同一单位稳定就业6个月以上0人；培训\(units("training"))人次；"
                + "结对帮扶技工院校\(units("school_partnership"))所；选派专业技术人才\(units("talent"))人次。"
            let zhHTML = directory.appending(path: "report-zh.html").path
            let (zhCode, zhOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--province", "贵州省", "--lang", "zh", "--html", zhHTML, "--port", port],
                environment: environment)
            #expect(zhCode == 0, "\(zhOutput)")
            let zhPage = try String(contentsOfFile: zhHTML, encoding: .utf8)
            #expect(zhPage.contains("<html lang=\"zh-CN\">"))
            #expect(zhPage.contains("<h1>2027年度东西部协作工作推进和落实情况：贵州省</h1>"))
            #expect(zhPage.contains("<p class=\"summary\">\(sentence)</p>"))
            #expect(zhPage.contains("报送截止日期：2027-12-15（每年12月15日前报送）。"))
            #expect(zhPage.contains("<th>转移就业<br>（人）</th>") && zhPage.contains("<h2>进展滞后的县</h2>"))
            #expect(zhPage.contains("<li><b>正安县 (520324)</b>：对接率10.0%，低于30%"))
            #expect(!zhPage.contains("Left behind") && !zhPage.contains("below 30%"))
            #expect(try Self.bars(zhPage, chart: "fill-by-county") == [0.1, 0.5])
            let zhCSV = directory.appending(path: "report-zh.csv").path
            let (zhCSVCode, zhCSVOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--province", "52", "--lang", "zh", "--csv", zhCSV, "--port", port],
                environment: environment)
            #expect(zhCSVCode == 0, "\(zhCSVOutput)")
            let zhLines = try String(contentsOfFile: zhCSV, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(zhLines.first?.hasPrefix("层级,代码,名称,所属省份,需求条数,需求总量,已确认,对接率,转移就业（人）,") == true)
            #expect(zhLines.last?.hasPrefix("小结,,\(sentence),") == true)
            let (badLang, badLangOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--lang", "fr", "--csv", zhCSV, "--port", port], environment: environment)
            #expect(badLang != 0 && badLangOutput.contains("fr"), "\(badLangOutput)")

            let (usage, usageOutput) = try await ChildProcess.run(
                BinaryTests.binary, ["report", "--year", "2027", "--port", port], environment: environment)
            #expect(usage != 0 && usageOutput.contains("give one of --csv FILE or --html FILE"))
            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
        }
    }
}
