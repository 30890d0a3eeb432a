import MatchingEngine
import Testing

/// Exhaustive search on hundreds of seeded tiny problems.
@Suite struct OracleTests {
    static let seeds = Array(UInt64(1)...300)

    static func problem(_ seed: UInt64) -> MatchingProblem {
        var rng = SplitMix64(seed: seed)
        return .random(&rng, needs: rng.between(1, 3), offers: rng.between(1, 3), groups: rng.between(1, 2))
    }

    @Test(arguments: seeds)
    func optimalScore(seed: UInt64) throws {
        let p = Self.problem(seed)
        let s = try Solver.solve(p, mode: .optimal(.score))
        #expect(Verifier.verify(p, s) == .verified)
        #expect([s.totalScore] == BruteForce.best(p) { [BruteForce.score(p, $0)] })
    }

    @Test(arguments: seeds)
    func unitsFirst(seed: UInt64) throws {
        let p = Self.problem(seed)
        let s = try Solver.solve(p, mode: .optimal(.unitsFirst))
        #expect(Verifier.verify(p, s) == .verified)
        #expect([s.units, s.totalScore] == BruteForce.best(p) { [$0.reduce(0, +), BruteForce.score(p, $0)] })
    }

    @Test(arguments: seeds)
    func fair(seed: UInt64) throws {
        let p = Self.problem(seed)
        let share = Fraction(Int64(seed % 4) + 1, 4)
        let s = try Solver.solve(p, mode: .fair(share: share))
        #expect(Verifier.verify(p, s) == .verified)
        let got = [BruteForce.firstShareUnits(p, s.flow, share: share), s.totalScore]
        #expect(got == BruteForce.best(p) { [BruteForce.firstShareUnits(p, $0, share: share), BruteForce.score(p, $0)] })
    }

    @Test(arguments: seeds)
    func stableEqualsUnitLevelDeferredAcceptance(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed &* 7919)
        let p = MatchingProblem.random(&rng, needs: rng.between(1, 5), offers: rng.between(1, 5))
        for side in Mode.Side.allCases {
            let s = try Solver.solve(p, mode: .stable(side))
            #expect(Verifier.verify(p, s) == .verified)
            #expect(s.flow == UnitDeferredAcceptance.solve(p, needsPropose: side == .needs))
        }
    }
}
