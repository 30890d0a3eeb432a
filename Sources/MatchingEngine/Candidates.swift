/// All the weights of the score, in one place. A pair's score is the sum of the parts
/// below (all integers, so sums are exact); the defaults keep every score in 1...1060.
///
/// | part | points |
/// | --- | --- |
/// | occupation fit | `sameOccupation` / `sameSmallGroup` / `sameMidGroup` (best over the codes) |
/// | pairing | `countyPairing` / `provincePairing` / `earlierPairing` / 0 |
/// | need priority | `perPriority` × priority (1...5) |
/// | poverty-alleviated | `povertyAlleviated` if the need says so |
/// | key county | `keyCounty` if the need's county is a national key assistance county (倾斜) |
/// | time overlap | `fullOverlap` × overlap ÷ length of the need's window (rounded down) |
/// | conditions | `perCondition` × conditions the need asks for that the offer provides |
/// | quality | `perQualityPoint` × the offer's quality (0...50) |
/// | employment base | `employmentBase` if the offer's organisation is a recognised 就业帮扶基地 |
/// | continuity | `continuity` if the offer's organisation had a confirmed match with the need's county the year before (稳定) |
///
/// In `stable` mode a need ranks offers by the whole score; an offer ranks needs by its own
/// view: occupation fit + need priority + poverty-alleviated + key county.
public struct ScoreWeights: Sendable, Hashable {
    public var sameOccupation: Int64 = 300
    public var sameSmallGroup: Int64 = 200
    public var sameMidGroup: Int64 = 100
    public var countyPairing: Int64 = 250
    public var provincePairing: Int64 = 200
    public var earlierPairing: Int64 = 100
    public var perPriority: Int64 = 30
    public var povertyAlleviated: Int64 = 100
    public var keyCounty: Int64 = 20
    public var fullOverlap: Int64 = 80
    public var perCondition: Int64 = 10
    public var perQualityPoint: Int64 = 1
    public var employmentBase: Int64 = 20
    public var continuity: Int64 = 30

    public init() {}

    public static let `default` = ScoreWeights()

    func validate() throws(MatchingError) {
        let all = [
            sameOccupation, sameSmallGroup, sameMidGroup, countyPairing, provincePairing, earlierPairing,
            perPriority, povertyAlleviated, keyCounty, fullOverlap, perCondition, perQualityPoint, employmentBase, continuity,
        ]
        guard all.allSatisfy({ (0...1_000_000).contains($0) }), sameMidGroup > 0 else {
            throw .invalidRecord("weights must lie in 0...1,000,000 and sameMidGroup must be positive")
        }
    }

    func points(_ fit: OccupationFit) -> Int64 {
        switch fit {
        case .sameOccupation: sameOccupation
        case .sameSmallGroup: sameSmallGroup
        case .sameMidGroup: sameMidGroup
        }
    }

    func points(_ pairing: PairingLevel) -> Int64 {
        switch pairing {
        case .currentCounty: countyPairing
        case .currentProvince: provincePairing
        case .earlier: earlierPairing
        case .none: 0
        }
    }
}

/// One pair's score, part by part.
public struct ScoreBreakdown: Sendable, Hashable, CustomStringConvertible {
    public let fit: OccupationFit
    public let pairing: PairingLevel
    public let occupationPoints: Int64
    public let pairingPoints: Int64
    public let priorityPoints: Int64
    public let povertyPoints: Int64
    public let keyCountyPoints: Int64
    public let overlapPoints: Int64
    public let conditionPoints: Int64
    public let qualityPoints: Int64
    public let basePoints: Int64
    public let continuityPoints: Int64

    public var total: Int64 {
        occupationPoints + pairingPoints + priorityPoints + povertyPoints + keyCountyPoints + overlapPoints + conditionPoints
            + qualityPoints + basePoints + continuityPoints
    }

    /// How the offer ranks the need in `stable` mode.
    public var offerView: Int64 { occupationPoints + priorityPoints + povertyPoints + keyCountyPoints }

    /// The parts' names, in the order every explanation gives them.
    public static let partNames = [
        "occupation", "pairing", "priority", "poverty", "key-county", "overlap", "conditions", "quality", "base", "continuity",
    ]

    public var parts: [(name: String, points: Int64)] {
        Array(
            zip(
                Self.partNames,
                [
                    occupationPoints, pairingPoints, priorityPoints, povertyPoints, keyCountyPoints, overlapPoints, conditionPoints,
                    qualityPoints, basePoints, continuityPoints,
                ]))
    }

    public var description: String {
        Self.describe(total: total, parts: parts, fit: fit.description, pairing: pairing.description)
    }

    /// A score as one readable line, `830 = occupation 300 + pairing 200 + … (fit, pairing)`:
    /// a pair scored now, or one a run stored.
    public static func describe(total: Int64, parts: [(name: String, points: Int64)], fit: String, pairing: String) -> String {
        "\(total) = " + parts.map { "\($0.name) \($0.points)" }.joined(separator: " + ") + " (\(fit), \(pairing))"
    }
}

/// Pairs needs with offers that can serve them, and scores each pair.
///
/// A pair is a candidate when kinds (and their variants) agree, some occupation codes share at least the mid
/// group, the time windows overlap, both sides have something open, and neither side
/// declined the pair. Candidates come from an index of offers by (kind, code prefix), so
/// the work follows the pairs found, never needs × offers.
public struct CandidateBuilder: Sendable {
    public var weights: ScoreWeights
    public var pairings: Pairings
    public var declined: Set<PairID>
    /// Pairs whose organisation and county had a confirmed match the year before the need's year.
    public var continued: Set<PairID>

    public init(
        weights: ScoreWeights = .default, pairings: Pairings = Pairings(), declined: Set<PairID> = [], continued: Set<PairID> = []
    ) {
        self.weights = weights
        self.pairings = pairings
        self.declined = declined
        self.continued = continued
    }

    /// The score of one pair, or nil when it is not a candidate.
    public func explain(_ need: NeedRecord, _ offer: OfferRecord) -> ScoreBreakdown? {
        guard need.kind == offer.kind, need.variant.agrees(with: offer.variant), need.quantity > 0, offer.capacity > 0,
            need.window.overlap(offer.window) > 0,
            !declined.contains(PairID(need: need.id, offer: offer.id)),
            let fit = OccupationFit(need.occupations, offer.occupations)
        else { return nil }
        return breakdown(need, offer, fit)
    }

    func breakdown(_ need: NeedRecord, _ offer: OfferRecord, _ fit: OccupationFit) -> ScoreBreakdown {
        let w = weights
        let pairing = pairings.level(need, offer)
        let length = Int64(max(need.window.length, 1))
        return ScoreBreakdown(
            fit: fit, pairing: pairing,
            occupationPoints: w.points(fit),
            pairingPoints: w.points(pairing),
            priorityPoints: w.perPriority * Int64(need.priority),
            povertyPoints: need.povertyAlleviated ? w.povertyAlleviated : 0,
            keyCountyPoints: need.keyCounty ? w.keyCounty : 0,
            overlapPoints: w.fullOverlap * Int64(need.window.overlap(offer.window)) / length,
            conditionPoints: w.perCondition * Int64(need.wantedConditions.intersection(offer.conditions).count),
            qualityPoints: w.perQualityPoint * Int64(offer.quality), basePoints: offer.employmentBase ? w.employmentBase : 0,
            continuityPoints: continued.contains(PairID(need: need.id, offer: offer.id)) ? w.continuity : 0)
    }

    /// Records may come in any order: they are sorted by id first, so the same records
    /// always give the same problem, byte for byte.
    /// `forEachPart` may build the pairs of slices of the needs on several threads; the slices
    /// are joined in order, so the set is the same either way.
    public func build(
        needs: [NeedRecord], offers: [OfferRecord], forEachPart: Solver.ForEachIndex = Solver.oneAfterAnother
    ) throws(MatchingError) -> CandidateSet {
        try weights.validate()
        let needs = try Self.sortedByID(needs.filter { $0.quantity > 0 }, \.id, "need")
        let offers = try Self.sortedByID(offers.filter { $0.capacity > 0 }, \.id, "offer")
        for r in needs {
            guard (1...5).contains(r.priority) else { throw .invalidRecord("need \(r.id): priority \(r.priority) not in 1...5") }
            guard r.window.length > 0 else { throw .invalidRecord("need \(r.id): empty time window") }
        }
        for r in offers {
            guard (0...50).contains(r.quality) else { throw .invalidRecord("offer \(r.id): quality \(r.quality) not in 0...50") }
            guard r.window.length > 0 else { throw .invalidRecord("offer \(r.id): empty time window") }
        }
        let table = CompactRecords(needs: needs, offers: offers, pairings: pairings)

        // Enough slices for the threads to share the work evenly; too few needs are not worth one.
        let ranges = Solver.ranges(needs.count, parts: 16, minimum: 256)
        var slices = Solver.collect(ranges.count, forEachPart) { k in
            pairs(of: ranges[k], needs: needs, offers: offers, table: table)
        }
        let edgeNeed = slices.flatMap(\.edgeNeed)
        let edgeOffer = slices.flatMap(\.edgeOffer)
        let score = slices.flatMap(\.score)
        let offerView = slices.flatMap(\.offerView)
        slices.removeAll()
        let counties = Array(Set(needs.map(\.county))).sorted()
        let countyIndex = Dictionary(uniqueKeysWithValues: counties.enumerated().map { ($1, Int32($0)) })
        let problem = try MatchingProblem(
            quantity: needs.map(\.quantity), capacity: offers.map(\.capacity),
            edgeNeed: edgeNeed, edgeOffer: edgeOffer, score: score, offerPreference: offerView,
            needGroup: needs.map { countyIndex[$0.county]! }, groupNames: counties)
        return CandidateSet(problem: problem, needs: needs, offers: offers, builder: self)
    }

    /// The candidate pairs of the needs in `range`, in (need, offer) order.
    private func pairs(of range: Range<Int>, needs: [NeedRecord], offers: [OfferRecord], table: CompactRecords) -> PairSlice {
        var slice = PairSlice()
        var stamp = [Int32](repeating: -1, count: offers.count)
        var found: [Int32] = []
        let w = weights
        let fitPoints = [0, w.sameMidGroup, w.sameSmallGroup, w.sameOccupation]
        let pairingPoints = [0, w.earlierPairing, w.provincePairing, w.countyPairing]
        for i in range {
            let need = needs[i]
            found.removeAll(keepingCapacity: true)
            let kind = need.kind.index
            for c in table.needCodes(i) {
                for prefix in [c.mid, c.small, c.full] where prefix >= 0 {
                    let key = Int(prefix) * Kind.indexCount + kind
                    guard key < table.keyStart.count - 1 else { continue }
                    for k in Int(table.keyStart[key])..<Int(table.keyStart[key + 1]) {
                        let j = table.indexed[k]
                        if stamp[Int(j)] != Int32(i) {
                            stamp[Int(j)] = Int32(i)
                            found.append(j)
                        }
                    }
                }
            }
            found.sort()
            let needStart = need.window.start
            let needEnd = need.window.end
            let length = Int64(need.window.length)
            let base =
                w.perPriority * Int64(need.priority) + (need.povertyAlleviated ? w.povertyAlleviated : 0)
                + (need.keyCounty ? w.keyCounty : 0)
            let wanted = table.needConditions[i]
            for j32 in found {
                let j = Int(j32)
                let overlap = min(needEnd, table.offerEnd[j]) - max(needStart, table.offerStart[j])
                guard overlap > 0, need.variant.agrees(with: table.offerVariant[j]) else { continue }
                if !declined.isEmpty && declined.contains(PairID(need: need.id, offer: offers[j].id)) { continue }
                let fit = table.fit(need: i, offer: j)
                guard fit > 0 else { continue }
                let occupation = fitPoints[fit]
                let total = occupation + pairingPoints[table.pairing(need: i, offer: j)] + base
                    + w.fullOverlap * Int64(overlap) / length
                    + w.perCondition * Int64((wanted & table.offerConditions[j]).nonzeroBitCount)
                    + w.perQualityPoint * Int64(table.offerQuality[j]) + (table.offerBase[j] ? w.employmentBase : 0)
                    + (!continued.isEmpty && continued.contains(PairID(need: need.id, offer: offers[j].id)) ? w.continuity : 0)
                slice.edgeNeed.append(Int32(i))
                slice.edgeOffer.append(j32)
                slice.score.append(total)
                slice.offerView.append(occupation + base)
            }
        }
        return slice
    }

    private static func sortedByID<R>(_ records: [R], _ id: KeyPath<R, Int64>, _ what: String) throws(MatchingError) -> [R] {
        let sorted = records.sorted { $0[keyPath: id] < $1[keyPath: id] }
        for k in sorted.indices.dropFirst() where sorted[k][keyPath: id] == sorted[k - 1][keyPath: id] {
            throw .invalidRecord("\(what) id \(sorted[k][keyPath: id]) appears twice")
        }
        return sorted
    }
}

/// The pairs of a slice of the needs, as `MatchingProblem` takes them.
private struct PairSlice: Sendable {
    var edgeNeed: [Int32] = []
    var edgeOffer: [Int32] = []
    var score: [Int64] = []
    var offerView: [Int64] = []
}

/// The records reduced to integers for the candidate loop: interned code prefixes, an
/// index of offers by (kind, prefix), condition bit masks and pairing tables.
private struct CompactRecords: Sendable {
    struct Code {
        var mid: Int32
        var small: Int32
        var full: Int32
    }

    var codes: [Code] = []
    var needCodeStart: [Int32] = [0]
    var offerCodeStart: [Int32] = []
    var keyStart: [Int32] = [0]
    var indexed: [Int32] = []
    var offerStart: [Int]
    var offerEnd: [Int]
    var offerQuality: [Int]
    var offerVariant: [KindVariant]
    var offerBase: [Bool]
    var offerConditions: [UInt8]
    var needConditions: [UInt8]
    /// Pairing level by (need province, offer province) and the county-level pairs.
    var provinceLevel: [[UInt8]]
    var needProvince: [Int32] = []
    var offerProvince: [Int32] = []
    var countyPairs: Set<Int64> = []
    var earlierCountyPairs: Set<Int64> = []
    var needCounty: [Int32] = []
    var offerCity: [Int32] = []

    init(needs: [NeedRecord], offers: [OfferRecord], pairings: Pairings) {
        var prefixes = Interner()
        func intern(_ s: String) -> Int32 { prefixes.id(s) }
        func code(_ c: OccupationCode) -> Code {
            guard c.depth >= 2 else { return Code(mid: -1, small: -1, full: -1) }
            let mid = intern(c.segments[0..<2].joined(separator: "-"))
            let small = c.depth >= 3 ? intern(c.segments[0..<3].joined(separator: "-")) : -1
            let full = c.depth == 4 ? intern(c.description) : (c.depth == 3 ? small : mid)
            return Code(mid: mid, small: small, full: full)
        }
        for n in needs {
            codes.append(contentsOf: n.occupations.map(code))
            needCodeStart.append(Int32(codes.count))
        }
        var keyed: [(key: Int, offer: Int32)] = []
        offerCodeStart.append(Int32(codes.count))
        for (j, o) in offers.enumerated() {
            var keys = Set<Int>()
            for c in o.occupations.map(code) {
                codes.append(c)
                for prefix in [c.mid, c.small, c.full] where prefix >= 0 {
                    keys.insert(Int(prefix) * Kind.indexCount + o.kind.index)
                }
            }
            offerCodeStart.append(Int32(codes.count))
            keyed.append(contentsOf: keys.sorted().map { ($0, Int32(j)) })
        }
        let keyCount = prefixes.count * Kind.indexCount
        keyStart = [Int32](repeating: 0, count: keyCount + 1)
        for k in keyed { keyStart[k.key + 1] += 1 }
        for k in 0..<keyCount { keyStart[k + 1] += keyStart[k] }
        var fill = keyStart
        indexed = [Int32](repeating: 0, count: keyed.count)
        for k in keyed {
            indexed[Int(fill[k.key])] = k.offer
            fill[k.key] += 1
        }
        offerStart = offers.map(\.window.start)
        offerEnd = offers.map(\.window.end)
        offerQuality = offers.map(\.quality)
        offerVariant = offers.map(\.variant)
        offerBase = offers.map(\.employmentBase)
        func mask(_ s: Set<Condition>) -> UInt8 {
            var m: UInt8 = 0
            for (k, c) in Condition.allCases.enumerated() where s.contains(c) { m |= 1 << k }
            return m
        }
        offerConditions = offers.map { mask($0.conditions) }
        needConditions = needs.map { mask($0.wantedConditions) }

        var place = Interner()
        needProvince = needs.map { place.id($0.province) }
        offerProvince = offers.map { place.id($0.province) }
        needCounty = needs.map { place.id($0.county) }
        offerCity = offers.map { place.id($0.city) }
        provinceLevel = Array(repeating: Array(repeating: 0, count: place.count), count: place.count)
        for k in pairings.earlier {
            if let a = place[k.west], let b = place[k.east] {
                provinceLevel[Int(a)][Int(b)] = UInt8(PairingLevel.earlier.rawValue)
            }
        }
        for k in pairings.provinceLevel {
            if let a = place[k.west], let b = place[k.east] {
                provinceLevel[Int(a)][Int(b)] = UInt8(PairingLevel.currentProvince.rawValue)
            }
        }
        for k in pairings.countyLevel {
            if let a = place[k.west], let b = place[k.east] { countyPairs.insert(Int64(a) << 32 | Int64(b)) }
        }
        for k in pairings.earlierCountyLevel {
            if let a = place[k.west], let b = place[k.east] { earlierCountyPairs.insert(Int64(a) << 32 | Int64(b)) }
        }
    }

    func needCodes(_ i: Int) -> ArraySlice<Code> { codes[Int(needCodeStart[i])..<Int(needCodeStart[i + 1])] }
    func offerCodes(_ j: Int) -> ArraySlice<Code> { codes[Int(offerCodeStart[j])..<Int(offerCodeStart[j + 1])] }

    /// `OccupationFit.rawValue`, or 0 for no fit.
    func fit(need i: Int, offer j: Int) -> Int {
        var best = 0
        for a in needCodes(i) where a.mid >= 0 {
            for b in offerCodes(j) {
                let f = a.full == b.full ? 3 : (a.small >= 0 && a.small == b.small ? 2 : (a.mid == b.mid ? 1 : 0))
                best = max(best, f)
            }
        }
        return best
    }

    /// `PairingLevel.rawValue`, as `Pairings.level` decides it.
    func pairing(need i: Int, offer j: Int) -> Int {
        if !countyPairs.isEmpty && countyPairs.contains(Int64(needCounty[i]) << 32 | Int64(offerCity[j])) {
            return PairingLevel.currentCounty.rawValue
        }
        let level = Int(provinceLevel[Int(needProvince[i])][Int(offerProvince[j])])
        if level == PairingLevel.none.rawValue && !earlierCountyPairs.isEmpty
            && earlierCountyPairs.contains(Int64(needCounty[i]) << 32 | Int64(offerCity[j]))
        {
            return PairingLevel.earlier.rawValue
        }
        return level
    }
}

/// The candidates of a set of records: the problem for the solver, and the way back from
/// indices to ids and from scores to their parts.
public struct CandidateSet: Sendable {
    public let problem: MatchingProblem
    /// Needs and offers with something open, ascending by id; index = problem index.
    public let needs: [NeedRecord]
    public let offers: [OfferRecord]
    public let builder: CandidateBuilder

    public var needIDs: [Int64] { needs.map(\.id) }
    public var offerIDs: [Int64] { offers.map(\.id) }

    /// The parts of pair `e`'s score.
    public func breakdown(_ e: Int) -> ScoreBreakdown {
        let need = needs[Int(problem.edgeNeed[e])]
        let offer = offers[Int(problem.edgeOffer[e])]
        return builder.breakdown(need, offer, OccupationFit(need.occupations, offer.occupations)!)
    }

    /// The placed units of a solution, by (need id, offer id), with their scores explained.
    public func matches(_ solution: Solution) -> [Match] {
        (0..<problem.edgeCount).compactMap { e in
            let x = solution.flow[e]
            guard x > 0 else { return nil }
            return Match(
                need: needs[Int(problem.edgeNeed[e])].id, offer: offers[Int(problem.edgeOffer[e])].id, units: x,
                score: breakdown(e))
        }
    }
}

public struct Match: Sendable, Hashable {
    public let need: Int64
    public let offer: Int64
    public let units: Int64
    public let score: ScoreBreakdown
}

/// Small integers for strings, in order of first appearance.
struct Interner {
    private var ids: [String: Int32] = [:]

    var count: Int { ids.count }

    subscript(_ s: String) -> Int32? { ids[s] }

    mutating func id(_ s: String) -> Int32 {
        if let id = ids[s] { return id }
        let id = Int32(ids.count)
        ids[s] = id
        return id
    }
}
