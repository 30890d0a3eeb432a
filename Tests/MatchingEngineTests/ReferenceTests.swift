import Foundation
import MatchingEngine
import Testing

/// Agreement with the reference solvers' stored results (`../shared/bench/refs`, copied
/// into Fixtures): OR-Tools' optimal objectives and the reference deferred acceptance
/// (`solve_stable.py --offer-pref fit`), flow for flow.
@Suite struct ReferenceTests {
    @Test(arguments: [
        ("tiny_s1.txt", "optimal_tiny.txt", Int64(177_139), Int64(324)),
        ("small_s1.txt", "optimal_small.txt", 11_038_529, 19_623),
        ("small_s5.txt", "optimal_small5.txt", 10_671_495, 19_008),
    ])
    func optimalObjective(instance: String, reference: String, objective: Int64, units: Int64) throws {
        let p = try Fixture.problem(instance)
        let s = try Solver.solve(p, mode: .optimal(.score))
        #expect(s.totalScore == objective)
        #expect(s.units == units)
        #expect(Verifier.verify(p, s) == .verified)
        // The stored OR-Tools flow reaches the same objective (flows need not be equal).
        var refScore: Int64 = 0
        let scoreOf = Dictionary(
            uniqueKeysWithValues: (0..<p.edgeCount).map { ("\(p.edgeNeed[$0]) \(p.edgeOffer[$0])", p.score[$0]) })
        for line in try Fixture.text(reference).split(separator: "\n") {
            let f = line.split(separator: " ")
            refScore += scoreOf["\(f[0]) \(f[1])"]! * Int64(f[2])!
        }
        #expect(refScore == objective)
    }

    @Test(arguments: [
        ("tiny_s1.txt", "stable_tiny_resident_fit.txt", Mode.Side.needs),
        ("tiny_s1.txt", "stable_tiny_hospital_fit.txt", .offers),
        ("small_s1.txt", "stable_small_resident_fit.txt", .needs),
        ("small_s1.txt", "stable_small_hospital_fit.txt", .offers),
        ("small_s5.txt", "stable_small5_resident_fit.txt", .needs),
        ("small_s5.txt", "stable_small5_hospital_fit.txt", .offers),
    ])
    func stableFlows(instance: String, reference: String, side: Mode.Side) throws {
        let p = try Fixture.problem(instance)
        let s = try Solver.solve(p, mode: .stable(side))
        #expect(p.flowText(s.flow) == (try Fixture.text(reference)))
        #expect(Verifier.verify(p, s) == .verified)
    }

    @Test(arguments: ["tiny_s1.txt", "small_s1.txt", "small_s5.txt"])
    func everyModeVerifies(instance: String) throws {
        let p = try Fixture.problem(instance)
        let optimum = try Solver.solve(p, mode: .optimal(.score))
        let unitsFirst = try Solver.solve(p, mode: .optimal(.unitsFirst))
        let fair = try Solver.solve(p, mode: .fair)
        for s in [unitsFirst, fair] {
            #expect(Verifier.verify(p, s) == .verified)
            #expect(s.totalScore <= optimum.totalScore)
        }
        #expect(unitsFirst.units >= optimum.units)
        // With share 1 every unit is a first-share unit: fair becomes units-first.
        let whole = try Solver.solve(p, mode: .fair(share: Fraction(1, 1)))
        #expect(whole.units == unitsFirst.units && whole.totalScore == unitsFirst.totalScore)
    }

    /// The fair mode's promise on real data: no county is left with nothing while the
    /// pairs could serve it.
    @Test func fairServesFirstSharesFirst() throws {
        let p = try Fixture.problem("small_s1.txt")
        let share = Fraction(3, 10)
        let fair = try Solver.solve(p, mode: .fair(share: share))
        let optimum = try Solver.solve(p, mode: .optimal(.score))
        let fairShares = BruteForce.firstShareUnits(p, fair.flow, share: share)
        #expect(fairShares >= BruteForce.firstShareUnits(p, optimum.flow, share: share))
        #expect(Summary(p, fair).smallestGroupFill >= Summary(p, optimum).smallestGroupFill)
    }
}
