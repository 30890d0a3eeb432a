/// Checks a solution on its own, in time linear in the size of the problem.
///
/// Always: one flow per pair, no negative flow, no need over its quantity, no offer
/// over its capacity, and the stated totals. For `optimal` and `fair`, complementary
/// slackness of the potentials on every arc of the mode's flow network (see
/// `FlowModel`): together with feasibility that proves the flow optimal. For `stable`,
/// that no pair blocks.
public enum Verifier {
    public static func verify(_ problem: MatchingProblem, _ solution: Solution) -> Verification {
        let p = problem
        let flow = solution.flow
        guard flow.count == p.edgeCount else {
            return .failed("\(flow.count) flows for \(p.edgeCount) pairs")
        }
        var placed = [Int64](repeating: 0, count: p.needCount)
        var load = [Int64](repeating: 0, count: p.offerCount)
        var total: Int64 = 0
        var units: Int64 = 0
        for e in 0..<p.edgeCount {
            let x = flow[e]
            guard x >= 0 else { return .failed("pair \(e) has negative flow \(x)") }
            placed[Int(p.edgeNeed[e])] += x
            load[Int(p.edgeOffer[e])] += x
            total += x * p.score[e]
            units += x
        }
        if let i = (0..<p.needCount).first(where: { placed[$0] > p.quantity[$0] }) {
            return .failed("need \(i) gets \(placed[i]) units of \(p.quantity[i])")
        }
        if let j = (0..<p.offerCount).first(where: { load[$0] > p.capacity[$0] }) {
            return .failed("offer \(j) gives \(load[j]) units of \(p.capacity[j])")
        }
        guard total == solution.totalScore, units == solution.units else {
            return .failed("totals \(solution.totalScore)/\(solution.units) differ from flows \(total)/\(units)")
        }
        switch (solution.mode, solution.certificate) {
        case (.stable, .stability):
            if let e = StableMatching.blockingPair(p, flow: flow) {
                return .failed("pair \(e) (need \(p.edgeNeed[e]), offer \(p.edgeOffer[e])) blocks")
            }
            return .verified
        case (.optimal, .potentials(let pi)), (.fair, .potentials(let pi)):
            do {
                return slackness(p, try FlowModel(p, mode: solution.mode), flow, placed, load, pi)
            } catch {
                return .failed("\(error)")
            }
        default:
            return .failed("certificate does not fit mode \(solution.mode)")
        }
    }

    /// Reduced cost `rc` of an arc carrying `x` of `capacity` (nil: uncapacitated).
    @inline(__always)
    private static func slack(_ rc: Int64, _ x: Int64, _ capacity: Int64?) -> Bool {
        if capacity == 0 { return true }
        if x == 0 { return rc >= 0 }
        if let c = capacity, x == c { return rc <= 0 }
        return rc == 0
    }

    private static func slackness(
        _ p: MatchingProblem, _ model: FlowModel, _ flow: [Int64], _ placed: [Int64], _ load: [Int64],
        _ pi: Potentials
    ) -> Verification {
        guard pi.need.count == p.needCount, pi.offer.count == p.offerCount, pi.group.count == model.groupNodeCount
        else { return .failed("potentials do not match the problem's size") }
        for e in 0..<p.edgeCount {
            let i = Int(p.edgeNeed[e])
            let j = Int(p.edgeOffer[e])
            let rc = -model.weight(e) + pi.need[i] - pi.offer[j]
            guard slack(rc, flow[e], p.capacity[j] == 0 ? 0 : nil) else {
                return .failed("pair \(e) (need \(i), offer \(j)) flow \(flow[e]) has reduced cost \(rc)")
            }
        }
        for j in 0..<p.offerCount {
            guard slack(pi.offer[j], load[j], p.capacity[j]) else {
                return .failed("offer \(j) gives \(load[j]) of \(p.capacity[j]) at reduced cost \(pi.offer[j])")
            }
        }
        if let share = model.fairShare {
            let bonus = model.bonus
            var unmet = [Int64](repeating: 0, count: p.groupCount)
            for i in 0..<p.needCount {
                let g = Int(p.needGroup[i])
                let x = p.quantity[i] - placed[i]
                unmet[g] += x
                guard slack(pi.need[i] - pi.group[g], x, nil) else {
                    return .failed("need \(i) leaves \(x) unmet at reduced cost \(pi.need[i] - pi.group[g])")
                }
            }
            for (g, demand) in model.groupDemand().enumerated() {
                let free = demand - share.ceilTimes(demand)
                let cheap = min(unmet[g], free)
                guard slack(pi.group[g], cheap, free), slack(bonus + pi.group[g], unmet[g] - cheap, nil) else {
                    return .failed("group \(p.groupNames[g]) leaves \(unmet[g]) unmet at potential \(pi.group[g])")
                }
            }
        } else {
            for i in 0..<p.needCount {
                let x = p.quantity[i] - placed[i]
                guard slack(pi.need[i], x, nil) else {
                    return .failed("need \(i) leaves \(x) unmet at reduced cost \(pi.need[i])")
                }
            }
        }
        return .verified
    }
}

public enum Verification: Sendable, Equatable, CustomStringConvertible {
    case verified
    case failed(String)

    public var isVerified: Bool { self == .verified }

    public var description: String {
        switch self {
        case .verified: "verified"
        case .failed(let why): "not verified: \(why)"
        }
    }
}
