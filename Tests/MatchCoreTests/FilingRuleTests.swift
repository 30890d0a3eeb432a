import MatchCore
import Testing

/// Where a province's filing stands against 15 December, at the days around it.
@Suite("The yearly report's deadline")
struct FilingRuleTests {
    @Test(arguments: [
        (nil, "2027-12-15", ReportLanguage.Filing.due), (nil, "2027-12-16", .overdue), (nil, "2028-01-01", .overdue),
        ("2027-12-15", "2028-03-01", .filed), ("2027-12-16", "2027-12-16", .late), ("2027-01-02", "2027-01-02", .filed),
    ] as [(String?, String, ReportLanguage.Filing)])
    func theDeadlineIsTheFifteenthOfDecember(submitted: String?, today: String, expected: ReportLanguage.Filing) {
        #expect(ReportLanguage.Filing.of(year: 2027, submittedOn: submitted.flatMap(Day.init), today: Day(today)!) == expected)
    }
}
