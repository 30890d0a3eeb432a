import MatchingEngine
import Testing

@Suite struct InstanceFormatTests {
    static let good = """
        2 2 3
        0 SN03 SN JS labor 5 2 5 34 6-03-03
        1 GX01 GX GD labor 3 4 0 10 6-03-03,6-03-04
        0 GD labor 4 12 0 20 6-03-03
        1 JS labor 2 0 3 40 6-03-04
        0 0 500
        1 0 400
        1 1 300

        """

    @Test func readsTheFormat() throws {
        let p = try InstanceFormat.parse(Self.good)
        #expect(p.quantity == [5, 3] && p.capacity == [4, 2])
        #expect(p.edgeNeed == [0, 1, 1] && p.edgeOffer == [0, 0, 1] && p.score == [500, 400, 300])
        #expect(p.groupNames == ["SN03", "GX01"])
        // Tag fit 450 × common ÷ max(sizes).
        #expect(p.offerPreference == [450, 225, 225])
        let s = try Solver.solve(p, mode: .optimal(.score))
        #expect(s.totalScore == 4 * 500 + 2 * 300)
    }

    @Test(arguments: [
        ("", "line 1"),
        ("1 0 0\n1 A B C labor 1 1 0 2 1-01\n", "need line 0 has index 1"),
        ("1 0 0\n0 A B C labor x 1 0 2 1-01\n", "integer quantity"),
        ("1 1 1\n0 A B C labor 1 1 0 2 1-01\n0 GD labor 1 1 0 2 1-01\n0 1 5\n", "out of range"),
        ("2 1 2\n0 A B C labor 1 1 0 2 1-01\n1 A B C labor 1 1 0 2 1-01\n0 GD labor 1 1 0 2 1-01\n1 0 5\n0 0 5\n", "not after"),
        ("1 1 1\n0 A B C labor 1 1 0 2 1-01\n0 GD labor 1 1 0 2 1-01\n0 0 5\n0 0 5\n", "after the 1 edge lines"),
        ("1 1 1\n0 A B C labor 1 1 0 2 1-01\n0 GD labor 1 1 0 2 1-01\n0 0 0\n", "score 0"),
        ("1 1 0\n0 A B C labor -1 1 0 2 1-01\n", "negative quantity"),
    ])
    func rejectsBadFiles(text: String, message: String) {
        #expect {
            _ = try InstanceFormat.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func recordsRebuildTheBenchEdges() throws {
        // The bench generator pairs same kind + a common tag (here: exact codes), so every
        // file edge is a candidate built from the records, at "same occupation" fit.
        let text = try Fixture.text("small_s1.txt")
        let p = try InstanceFormat.parse(text)
        let records = try Fixture.records("small_s1.txt")
        // Without time windows in the generator, drop them: every window covers all weeks.
        let needs = records.needs.map { var r = $0; r.window = TimeWindow(start: 0, end: 200); return r }
        let offers = records.offers.map { var r = $0; r.window = TimeWindow(start: 0, end: 200); return r }
        let set = try CandidateBuilder(pairings: records.pairings).build(needs: needs, offers: offers)
        var built = Set<Int64>()
        for e in 0..<set.problem.edgeCount where set.breakdown(e).fit == .sameOccupation {
            built.insert(set.needs[Int(set.problem.edgeNeed[e])].id << 32 | set.offers[Int(set.problem.edgeOffer[e])].id)
        }
        let file = Set((0..<p.edgeCount).map { Int64(p.edgeNeed[$0]) << 32 | Int64(p.edgeOffer[$0]) })
        #expect(built == file)
    }
}
