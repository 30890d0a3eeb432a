import MatchingEngine
import Testing

@Suite struct CandidateTests {
    static func code(_ s: String) -> OccupationCode { OccupationCode(s)! }

    @Test func occupationFitFollowsTheTree() {
        #expect(OccupationFit(Self.code("2-05-01-01"), Self.code("2-05-01-01")) == .sameOccupation)
        #expect(OccupationFit(Self.code("2-05-01-01"), Self.code("2-05-01-02")) == .sameSmallGroup)
        #expect(OccupationFit(Self.code("2-05-01"), Self.code("2-05-01-02")) == .sameSmallGroup)
        #expect(OccupationFit(Self.code("2-05-01-01"), Self.code("2-05-02-01")) == .sameMidGroup)
        #expect(OccupationFit(Self.code("2-05-01-01"), Self.code("2-06-01-01")) == nil)
        #expect(OccupationFit(Self.code("2"), Self.code("2")) == nil)
        #expect(OccupationFit(Self.code("2-05"), Self.code("2-05")) == .sameOccupation)
        #expect(OccupationCode("2-x") == nil && OccupationCode("2-05-01-01-01") == nil && OccupationCode("") == nil)
    }

    static let pairings = Pairings(
        countyLevel: [PairKey(west: "GZ01", east: "Guangzhou")],
        provinceLevel: [PairKey(west: "GZ", east: "GD")],
        earlier: [PairKey(west: "GZ", east: "SH")])

    static func need(_ id: Int64, county: String = "GZ01", codes: [String] = ["6-03-03-01"], quantity: Int64 = 10,
                     window: TimeWindow = TimeWindow(start: 0, end: 30), priority: Int = 3) -> NeedRecord {
        NeedRecord(
            id: id, county: county, province: String(county.prefix(2)), kind: .labor,
            occupations: codes.map(code), quantity: quantity, window: window, priority: priority)
    }

    static func offer(_ id: Int64, province: String = "GD", city: String = "Shenzhen", kind: Kind = .labor,
                      codes: [String] = ["6-03-03-01"], capacity: Int64 = 10,
                      window: TimeWindow = TimeWindow(start: 10, end: 40)) -> OfferRecord {
        OfferRecord(
            id: id, province: province, city: city, kind: kind, occupations: codes.map(code), capacity: capacity,
            window: window, quality: 20, conditions: [.housing])
    }

    @Test func pairingLevelsAndScoreParts() throws {
        var weights = ScoreWeights()
        weights.perQualityPoint = 2
        let builder = CandidateBuilder(weights: weights, pairings: Self.pairings)
        var n = Self.need(1)
        n.povertyAlleviated = true
        n.wantedConditions = [.housing, .travelSupport]
        let levels = [
            (Self.offer(1, city: "Guangzhou"), PairingLevel.currentCounty),
            (Self.offer(2), .currentProvince),
            (Self.offer(3, province: "SH", city: "Shanghai"), .earlier),
            (Self.offer(4, province: "BJ", city: "Beijing"), .none),
        ]
        var last = Int64.max
        for (o, level) in levels {
            let b = try #require(builder.explain(n, o))
            #expect(b.pairing == level)
            #expect(b.total < last)
            last = b.total
            #expect(b.occupationPoints == weights.sameOccupation)
            #expect(b.priorityPoints == 3 * weights.perPriority)
            #expect(b.povertyPoints == weights.povertyAlleviated)
            #expect(b.overlapPoints == weights.fullOverlap * 20 / 30)
            #expect(b.conditionPoints == weights.perCondition)
            #expect(b.qualityPoints == 40)
            #expect(b.total == b.parts.reduce(0) { $0 + $1.points })
        }
    }

    @Test func exclusions() {
        let builder = CandidateBuilder(declined: [PairID(need: 1, offer: 9)])
        let n = Self.need(1)
        #expect(builder.explain(n, Self.offer(9)) == nil)  // declined
        #expect(builder.explain(n, Self.offer(2, kind: .training)) == nil)
        #expect(builder.explain(n, Self.offer(2, window: TimeWindow(start: 30, end: 40))) == nil)  // touching only
        #expect(builder.explain(n, Self.offer(2, codes: ["6-04-03-01"])) == nil)
        #expect(builder.explain(n, Self.offer(2, capacity: 0)) == nil)
        #expect(builder.explain(Self.need(1, quantity: 0), Self.offer(2)) == nil)
        #expect(builder.explain(n, Self.offer(2)) != nil)
    }

    /// Random records over a small code tree: the index finds exactly the pairs a dense
    /// scan of needs × offers finds, with the same scores; the order of records does not
    /// matter; every mode's solution verifies and maps back to ids.
    @Test(arguments: UInt64(1)...25)
    func indexEqualsDenseScanAndOrderDoesNotMatter(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        func codes() -> [OccupationCode] {
            (0..<rng.between(1, 3)).map { _ in
                let depth = rng.between(1, 4)
                let parts = ["\(rng.between(1, 2))", "0\(rng.between(1, 3))", "0\(rng.between(1, 3))", "0\(rng.between(1, 2))"]
                return OccupationCode(parts[0..<depth].joined(separator: "-"))!
            }
        }
        func window() -> TimeWindow {
            let s = rng.between(0, 50)
            return TimeWindow(start: s, end: s + rng.between(1, 30))
        }
        let counties = ["GZ01", "GZ02", "YN01"]
        let needs = (0..<30).map { k in
            NeedRecord(
                id: Int64(1000 - 7 * k), county: counties[rng.below(3)], province: "GZ",
                kind: Kind.allCases[rng.below(2)], occupations: codes(), quantity: Int64(rng.between(0, 20)),
                window: window(), priority: rng.between(1, 5), povertyAlleviated: rng.below(2) == 0,
                wantedConditions: Set(Condition.allCases.filter { _ in rng.below(3) == 0 }))
        }
        let offers = (0..<40).map { k in
            OfferRecord(
                id: Int64(5 * k + 3), province: ["GD", "SH", "BJ"][rng.below(3)], city: ["Guangzhou", "Shanghai"][rng.below(2)],
                kind: Kind.allCases[rng.below(2)], occupations: codes(), capacity: Int64(rng.between(0, 15)),
                window: window(), quality: rng.between(0, 50),
                conditions: Set(Condition.allCases.filter { _ in rng.below(2) == 0 }))
        }
        let declined: Set<PairID> = Set((0..<20).map { _ in PairID(need: needs[rng.below(30)].id, offer: offers[rng.below(40)].id) })
        let builder = CandidateBuilder(pairings: Self.pairings, declined: declined)
        let set = try builder.build(needs: needs, offers: offers)

        var dense: [String: Int64] = [:]
        for n in needs {
            for o in offers {
                if let b = builder.explain(n, o) { dense["\(n.id) \(o.id)"] = b.total }
            }
        }
        var indexed: [String: Int64] = [:]
        for e in 0..<set.problem.edgeCount {
            let key = "\(set.needs[Int(set.problem.edgeNeed[e])].id) \(set.offers[Int(set.problem.edgeOffer[e])].id)"
            indexed[key] = set.problem.score[e]
            #expect(set.breakdown(e).total == set.problem.score[e])
            #expect(set.breakdown(e).offerView == set.problem.offerPreference[e])
        }
        #expect(indexed == dense)

        var shuffleRNG = SplitMix64(seed: seed + 99)
        let again = try builder.build(needs: needs.shuffled(using: &shuffleRNG), offers: offers.shuffled(using: &shuffleRNG))
        #expect(again.problem == set.problem)
        for mode in PropertyTests.modes {
            let s = try Solver.solve(set.problem, mode: mode)
            #expect(Verifier.verify(set.problem, s) == .verified)
            #expect(try Solver.solve(again.problem, mode: mode) == s)
            #expect(set.matches(s).reduce(0) { $0 + $1.units } == s.units)
        }
    }

    /// Built in slices of the needs, in whatever order the slices run, the set is the one a
    /// single pass builds: the slices are joined in need order.
    @Test func slicesBuiltInAnyOrderGiveTheSameSet() throws {
        var rng = SplitMix64(seed: 7)
        let codes = ["2-01-01-01", "2-01-02-01", "2-02-01-01", "6-01-01-02", "6-01-02-01"].map { OccupationCode($0)! }
        func window() -> TimeWindow {
            let s = rng.between(0, 300)
            return TimeWindow(start: s, end: s + rng.between(30, 200))
        }
        let needs = (0..<1_200).map { k in
            NeedRecord(
                id: Int64(k + 1), county: ["GZ01", "GZ02"][rng.below(2)], province: "GZ", kind: Kind.allCases[rng.below(2)],
                occupations: [codes[rng.below(codes.count)]], quantity: Int64(rng.between(1, 20)), window: window(),
                priority: rng.between(1, 5), povertyAlleviated: rng.below(2) == 0, wantedConditions: [])
        }
        let offers = (0..<300).map { k in
            OfferRecord(
                id: Int64(k + 1), province: "GD", city: "Guangzhou", kind: Kind.allCases[rng.below(2)],
                occupations: [codes[rng.below(codes.count)]], capacity: Int64(rng.between(1, 30)), window: window(),
                quality: rng.between(0, 50), conditions: [])
        }
        let builder = CandidateBuilder(pairings: Self.pairings)
        let once = try builder.build(needs: needs, offers: offers)
        let sliced = try builder.build(needs: needs, offers: offers) { count, body in
            #expect(count > 1, "so many needs are built in slices")
            for index in (0..<count).reversed() { body(index) }
        }
        #expect(sliced.problem == once.problem)
        // And the pairs are those a dense scan of needs × offers finds, in (need, offer) order.
        var dense: [Int64] = []
        for (i, need) in once.needs.enumerated() {
            for offer in once.offers {
                if let breakdown = builder.explain(need, offer) { dense += [Int64(i), offer.id, breakdown.total] }
            }
        }
        let built = (0..<once.problem.edgeCount).flatMap { e in
            [Int64(once.problem.edgeNeed[e]), once.offers[Int(once.problem.edgeOffer[e])].id, once.problem.score[e]]
        }
        #expect(once.problem.edgeCount > 10_000)
        #expect(built == dense)
    }

    @Test func duplicateIDsAreRejected() {
        #expect(throws: MatchingError.self) {
            _ = try CandidateBuilder().build(needs: [Self.need(1), Self.need(1)], offers: [Self.offer(1)])
        }
    }
}
