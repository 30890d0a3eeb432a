import MatchingEngine
import Testing

/// Properties on larger random problems, where exhaustive search is out of reach.
@Suite struct PropertyTests {
    static func problem(_ seed: UInt64, needs: Int = 40, offers: Int = 60) -> MatchingProblem {
        var rng = SplitMix64(seed: seed)
        var en: [Int32] = []
        var eo: [Int32] = []
        var sc: [Int64] = []
        for i in 0..<needs {
            for j in 0..<offers where rng.below(100) < 12 {
                en.append(Int32(i))
                eo.append(Int32(j))
                sc.append(Int64(rng.between(1, 1000)))
            }
        }
        return try! MatchingProblem(
            quantity: (0..<needs).map { _ in Int64(rng.between(0, 60)) },
            capacity: (0..<offers).map { _ in Int64(rng.between(0, 40)) },
            edgeNeed: en, edgeOffer: eo, score: sc,
            needGroup: (0..<needs).map { _ in Int32(rng.below(8)) }, groupNames: (0..<8).map { "C\($0)" })
    }

    static let modes: [Mode] = [.optimal(.score), .optimal(.unitsFirst), .fair, .stable(.needs), .stable(.offers)]

    @Test(arguments: UInt64(1)...40)
    func everyModeIsFeasibleAndCertified(seed: UInt64) throws {
        let p = Self.problem(seed)
        for mode in Self.modes {
            let s = try Solver.solve(p, mode: mode)
            #expect(Verifier.verify(p, s) == .verified, "\(mode)")
        }
    }

    /// The potentials read as LP duals prove the optimum by strong duality: dual feasible,
    /// and the dual objective Σ q·u + Σ c·v equals the total score.
    @Test(arguments: UInt64(1)...40)
    func potentialsAreLPDualsWithEqualObjective(seed: UInt64) throws {
        let p = Self.problem(seed)
        let s = try Solver.solve(p, mode: .optimal(.score))
        guard case .potentials(let pi) = s.certificate else {
            Issue.record("no potentials")
            return
        }
        let u = pi.need
        let v = pi.offer.map { max(0, -$0) }
        #expect(u.allSatisfy { $0 >= 0 })
        for e in 0..<p.edgeCount {
            #expect(u[Int(p.edgeNeed[e])] + v[Int(p.edgeOffer[e])] >= p.score[e])
        }
        let dual = zip(p.quantity, u).reduce(0) { $0 + $1.0 * $1.1 } + zip(p.capacity, v).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(dual == s.totalScore)
    }

    /// Blocks with no pair between them, as kinds are: `optimal` mode solves each on its own,
    /// in whatever order (or at once) the caller runs them, and the whole is still optimal and
    /// certified, with each block's optimum as if it were solved alone.
    @Test(arguments: UInt64(1)...20)
    func disjointBlocksSolveApartToTheWholeOptimum(seed: UInt64) throws {
        let blocks = (0..<3).map { Self.problem(seed &* 31 &+ UInt64($0), needs: 15 + 5 * $0, offers: 20) }
        var quantity: [Int64] = []
        var capacity: [Int64] = []
        var en: [Int32] = []
        var eo: [Int32] = []
        var sc: [Int64] = []
        var groups: [Int32] = []
        for block in blocks {
            let (needBase, offerBase) = (Int32(quantity.count), Int32(capacity.count))
            en += block.edgeNeed.map { $0 + needBase }
            eo += block.edgeOffer.map { $0 + offerBase }
            sc += block.score
            quantity += block.quantity
            capacity += block.capacity
            groups += block.needGroup
        }
        let whole = try MatchingProblem(
            quantity: quantity, capacity: capacity, edgeNeed: en, edgeOffer: eo, score: sc, needGroup: groups,
            groupNames: (0..<8).map { "C\($0)" })
        for objective in Mode.Objective.allCases {
            let mode = Mode.optimal(objective)
            let inOrder = try Solver.solve(whole, mode: mode)
            let reversed = try Solver.solve(whole, mode: mode) { count, body in
                for index in (0..<count).reversed() { body(index) }
            }
            #expect(Verifier.verify(whole, inOrder) == .verified, "\(mode)")
            #expect(reversed == inOrder, "\(mode)")
        }
        let apart = try blocks.map { try Solver.solve($0, mode: .optimal(.score)) }
        let together = try Solver.solve(whole, mode: .optimal(.score))
        #expect(together.totalScore == apart.reduce(0) { $0 + $1.totalScore })
        #expect(together.units == apart.reduce(0) { $0 + $1.units })
        // Counties join the blocks in fair mode: solved whole, and still certified.
        #expect(Verifier.verify(whole, try Solver.solve(whole, mode: .fair)) == .verified)
    }

    @Test(arguments: UInt64(1)...40)
    func moreCapacityNeverLowersTheOptimum(seed: UInt64) throws {
        let p = Self.problem(seed)
        var rng = SplitMix64(seed: seed ^ 0xABCD)
        var capacity = p.capacity
        capacity[rng.below(capacity.count)] += Int64(rng.between(1, 30))
        let q = try MatchingProblem(
            quantity: p.quantity, capacity: capacity, edgeNeed: p.edgeNeed, edgeOffer: p.edgeOffer, score: p.score)
        let before = try Solver.solve(p, mode: .optimal(.score))
        let after = try Solver.solve(q, mode: .optimal(.score))
        #expect(after.totalScore >= before.totalScore)
        #expect(try Solver.solve(q, mode: .optimal(.unitsFirst)).units >= Solver.solve(p, mode: .optimal(.unitsFirst)).units)
    }

    @Test(arguments: UInt64(1)...20)
    func sameProblemSameBytes(seed: UInt64) throws {
        let p = Self.problem(seed)
        for mode in Self.modes {
            #expect(try Solver.solve(p, mode: mode) == Solver.solve(Self.problem(seed), mode: mode))
        }
    }

    @Test func tamperedSolutionsFail() throws {
        let p = Self.problem(7)
        let s = try Solver.solve(p, mode: .optimal(.score))
        guard case .potentials(let pi) = s.certificate else {
            Issue.record("no potentials")
            return
        }
        // A pair at reduced cost 0 carrying flow: bump its need's potential.
        let e = try #require((0..<p.edgeCount).first { s.flow[$0] > 0 })
        var need = pi.need
        need[Int(p.edgeNeed[e])] += 1
        let badCertificate = Solution(
            mode: s.mode, flow: s.flow, certificate: .potentials(Potentials(need: need, offer: pi.offer, group: pi.group)),
            totalScore: s.totalScore, units: s.units, pivots: 0)
        #expect(Verifier.verify(p, badCertificate) != .verified)
        var flow = s.flow
        flow[e] -= 1
        let lessFlow = Solution(
            mode: s.mode, flow: flow, certificate: s.certificate, totalScore: s.totalScore - p.score[e],
            units: s.units - 1, pivots: 0)
        #expect(Verifier.verify(p, lessFlow) != .verified)
        var over = s.flow
        over[e] += p.quantity[Int(p.edgeNeed[e])]
        let tooMuch = Solution(
            mode: s.mode, flow: over, certificate: s.certificate, totalScore: BruteForce.score(p, over),
            units: over.reduce(0, +), pivots: 0)
        #expect(Verifier.verify(p, tooMuch) != .verified)
    }

    @Test func greedyIsNotStableUnderFitPreferences() throws {
        // Need 0 prefers offer 0 (score), offer 0 prefers need 1 (fit): stable outcomes
        // differ from the score-greedy one, and the verifier finds the blocking pair.
        let p = try MatchingProblem(
            quantity: [1, 1], capacity: [1, 1], edgeNeed: [0, 0, 1], edgeOffer: [0, 1, 0], score: [9, 5, 8],
            offerPreference: [1, 1, 2])
        let s = try Solver.solve(p, mode: .stable(.needs))
        #expect(p.flowText(s.flow) == "0 1 1\n1 0 1\n")
        let greedy = Solution(
            mode: .stable(.needs), flow: [1, 0, 0], certificate: .stability, totalScore: 9, units: 1, pivots: 0)
        #expect(Verifier.verify(p, greedy) != .verified)
    }

    @Test func firstShareIsExactCeiling() {
        let f = Fraction(3, 10)
        #expect([0, 1, 10, 11, 595].map(f.ceilTimes) == [0, 1, 3, 4, 179])
        let fine = Fraction(999_999_999_999_999, 1_000_000_000_000_000)
        #expect(fine.ceilTimes(2_000_000_000_000_001) == 1_999_999_999_999_999)
    }

    @Test func problemsThatCouldOverflowAreRefused() {
        #expect(throws: MatchingError.self) {
            _ = try MatchingProblem(quantity: [1 << 59, 1 << 59], capacity: [1], edgeNeed: [], edgeOffer: [], score: [])
        }
        #expect(throws: MatchingError.self) {
            _ = try MatchingProblem(
                quantity: [1 << 40], capacity: [1 << 40], edgeNeed: [0], edgeOffer: [0], score: [1 << 30])
        }
        #expect(throws: MatchingError.self) {
            _ = try MatchingProblem(quantity: [1], capacity: [1], edgeNeed: [0], edgeOffer: [1], score: [5])
        }
    }

    @Test func summaryFigures() throws {
        let p = try MatchingProblem(
            quantity: [4, 2, 3, 0], capacity: [5], edgeNeed: [0, 1], edgeOffer: [0, 0], score: [10, 20],
            needGroup: [0, 1, 1, 0], groupNames: ["A", "B"])
        let s = try Solver.solve(p, mode: .optimal(.score))
        let sum = Summary(p, s, solveSeconds: 0.5)
        #expect(sum.units == 5 && sum.totalScore == 70)
        #expect(sum.needsFullyMet == 1 && sum.needsPartlyMet == 1 && sum.needsNotMet == 1)
        #expect(sum.groupsServed == 2 && sum.groupsWithDemand == 2)
        #expect(sum.smallestGroupFill == 0.4)
        // Fills 0.75 and 0.4: |0.75 - 0.4| / (2 × 2 × 0.575) × 2.
        #expect(abs(sum.giniOfGroupFill - 0.35 / (2 * 1.15)) < 1e-12)
        #expect(sum.solveSeconds == 0.5)
        #expect(sum.firstSharesMet == nil)
        // Shares ⌈0.5 × 4⌉ = 2 for A (met) and ⌈0.5 × 5⌉ = 3 for B, whose only pair
        // (need 1) can take 2.
        #expect(Summary(p, try Solver.solve(p, mode: .fair(share: Fraction(1, 2)))).firstSharesMet == 1)
    }
}
