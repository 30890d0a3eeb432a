import Foundation
import MatchCore
import Testing
import TestSupport

/// A province coordinator's year, as issue 12 tells it, against the built binary and only over
/// `nc`: needs with their 脱贫劳动力 and 监测对象 counts, matched and placed, followed up at 3 and
/// 6 months (one person leaving gives one unit back), and the Chinese report filed, whose
/// sentence must add up to what the scripts entered.
@Suite("A province coordinator's year over nc")
struct CoordinatorYearTests {
    /// Dates relative to today (China time): placements and follow-ups may not lie ahead.
    static let today = Day.today(secondsSince1970: Int(Date().timeIntervalSince1970))
    static func day(_ offset: Int) -> String { Day(dayNumber: today.dayNumber + offset)!.description }

    static func field(_ name: String, in line: String) throws -> String {
        let word = line.split(separator: " ").first { $0.hasPrefix("\(name)=") }
        return String(try #require(word, "no \(name)= in \(line)").dropFirst(name.count + 1))
    }

    /// One `nc` session: the token's AUTH, then `lines`; returns the replies after the greeting
    /// and AUTH's, checking that no line was refused.
    static func session(_ port: Int, token: String, _ lines: [String]) async throws -> [String] {
        let replies = try await BinaryTests.nc(port, (["AUTH \(token)"] + lines + ["QUIT"]).joined(separator: "\n") + "\n")
        #expect(replies.count >= 3 && replies[1].hasPrefix("OK token="), "\(replies)")
        #expect(!replies.contains { $0.hasPrefix("ERR ") }, "\(lines) → \(replies)")
        return Array(replies.dropFirst(2).dropLast())
    }

    @Test func enteredMatchedPlacedFollowedUpAndFiledInChinese() async throws {
        let (start, end, offerEnd) = (Self.day(-300), Self.day(60), Self.day(200))
        let year = Int(start.prefix(4))!
        try await TestDatabase.with { database in
            let url = database.conninfo
            let (_, created) = try await ChildProcess.run(BinaryTests.binary, ["token", "create", "--role", "admin", "--database-url", url])
            let admin = try #require(created.split(separator: "\n").first { $0.hasPrefix("ewm_") }.map(String.init))
            let server = try ChildProcess(BinaryTests.binary, ["serve", "--port", "0", "--database-url", url])
            let port = try BinaryTests.listeningPort(in: try await server.waitForOutput(containing: "listening"))

            let setup = try await Self.session(port, token: admin, [
                "ORG ADD kind=enterprise name=广州电子 province=广东省 city=广州市",
                "OFFER ADD org=1 kind=labor occupations=6-01 capacity=10 from=\(start) to=\(offerEnd)",
                "TOKEN ISSUE role=west scope=province:52 label=贵州省人社厅",
            ])
            let coordinator = try Self.field("secret", in: try #require(setup.last))

            // The coordinator enters a need with its people; the administrator's nightly run.
            let added = try await Self.session(port, token: coordinator, [
                "NEED ADD county=520204 kind=labor occupations=6-01 qty=8 poverty=5 monitored=2 from=\(start) to=\(end) priority=5",
            ])
            #expect(added[0].contains(" poverty=5 ") && added[0].contains(" monitored=2 "), "\(added)")
            let run = try await Self.session(port, token: admin, ["MATCH RUN"])
            #expect(run[0].hasPrefix("OK run=1 ") && run[0].contains(" units=8 "), "\(run)")

            let proposed = try await Self.session(port, token: coordinator, ["MATCH LIST status=proposed", "MATCH ACCEPT 1"])
            #expect(proposed[0] == "OK 1 matches" && proposed[1].hasPrefix("id=1 ") && proposed[1].contains(" units=8 "), "\(proposed)")
            let confirmed = try await Self.session(port, token: admin, ["MATCH ACCEPT 1 side=east"])
            #expect(confirmed[0].contains(" status=confirmed ") && confirmed[0].contains(" confirmed=8 "), "\(confirmed)")

            // Placed; the 3-month follow-up is overdue, then made; one person goes home; 6 months.
            let placed = try await Self.session(port, token: coordinator, [
                "MATCH PLACE 1 people=8 poverty=5 monitored=2 date=\(Self.day(-250))", "PLACEMENT DUE days=0",
            ])
            let placement = try Self.field("id", in: placed[0])
            #expect(placed[1] == "OK 1 placements" || placed[1].hasPrefix("OK 1 "), "\(placed)")
            #expect(placed[2].contains(" check=3m "), "\(placed)")
            let checked = try await Self.session(port, token: coordinator, [
                "PLACEMENT CHECK \(placement) date=\(Self.day(-155)) status=working",
                "PLACEMENT CHECK \(placement) date=\(Self.day(-130)) status=left people=1 reason=returned_home",
                "PLACEMENT CHECK \(placement) date=\(Self.day(-60)) status=working",
                "NEED SHOW 1", "UNMET county=520204",
            ])
            #expect(try Self.field("stable-3m", in: checked[0]) == "8", "\(checked)")
            #expect(try Self.field("reopened", in: checked[1]) == "1", "\(checked)")
            #expect(try Self.field("working", in: checked[1]) == "7", "\(checked)")
            #expect(try Self.field("stable-6m", in: checked[2]) == "7", "\(checked)")
            #expect(try Self.field("matched", in: checked[3]) == "7", "one person leaving gives one unit back: \(checked[3])")
            #expect(checked[5].hasPrefix("id=1 "), "\(checked)")
            #expect(try Self.field("missing", in: checked[5]) == "1", "\(checked)")

            // The report as filed, in Chinese: its sentence says what the lines above add up to.
            let filed = try await Self.session(port, token: coordinator, [
                "REPORT SUBMIT year=\(year) province=52", "REPORT year=\(year) province=52 submitted lang=zh",
            ])
            #expect(filed[0].hasPrefix("OK ") && filed[0].contains("fingerprint="), "\(filed)")
            let report = filed.dropFirst().joined(separator: "\n")
            #expect(
                report.contains(
                    "帮助重点帮扶县农村劳动力实现就业8人，其中脱贫劳动力5人、防止返贫监测对象2人；稳定就业3个月以上8人，同一单位稳定就业6个月以上7人"),
                "\(report)")

            // The HTML page in Chinese: the people table gives the county's row as entered.
            let page = FileManager.default.temporaryDirectory.appending(path: "coordinator-\(UInt32.random(in: 0 ... .max)).html").path
            defer { try? FileManager.default.removeItem(atPath: page) }
            let (written, output) = try await ChildProcess.run(
                BinaryTests.binary,
                ["report", "--year", "\(year)", "--province", "52", "--lang", "zh", "--html", page, "--port", "\(port)", "--token", coordinator])
            #expect(written == 0, "\(output)")
            let html = try String(contentsOfFile: page, encoding: .utf8)
            let people = try #require(html.range(of: "<h2>就业人员与稳定就业</h2>"), "no people table")
            let county = ["水城区 (520204)", "8", "5", "2", "7", "1", "8", "7"].map { "<td>\($0)</td>" }.joined()
            #expect(html[people.upperBound...].contains("<tr>" + county + "</tr>"), "\(html[people.upperBound...].prefix(1_500))")

            server.signal(SIGTERM)
            #expect(try await server.wait() == 0)
        }
    }
}
