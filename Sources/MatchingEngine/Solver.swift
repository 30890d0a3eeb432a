/// What the solver maximises.
public enum Mode: Sendable, Hashable, CustomStringConvertible {
    /// Maximum total score Σ s·x (`.score`), or the most units and, among those, the
    /// maximum score (`.unitsFirst`: a min-cost maximum flow).
    case optimal(Objective)
    /// Each group's (county's) first share, ⌈share × its demand⌉ units, earns a bonus
    /// larger than any total score: first serve as many first-share units as the pairs
    /// allow, then maximise the score.
    case fair(share: Fraction)
    /// Deferred acceptance with capacities; `.needs` gives the need-optimal stable
    /// outcome (needs propose), `.offers` the offer-optimal one.
    case stable(Side)

    public static let fair = Mode.fair(share: Fraction(3, 10))

    public enum Objective: String, Sendable, Hashable, CaseIterable {
        case score
        case unitsFirst = "units-first"
    }

    public enum Side: String, Sendable, Hashable, CaseIterable {
        case needs
        case offers
    }

    public var description: String {
        switch self {
        case .optimal(let o): "optimal(\(o.rawValue))"
        case .fair(let f): "fair(\(f.numerator)/\(f.denominator))"
        case .stable(let s): "stable(\(s.rawValue))"
        }
    }
}

/// An exact share `numerator / denominator` in 0...1.
public struct Fraction: Sendable, Hashable {
    public let numerator: Int64
    public let denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64) {
        precondition(denominator > 0 && numerator >= 0 && numerator <= denominator, "share must lie in 0...1")
        self.numerator = numerator
        self.denominator = denominator
    }

    /// A share as people write it — a decimal of up to 9 places (`0.3`) or a fraction as a mode
    /// prints it (`3/10`) — in lowest terms, so both spellings give the same mode; nil for
    /// anything else (signs, blanks, exponents) or outside 0...1.
    public init?(share text: String) {
        func digits(_ part: Substring) -> Int64? {
            guard !part.isEmpty, part.count <= 9, part.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            else { return nil }
            return Int64(part)
        }
        var numerator: Int64
        var denominator: Int64
        if let slash = text.firstIndex(of: "/") {
            guard let n = digits(text[..<slash]), let d = digits(text[text.index(after: slash)...]), d > 0 else { return nil }
            (numerator, denominator) = (n, d)
        } else {
            let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let whole = parts[0].isEmpty && parts.count == 2 ? 0 : digits(parts[0]), whole <= 1 else { return nil }
            denominator = 1
            var places: Int64 = 0
            if parts.count == 2 {
                guard let fraction = digits(parts[1]) else { return nil }
                places = fraction
                for _ in parts[1] { denominator *= 10 }
            }
            numerator = whole * denominator + places
        }
        guard numerator <= denominator else { return nil }
        var (a, b) = (numerator, denominator)
        while b != 0 { (a, b) = (b, a % b) }
        self.init(numerator / a, denominator / a)
    }

    /// ⌈self × x⌉ for x ≥ 0, without overflow: the product is taken at double width and
    /// the quotient is at most x.
    public func ceilTimes(_ x: Int64) -> Int64 {
        let (q, r) = denominator.dividingFullWidth(numerator.multipliedFullWidth(by: x))
        return r > 0 ? q + 1 : q
    }
}

/// Units per pair, in the problem's pair order, with the proof of their quality.
public struct Solution: Sendable, Equatable {
    public let mode: Mode
    public let flow: [Int64]
    public let certificate: Certificate
    /// Σ score × units.
    public let totalScore: Int64
    public let units: Int64
    /// Network simplex pivots (0 for stable): a measure of work, for benchmarks.
    public let pivots: Int

    /// A solution from elsewhere (stored, edited) can be built and then checked by `Verifier`.
    public init(mode: Mode, flow: [Int64], certificate: Certificate, totalScore: Int64, units: Int64, pivots: Int = 0) {
        self.mode = mode
        self.flow = flow
        self.certificate = certificate
        self.totalScore = totalScore
        self.units = units
        self.pivots = pivots
    }
}

public enum Certificate: Sendable, Equatable {
    /// Node potentials of the flow network of `optimal` or `fair` mode (see `Verifier`).
    case potentials(Potentials)
    /// `stable` mode: the verifier searches for a blocking pair instead.
    case stability
}

/// Node potentials π, with the sink at 0: an arc u→v of cost c has reduced cost
/// c + π(u) − π(v), which is ≥ 0 where the arc carries nothing, ≤ 0 where it is full and
/// 0 in between. That is complementary slackness: the flow is optimal.
public struct Potentials: Sendable, Equatable {
    public let need: [Int64]
    public let offer: [Int64]
    /// `fair` mode only: the group (county) nodes.
    public let group: [Int64]

    public init(need: [Int64], offer: [Int64], group: [Int64] = []) {
        self.need = need
        self.offer = offer
        self.group = group
    }
}

public enum Solver {
    /// Runs `body` for each index in `0..<count`, in any order, at once or one after another.
    public typealias ForEachIndex = (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void

    public static func oneAfterAnother(_ count: Int, _ body: @Sendable (Int) -> Void) {
        for index in 0..<count { body(index) }
    }

    /// `make(index)` for each index in `0..<count`, run as `forEachPart` runs them; the results
    /// in index order.
    public static func collect<Result: Sendable>(
        _ count: Int, _ forEachPart: ForEachIndex, _ make: @escaping @Sendable (Int) -> Result
    ) -> [Result] {
        var results = [Result?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            // Each index writes its own slot only.
            nonisolated(unsafe) let slots = slots
            forEachPart(count) { index in slots[index] = make(index) }
        }
        return results.map { $0! }
    }

    /// Splits `0..<count` into about `parts` ranges of consecutive indices, at least `minimum` long.
    public static func ranges(_ count: Int, parts: Int, minimum: Int) -> [Range<Int>] {
        let n = max(1, min(parts, count / max(minimum, 1)))
        return (0..<n).map { k in (count * k / n)..<(count * (k + 1) / n) }
    }

    /// `forEachPart` may solve the independent parts of an `optimal` problem on several threads
    /// (the engine itself starts none); the solution is the same either way.
    public static func solve(
        _ problem: MatchingProblem, mode: Mode, forEachPart: ForEachIndex = Solver.oneAfterAnother
    ) throws(MatchingError) -> Solution {
        if case .stable(let side) = mode {
            return StableMatching.solve(problem, side: side)
        }
        return solveFlow(problem, mode: mode, model: try FlowModel(problem, mode: mode), forEachPart: forEachPart)
    }

    /// In `optimal` mode no arc but the pairs joins a need to an offer, so the problem falls
    /// apart into the connected parts of its pairs (a kind never pairs with another, for one),
    /// and each part is solved on its own: the parts' optima together are the whole's, their
    /// potentials (the sink at 0 in each) a certificate for the whole network, and the network
    /// simplex, whose work grows faster than its arcs, does less. In `fair` mode a county's
    /// group node joins its needs of every kind, so the network stays whole.
    private static func solveFlow(_ problem: MatchingProblem, mode: Mode, model: FlowModel, forEachPart: ForEachIndex) -> Solution {
        let n = problem.needCount
        let m = problem.offerCount
        let partition = model.groupNodeCount == 0 ? FlowPartition(problem) : FlowPartition(whole: problem)
        var flow = [Int64](repeating: 0, count: problem.edgeCount)
        var needPi = [Int64](repeating: 0, count: n)
        var offerPi = [Int64](repeating: 0, count: m)
        var groupPi = [Int64](repeating: 0, count: model.groupNodeCount)
        var pivots = 0
        // The largest first, so that parts solved at once end at about the same time. (Each part
        // writes only its own needs, offers and pairs below: the order changes no result.)
        let largestFirst = partition.parts.sorted { $0.edges.count > $1.edges.count }
        let solved = collect(largestFirst.count, forEachPart) { index in
            let (net, edgeArc) = model.network(largestFirst[index], in: partition)
            return (opt: NetworkSimplex.solve(net), edgeArc: edgeArc, nodeCount: net.nodeCount)
        }
        for (part, (opt, edgeArc, nodeCount)) in zip(largestFirst, solved) {
            pivots += opt.pivots
            let sink = opt.potential[nodeCount - 1]
            for (local, e) in part.edges.enumerated() where edgeArc[local] >= 0 {
                flow[Int(e)] = opt.flow[Int(edgeArc[local])]
            }
            for (local, i) in part.needs.enumerated() { needPi[Int(i)] = opt.potential[local] - sink }
            for (local, j) in part.offers.enumerated() { offerPi[Int(j)] = opt.potential[part.needs.count + local] - sink }
            for k in 0..<model.groupNodeCount {
                groupPi[k] = opt.potential[part.needs.count + part.offers.count + k] - sink
            }
        }
        var totalScore: Int64 = 0
        var units: Int64 = 0
        for e in 0..<problem.edgeCount where flow[e] > 0 {
            totalScore += flow[e] * problem.score[e]
            units += flow[e]
        }
        // Offers without capacity stay out of the network; give them the largest
        // potential that keeps each of their (empty) pairs at reduced cost ≥ 0.
        var zeroCapacity = [Bool](repeating: false, count: m)
        for j in 0..<m where problem.capacity[j] == 0 {
            zeroCapacity[j] = true
            offerPi[j] = Int64.max
        }
        for e in 0..<problem.edgeCount {
            let j = Int(problem.edgeOffer[e])
            if zeroCapacity[j] {
                offerPi[j] = min(offerPi[j], needPi[Int(problem.edgeNeed[e])] - model.weight(e))
            }
        }
        for j in 0..<m where offerPi[j] == Int64.max { offerPi[j] = 0 }
        return Solution(
            mode: mode, flow: flow,
            certificate: .potentials(Potentials(need: needPi, offer: offerPi, group: groupPi)),
            totalScore: totalScore, units: units, pivots: pivots)
    }
}

/// Needs, offers and pairs of the network that are solved together, each in increasing order.
/// A need or offer in no part has potential 0: it carries nothing, its route to the sink is free.
struct FlowPart: Sendable {
    var needs: [Int32] = []
    var offers: [Int32] = []
    var edges: [Int32] = []
}

/// The problem's parts, with each need's and offer's place in its own part.
struct FlowPartition: Sendable {
    var parts: [FlowPart]
    var needLocal: [Int32]
    var offerLocal: [Int32]

    init(whole problem: MatchingProblem) {
        parts = [
            FlowPart(
                needs: Array(0..<Int32(problem.needCount)), offers: Array(0..<Int32(problem.offerCount)),
                edges: Array(0..<Int32(problem.edgeCount)))
        ]
        needLocal = Array(0..<Int32(problem.needCount))
        offerLocal = Array(0..<Int32(problem.offerCount))
    }

    /// The connected parts of the pairs to offers with capacity, in the order of their first
    /// need: the same problem always gives the same parts.
    init(_ problem: MatchingProblem) {
        let n = problem.needCount
        var parent = Array(0..<Int32(n + problem.offerCount))
        func root(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x {
                parent[Int(x)] = parent[Int(parent[Int(x)])]
                x = parent[Int(x)]
            }
            return x
        }
        for e in 0..<problem.edgeCount where problem.capacity[Int(problem.edgeOffer[e])] > 0 {
            let a = root(problem.edgeNeed[e])
            let b = root(Int32(n) + problem.edgeOffer[e])
            if a != b { parent[Int(max(a, b))] = min(a, b) }
        }
        var partOfRoot = [Int32](repeating: -1, count: parent.count)
        var parts: [FlowPart] = []
        for e in 0..<problem.edgeCount where problem.capacity[Int(problem.edgeOffer[e])] > 0 {
            let r = Int(root(problem.edgeNeed[e]))
            if partOfRoot[r] < 0 {
                partOfRoot[r] = Int32(parts.count)
                parts.append(FlowPart())
            }
            parts[Int(partOfRoot[r])].edges.append(Int32(e))
        }
        needLocal = [Int32](repeating: -1, count: n)
        offerLocal = [Int32](repeating: -1, count: problem.offerCount)
        for i in 0..<n {
            let part = partOfRoot[Int(root(Int32(i)))]
            guard part >= 0 else { continue }
            needLocal[i] = Int32(parts[Int(part)].needs.count)
            parts[Int(part)].needs.append(Int32(i))
        }
        for j in 0..<problem.offerCount {
            let part = partOfRoot[Int(root(Int32(n + j)))]
            guard part >= 0 else { continue }
            offerLocal[j] = Int32(parts[Int(part)].offers.count)
            parts[Int(part)].offers.append(Int32(j))
        }
        self.parts = parts
    }
}

/// The flow network of `optimal` and `fair` mode; the verifier checks against the same one.
///
/// Nodes: needs, offers, (fair) one node per group, sink last. Arcs: need → offer for each
/// pair (cost −weight, uncapacitated: conservation bounds it by the need's quantity),
/// offer → sink (capacity c_j, cost 0), and the unmet units' route: need → sink (cost 0)
/// in `optimal` mode; in `fair` mode need → group (cost 0), then group → sink twice:
/// capacity demand − first share at cost 0, and uncapacitated at cost B (the bonus lost).
struct FlowModel: Sendable {
    let problem: MatchingProblem
    /// Per pair, or nil for the plain score.
    let weights: [Int64]?
    let fairShare: Fraction?
    /// Fair mode: what a first-share unit earns.
    let bonus: Int64

    /// units-first: each pair's weight gets P added, with P above any total score, so one
    /// more unit always beats any score. Fair: the bonus is the same P.
    init(_ problem: MatchingProblem, mode: Mode) throws(MatchingError) {
        self.problem = problem
        switch mode {
        case .optimal(.score), .stable:
            weights = nil
            fairShare = nil
            bonus = 0
        case .optimal(.unitsFirst):
            let p = try Self.lexicographicWeight(problem)
            weights = problem.score.map { $0 + p }
            fairShare = nil
            bonus = 0
        case .fair(let share):
            weights = nil
            fairShare = share
            bonus = try Self.lexicographicWeight(problem)
        }
    }

    var groupNodeCount: Int { fairShare == nil ? 0 : problem.groupCount }

    @inline(__always)
    func weight(_ e: Int) -> Int64 { weights?[e] ?? problem.score[e] }

    /// 1 + maxScore × min(Σ quantity, Σ capacity): more than any total score.
    static func lexicographicWeight(_ problem: MatchingProblem) throws(MatchingError) -> Int64 {
        let units = min(problem.totalQuantity, problem.totalCapacity)
        let (b, o1) = problem.maxScore.multipliedReportingOverflow(by: units)
        // Every cost stays below 2^62 so reduced costs cannot overflow.
        guard !o1, b < Int64(1) << 60 / max(Int64(problem.needCount + problem.offerCount + 2), 1) else {
            throw .overflow("lexicographic weight for \(units) units")
        }
        return b + 1
    }

    func groupDemand() -> [Int64] {
        var d = [Int64](repeating: 0, count: problem.groupCount)
        for i in 0..<problem.needCount { d[Int(problem.needGroup[i])] += problem.quantity[i] }
        return d
    }

    /// The network of `part`: its needs, its offers, (fair) every group node, and the sink
    /// last. `edgeArc` maps the part's pairs, in order, to their arcs (-1: an offer without capacity).
    func network(_ part: FlowPart, in partition: FlowPartition) -> (FlowNetwork, edgeArc: [Int32]) {
        let p = problem
        let n = part.needs.count
        let m = part.offers.count
        let g = groupNodeCount
        let sink = Int32(n + m + g)
        var net = FlowNetwork(nodeCount: n + m + g + 1, root: sink, arcCapacity: part.edges.count + n + m + 2 * g)
        var edgeArc = [Int32](repeating: -1, count: part.edges.count)
        for (local, e) in part.edges.enumerated() {
            let j = p.edgeOffer[Int(e)]
            guard p.capacity[Int(j)] > 0 else { continue }
            edgeArc[local] = net.addArc(
                from: partition.needLocal[Int(p.edgeNeed[Int(e)])], to: Int32(n) + partition.offerLocal[Int(j)], cost: -weight(Int(e)),
                capacity: FlowNetwork.uncapacitated)
        }
        for (local, j) in part.offers.enumerated() {
            net.treeArc[n + local] = net.addArc(from: Int32(n + local), to: sink, cost: 0, capacity: p.capacity[Int(j)])
        }
        if let share = fairShare {
            for (local, i) in part.needs.enumerated() {
                net.treeArc[local] = net.addArc(
                    from: Int32(local), to: Int32(n + m) + p.needGroup[Int(i)], cost: 0,
                    capacity: FlowNetwork.uncapacitated, flow: p.quantity[Int(i)])
            }
            for (k, demand) in groupDemand().enumerated() {
                let first = share.ceilTimes(demand)
                let node = Int32(n + m + k)
                net.addArc(from: node, to: sink, cost: 0, capacity: demand - first, flow: demand - first)
                net.treeArc[n + m + k] = net.addArc(
                    from: node, to: sink, cost: bonus, capacity: FlowNetwork.uncapacitated, flow: first)
            }
        } else {
            for (local, i) in part.needs.enumerated() {
                net.treeArc[local] = net.addArc(
                    from: Int32(local), to: sink, cost: 0, capacity: FlowNetwork.uncapacitated, flow: p.quantity[Int(i)])
            }
        }
        return (net, edgeArc)
    }
}
