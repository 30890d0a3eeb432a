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
    public static func solve(_ problem: MatchingProblem, mode: Mode) throws(MatchingError) -> Solution {
        if case .stable(let side) = mode {
            return StableMatching.solve(problem, side: side)
        }
        return solveFlow(problem, mode: mode, model: try FlowModel(problem, mode: mode))
    }

    private static func solveFlow(_ problem: MatchingProblem, mode: Mode, model: FlowModel) -> Solution {
        let (net, edgeArc) = model.network()
        let opt = NetworkSimplex.solve(net)
        let n = problem.needCount
        let m = problem.offerCount
        var flow = [Int64](repeating: 0, count: problem.edgeCount)
        var totalScore: Int64 = 0
        var units: Int64 = 0
        for e in 0..<problem.edgeCount where edgeArc[e] >= 0 {
            let x = opt.flow[Int(edgeArc[e])]
            flow[e] = x
            totalScore += x * problem.score[e]
            units += x
        }
        let sink = opt.potential[net.nodeCount - 1]
        let needPi = (0..<n).map { opt.potential[$0] - sink }
        var offerPi = (0..<m).map { opt.potential[n + $0] - sink }
        let groupPi = (0..<model.groupNodeCount).map { opt.potential[n + m + $0] - sink }
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
            totalScore: totalScore, units: units, pivots: opt.pivots)
    }
}

/// The flow network of `optimal` and `fair` mode; the verifier checks against the same one.
///
/// Nodes: needs, offers, (fair) one node per group, sink last. Arcs: need → offer for each
/// pair (cost −weight, uncapacitated: conservation bounds it by the need's quantity),
/// offer → sink (capacity c_j, cost 0), and the unmet units' route: need → sink (cost 0)
/// in `optimal` mode; in `fair` mode need → group (cost 0), then group → sink twice:
/// capacity demand − first share at cost 0, and uncapacitated at cost B (the bonus lost).
struct FlowModel {
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

    func network() -> (FlowNetwork, edgeArc: [Int32]) {
        let p = problem
        let n = p.needCount
        let m = p.offerCount
        let g = groupNodeCount
        let sink = Int32(n + m + g)
        var net = FlowNetwork(nodeCount: n + m + g + 1, root: sink, arcCapacity: p.edgeCount + n + m + 2 * g)
        var edgeArc = [Int32](repeating: -1, count: p.edgeCount)
        for e in 0..<p.edgeCount {
            let j = Int(p.edgeOffer[e])
            guard p.capacity[j] > 0 else { continue }
            edgeArc[e] = net.addArc(
                from: p.edgeNeed[e], to: Int32(n + j), cost: -weight(e), capacity: FlowNetwork.uncapacitated)
        }
        for j in 0..<m {
            net.treeArc[n + j] = net.addArc(from: Int32(n + j), to: sink, cost: 0, capacity: p.capacity[j])
        }
        if let share = fairShare {
            for i in 0..<n {
                net.treeArc[i] = net.addArc(
                    from: Int32(i), to: Int32(n + m) + p.needGroup[i], cost: 0,
                    capacity: FlowNetwork.uncapacitated, flow: p.quantity[i])
            }
            for (k, demand) in groupDemand().enumerated() {
                let first = share.ceilTimes(demand)
                let node = Int32(n + m + k)
                net.addArc(from: node, to: sink, cost: 0, capacity: demand - first, flow: demand - first)
                net.treeArc[n + m + k] = net.addArc(
                    from: node, to: sink, cost: bonus, capacity: FlowNetwork.uncapacitated, flow: first)
            }
        } else {
            for i in 0..<n {
                net.treeArc[i] = net.addArc(
                    from: Int32(i), to: sink, cost: 0, capacity: FlowNetwork.uncapacitated, flow: p.quantity[i])
            }
        }
        return (net, edgeArc)
    }
}
