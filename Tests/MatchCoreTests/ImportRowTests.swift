import CommandProtocol
@testable import MatchCore
import MatchingEngine
import Testing

@Suite("Import rows become typed needs and offers")
struct ImportRowTests {
    static func fields(_ line: String) -> [[UInt8]] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    @Test func csvRecordsKeepQuotedCommasQuotesAndLines() {
        var reader = CSVReader()
        func texts(_ fields: [[UInt8]]?) -> [String]? { fields?.map { String(decoding: $0, as: UTF8.self) } }
        #expect(texts(reader.feed(Array("a,,b,".utf8))) == ["a", "", "b", ""])
        #expect(texts(reader.feed(Array(#""x, y","say ""hi""",z"#.utf8))) == ["x, y", #"say "hi""#, "z"])
        #expect(texts(reader.feed(Array(#"ab"c,d"e,f"#.utf8))) == ["abc,de", "f"])
        #expect(texts(reader.feed([])) == [""])
        #expect(reader.feed(Array(#"1,"two"#.utf8)) == nil)
        #expect(reader.isIncomplete)
        #expect(texts(reader.feed(Array(#"lines",3"#.utf8))) == ["1", "two\nlines", "3"])
        #expect(!reader.isIncomplete)
    }

    @Test func daysCodesAndSpacesAreReadFromTheirBytes() {
        #expect(Day("2028-02-29")?.description == "2028-02-29")
        for bad in ["2027-02-29", "2027-2-01", "2027-13-01", "1999-12-31", "2027-01-0x", "２０２７-01-01", "2027-01-01 "] {
            #expect(Day(bad) == nil, "\(bad)")
        }
        #expect(Occupation.level(of: "6") == .major && Occupation.level(of: "6-01") == .mid)
        #expect(Occupation.level(of: "6-01-02") == .small && Occupation.level(of: "6-01-02-03") == .occupation)
        for bad in ["", "6-", "6-1", "06-01", "6-01-02-03-04", "６-01", "6--01"] { #expect(Occupation.level(of: bad) == nil, "\(bad)") }
        #expect(" 焊工\u{3000}".trimmingSpaces == "焊工" && "焊工 A".trimmingSpaces == "焊工 A" && "\tx ".trimmingSpaces == "x")
        #expect(asciiLowercased("LaBoR") == "labor" && asciiLowercased("是") == "是" && asciiUppercased("ping") == "PING")
    }

    @Test func aNeedRowIsCheckedAndTyped() throws {
        let converter = try ImportConverter(
            target: .needs, header: ["county", "kind", "occupations", "qty", "from", "to", "poverty", "note"],
            counties: ["520204"], occupations: ["6-01", "6-02"], organisations: [:], scope: .county("520204"))
        let row = try converter.convert(Self.fields("520204,LABOR,6-02;6-01;6-01,30,2027-01-01,2027-06-30,是,焊工\tA"), row: 1)
        guard case .need(let need) = row else {
            Issue.record("a need row gave \(row)")
            return
        }
        #expect(need.county == "520204" && need.kind == .labor && need.occupations == ["6-01", "6-02"])
        #expect(need.quantity == 30 && need.priority == 3 && need.povertyFocus && need.note == "焊工\tA")
    }

    @Test func aRowOutsideTheScopeOrWithABadValueIsRefusedWithItsColumn() throws {
        let converter = try ImportConverter(
            target: .needs, header: ["county", "kind", "occupations", "qty", "from", "to"], counties: ["520204", "520324"],
            occupations: ["6-01"], organisations: [:], scope: .county("520204"))
        #expect(throws: ImportConverter.RowError.self) { try converter.convert(Self.fields("520324,labor,6-01,3,2027-01-01,2027-02-01"), row: 1) }
        do {
            _ = try converter.convert(Self.fields("520204,labor,6-01,0,2027-01-01,2027-02-01"), row: 2)
            Issue.record("qty 0 was accepted")
        } catch {
            #expect(error.row == 2 && error.column == "qty")
        }
    }

    static let suzhouSchool = Organisation(id: 7, kind: .school, name: "苏州技师学院", province: "32", city: "苏州市")
    static let agency = Organisation(id: 8, kind: .hrAgency, name: "苏州人力资源服务公司", province: "32", city: "苏州市")
    static let factory = Organisation(id: 9, kind: .enterprise, name: "苏州电子厂", province: "32", city: "苏州市")

    @Test func anOfferRowNamesAnOrganisationOfTheScope() throws {
        let converter = try ImportConverter(
            target: .offers, header: ["org", "kind", "occupations", "capacity", "from", "to", "place"], counties: [],
            occupations: ["6-01"], organisations: [7: Self.suzhouSchool], scope: .eastCity("苏州市"))
        guard case .offer(let offer) = try converter.convert(Self.fields("7,training,6-01,12,2027-01-01,2027-12-31,苏州"), row: 1) else {
            Issue.record("an offer row gave no offer")
            return
        }
        #expect(offer.organisation == 7 && offer.kind == .training && offer.capacity == 12 && offer.place == "苏州")
        #expect(throws: ImportConverter.RowError.self) { try converter.convert(Self.fields("8,training,6-01,12,2027-01-01,2027-12-31,x"), row: 2) }
    }

    @Test func kindDetailsAndIntermediariesComeFromTheirColumns() throws {
        let needs = try ImportConverter(
            target: .needs, header: ["county", "kind", "occupations", "qty", "from", "to", "years", "school", "partnership", "conditions"],
            counties: ["520204"], occupations: ["6-01"], organisations: [:], scope: .county("520204"))
        guard case .need(let enrolment) = try needs.convert(Self.fields("520204,enrolment,6-01,40,2027-09-01,2027-09-30,3,,,housing;wage_guarantee"), row: 1)
        else { Issue.record("an enrolment row gave no need"); return }
        #expect(enrolment.details.termMonths == 36 && enrolment.conditions == ["housing", "wage_guarantee"])
        guard case .need(let partnership) = try needs.convert(Self.fields("520204,school_partnership,6-01,1,2027-01-01,2027-12-31,,水城区职业技术学校,enterprise,"), row: 2)
        else { Issue.record("a partnership row gave no need"); return }
        #expect(partnership.details.westSchool == "水城区职业技术学校" && partnership.details.partnership == .enterprise)
        for bad in ["520204,enrolment,6-01,40,2027-09-01,2027-09-30,,,,", "520204,labor,6-01,40,2027-09-01,2027-09-30,3,,,",
                    "520204,school_partnership,6-01,1,2027-01-01,2027-12-31,,,school,"] {
            #expect(throws: ImportConverter.RowError.self) { try needs.convert(Self.fields(bad), row: 3) }
        }
        let offers = try ImportConverter(
            target: .offers, header: ["org", "kind", "occupations", "capacity", "from", "to", "quality", "employer", "partnership"], counties: [],
            occupations: ["6-01"], organisations: [7: Self.suzhouSchool, 8: Self.agency, 9: Self.factory], scope: .eastProvince("32"))
        guard case .offer(let posts) = try offers.convert(Self.fields("8,labor,6-01,50,2027-01-01,2027-12-31,30,9,"), row: 1)
        else { Issue.record("an intermediary's row gave no offer"); return }
        #expect(posts.organisation == 8 && posts.employer == 9 && posts.quality == 30)
        guard case .offer(let partner) = try offers.convert(Self.fields("7,school_partnership,6-01,2,2027-01-01,2027-12-31,,,"), row: 2)
        else { Issue.record("a school's partnership row gave no offer"); return }
        #expect(partner.details.partnership == .school)
        // An intermediary names an employer, and only an enterprise; nobody else names one.
        for bad in ["8,labor,6-01,50,2027-01-01,2027-12-31,,,", "8,labor,6-01,50,2027-01-01,2027-12-31,,7,", "9,labor,6-01,5,2027-01-01,2027-12-31,,9,",
                    "8,training,6-01,5,2027-01-01,2027-12-31,,9,", "9,labor,6-01,5,2027-01-01,2027-12-31,51,,"] {
            #expect(throws: ImportConverter.RowError.self) { try offers.convert(Self.fields(bad), row: 3) }
        }
    }
}
