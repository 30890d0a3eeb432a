@testable import MatchCore
import MatchingEngine
import Testing

@Suite("Import rows become typed needs and offers")
struct ImportRowTests {
    static func fields(_ line: String) -> [[UInt8]] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { Array($0.utf8) }
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

    @Test func anOfferRowNamesAnOrganisationOfTheScope() throws {
        let converter = try ImportConverter(
            target: .offers, header: ["org", "kind", "occupations", "capacity", "from", "to", "place"], counties: [],
            occupations: ["6-01"], organisations: [7: ("32", "苏州市")], scope: .eastCity("苏州市"))
        guard case .offer(let offer) = try converter.convert(Self.fields("7,training,6-01,12,2027-01-01,2027-12-31,苏州"), row: 1) else {
            Issue.record("an offer row gave no offer")
            return
        }
        #expect(offer.organisation == 7 && offer.kind == .training && offer.capacity == 12 && offer.place == "苏州")
        #expect(throws: ImportConverter.RowError.self) { try converter.convert(Self.fields("8,training,6-01,12,2027-01-01,2027-12-31,x"), row: 2) }
    }
}
