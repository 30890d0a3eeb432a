/// Needs, offers and the candidate pairs between them, by index.
///
/// Needs `0..<needCount` ask for `quantity[i]` units, offers `0..<offerCount` give up to
/// `capacity[j]`. Candidate pair `e` joins need `edgeNeed[e]` and offer `edgeOffer[e]`
/// with score `score[e] > 0`. Pairs are sorted by (need, offer) without duplicates, so
/// one problem has exactly one representation and every solver is deterministic.
public struct MatchingProblem: Sendable, Equatable {
    public let quantity: [Int64]
    public let capacity: [Int64]
    public let edgeNeed: [Int32]
    public let edgeOffer: [Int32]
    public let score: [Int64]
    /// How offer `edgeOffer[e]` ranks need `edgeNeed[e]` in `stable` mode (higher first);
    /// needs rank offers by `score`.
    public let offerPreference: [Int64]
    /// The county (or any group) of each need, an index into `groupNames`; `fair` mode
    /// gives each group its first share.
    public let needGroup: [Int32]
    public let groupNames: [String]
    /// Pairs of need `i` are `needEdgeStart[i]..<needEdgeStart[i + 1]`.
    public let needEdgeStart: [Int32]

    public var needCount: Int { quantity.count }
    public var offerCount: Int { capacity.count }
    public var edgeCount: Int { edgeNeed.count }
    public var groupCount: Int { groupNames.count }

    /// - Parameters:
    ///   - offerPreference: defaults to `score`.
    ///   - needGroup, groupNames: default to one group per need, named by its index.
    public init(
        quantity: [Int64], capacity: [Int64],
        edgeNeed: [Int32], edgeOffer: [Int32], score: [Int64],
        offerPreference: [Int64]? = nil,
        needGroup: [Int32]? = nil, groupNames: [String]? = nil
    ) throws(MatchingError) {
        let n = quantity.count
        let m = capacity.count
        let e = edgeNeed.count
        guard n < Int(Int32.max), m < Int(Int32.max), e < Int(Int32.max) else {
            throw .invalidProblem("more than 2^31 needs, offers or pairs")
        }
        guard edgeOffer.count == e, score.count == e, offerPreference.map({ $0.count == e }) ?? true else {
            throw .invalidProblem("pair arrays differ in length")
        }
        if let i = quantity.firstIndex(where: { $0 < 0 }) { throw .invalidProblem("need \(i) has a negative quantity") }
        if let j = capacity.firstIndex(where: { $0 < 0 }) { throw .invalidProblem("offer \(j) has a negative capacity") }
        var start = [Int32](repeating: 0, count: n + 1)
        for k in 0..<e {
            let i = edgeNeed[k]
            let j = edgeOffer[k]
            guard i >= 0, Int(i) < n, j >= 0, Int(j) < m else {
                throw .invalidProblem("pair \(k) (\(i), \(j)) is out of range")
            }
            guard score[k] > 0 else { throw .invalidProblem("pair \(k) (\(i), \(j)) has score \(score[k]) ≤ 0") }
            if k > 0 {
                let pi = edgeNeed[k - 1]
                let pj = edgeOffer[k - 1]
                guard pi < i || (pi == i && pj < j) else {
                    throw .invalidProblem("pair \(k) (\(i), \(j)) is not after (\(pi), \(pj)) in (need, offer) order")
                }
            }
            start[Int(i) + 1] += 1
        }
        for i in 0..<n { start[i + 1] += start[i] }
        let groups = needGroup ?? (0..<Int32(n)).map { $0 }
        let names = groupNames ?? (0..<n).map { String($0) }
        guard groups.count == n else { throw .invalidProblem("needGroup has \(groups.count) entries for \(n) needs") }
        if let i = groups.firstIndex(where: { $0 < 0 || Int($0) >= names.count }) {
            throw .invalidProblem("need \(i) has group \(groups[i]) outside 0..<\(names.count)")
        }
        // Potentials are sums of scores along tree paths and reduced costs add three of
        // them: keeping all sums below 2^60 keeps every intermediate exact.
        let limit = Int64(1) << 60
        func total(_ values: [Int64], _ what: String) throws(MatchingError) -> Int64 {
            var sum: Int64 = 0
            for v in values {
                let (next, overflow) = sum.addingReportingOverflow(v)
                sum = next
                guard !overflow, sum < limit else { throw .invalidProblem("\(what) add up to 2^60 or more") }
            }
            return sum
        }
        _ = try total(score, "scores")
        let units = min(try total(quantity, "quantities"), try total(capacity, "capacities"))
        let (most, overflow) = (score.max() ?? 0).multipliedReportingOverflow(by: units)
        guard !overflow, most < limit else { throw .invalidProblem("the total score could reach 2^60") }
        self.quantity = quantity
        self.capacity = capacity
        self.edgeNeed = edgeNeed
        self.edgeOffer = edgeOffer
        self.score = score
        self.offerPreference = offerPreference ?? score
        self.needGroup = groups
        self.groupNames = names
        self.needEdgeStart = start
    }

    public var maxScore: Int64 { score.max() ?? 0 }
    public var totalQuantity: Int64 { quantity.reduce(0, +) }
    public var totalCapacity: Int64 { capacity.reduce(0, +) }
}

public enum MatchingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidProblem(String)
    case invalidInstance(line: Int, String)
    case invalidRecord(String)
    /// A lexicographic weight (units first, fair shares) would overflow 64 bits.
    case overflow(String)

    public var description: String {
        switch self {
        case .invalidProblem(let s): "invalid problem: \(s)"
        case .invalidInstance(let line, let s): "line \(line): \(s)"
        case .invalidRecord(let s): "invalid record: \(s)"
        case .overflow(let s): "64-bit overflow: \(s)"
        }
    }
}
