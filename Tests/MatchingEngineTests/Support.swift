import Foundation
import MatchingEngine

/// splitmix64, as the bench generator uses: seeded and identical everywhere.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func between(_ lo: Int, _ hi: Int) -> Int { lo + below(hi - lo + 1) }
}

enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func problem(_ name: String) throws -> MatchingProblem {
        try InstanceFormat.parse(text(name))
    }

    static func records(_ name: String) throws -> InstanceRecords {
        let bytes = Array(try text(name).utf8)
        return try bytes.withUnsafeBufferPointer { try InstanceFormat.records($0) }
    }
}

extension MatchingProblem {
    /// Sorted `need offer units` lines, the format of the reference flow files.
    func flowText(_ flow: [Int64]) -> String {
        var s = ""
        for e in 0..<edgeCount where flow[e] > 0 {
            s += "\(edgeNeed[e]) \(edgeOffer[e]) \(flow[e])\n"
        }
        return s
    }

    /// A random problem small enough for exhaustive search.
    static func random(_ rng: inout SplitMix64, needs: Int, offers: Int, groups: Int = 2) -> MatchingProblem {
        var en: [Int32] = []
        var eo: [Int32] = []
        var sc: [Int64] = []
        var pref: [Int64] = []
        for i in 0..<needs {
            for j in 0..<offers where rng.below(100) < 55 {
                en.append(Int32(i))
                eo.append(Int32(j))
                sc.append(Int64(rng.between(1, 9)))
                pref.append(Int64(rng.between(0, 3)))
            }
        }
        return try! MatchingProblem(
            quantity: (0..<needs).map { _ in Int64(rng.between(0, 3)) },
            capacity: (0..<offers).map { _ in Int64(rng.between(0, 3)) },
            edgeNeed: en, edgeOffer: eo, score: sc, offerPreference: pref,
            needGroup: (0..<needs).map { _ in Int32(rng.below(groups)) },
            groupNames: (0..<groups).map { "G\($0)" })
    }
}

/// Exhaustive search over all integer flows.
enum BruteForce {
    /// Calls `visit` with every feasible flow.
    static func forEachFlow(_ p: MatchingProblem, _ visit: ([Int64]) -> Void) {
        var flow = [Int64](repeating: 0, count: p.edgeCount)
        var needLeft = p.quantity
        var offerLeft = p.capacity
        func go(_ e: Int) {
            if e == p.edgeCount {
                visit(flow)
                return
            }
            let i = Int(p.edgeNeed[e])
            let j = Int(p.edgeOffer[e])
            for x in 0...min(needLeft[i], offerLeft[j]) {
                flow[e] = x
                needLeft[i] -= x
                offerLeft[j] -= x
                go(e + 1)
                needLeft[i] += x
                offerLeft[j] += x
            }
            flow[e] = 0
        }
        go(0)
    }

    static func score(_ p: MatchingProblem, _ flow: [Int64]) -> Int64 {
        (0..<p.edgeCount).reduce(0) { $0 + flow[$1] * p.score[$1] }
    }

    /// The best value of `key` (compared lexicographically) over all flows.
    static func best(_ p: MatchingProblem, _ key: ([Int64]) -> [Int64]) -> [Int64] {
        var best: [Int64]?
        forEachFlow(p) { flow in
            let k = key(flow)
            if best.map({ $0.lexicographicallyPrecedes(k) }) ?? true { best = k }
        }
        return best!
    }

    static func firstShareUnits(_ p: MatchingProblem, _ flow: [Int64], share: Fraction) -> Int64 {
        var demand = [Int64](repeating: 0, count: p.groupCount)
        var served = [Int64](repeating: 0, count: p.groupCount)
        for i in 0..<p.needCount { demand[Int(p.needGroup[i])] += p.quantity[i] }
        for e in 0..<p.edgeCount { served[Int(p.needGroup[Int(p.edgeNeed[e])])] += flow[e] }
        return (0..<p.groupCount).reduce(0) { $0 + min(served[$1], share.ceilTimes(demand[$1])) }
    }
}

/// Deferred acceptance written the plain way, one resident (unit) at a time, after
/// `solve_stable.py --algo own`: the engine's counting version must agree with it.
enum UnitDeferredAcceptance {
    static func solve(_ p: MatchingProblem, needsPropose: Bool) -> [Int64] {
        var edgeOf: [Int: Int] = [:]
        for e in 0..<p.edgeCount { edgeOf[Int(p.edgeNeed[e]) * p.offerCount + Int(p.edgeOffer[e])] = e }
        let valid = (0..<p.edgeCount).filter {
            p.quantity[Int(p.edgeNeed[$0])] > 0 && p.capacity[Int(p.edgeOffer[$0])] > 0
        }
        var needPref: [Int: [Int]] = [:]
        var offerPref: [Int: [Int]] = [:]
        for e in valid {
            needPref[Int(p.edgeNeed[e]), default: []].append(e)
            offerPref[Int(p.edgeOffer[e]), default: []].append(e)
        }
        for (i, l) in needPref { needPref[i] = l.sorted { (-p.score[$0], p.edgeOffer[$0]) < (-p.score[$1], p.edgeOffer[$1]) } }
        for (j, l) in offerPref {
            offerPref[j] = l.sorted {
                (-p.offerPreference[$0], p.edgeNeed[$0]) < (-p.offerPreference[$1], p.edgeNeed[$1])
            }
        }
        // Residents (i, u) for needs with a list.
        var residents: [(need: Int, unit: Int)] = []
        for i in needPref.keys.sorted() {
            for u in 0..<Int(p.quantity[i]) { residents.append((i, u)) }
        }
        let resIndex = Dictionary(uniqueKeysWithValues: residents.enumerated().map { ("\($1.need):\($1.unit)", $0) })
        func hospitalList(_ j: Int) -> [Int] {
            offerPref[j, default: []].flatMap { e in
                (0..<Int(p.quantity[Int(p.edgeNeed[e])])).map { resIndex["\(p.edgeNeed[e]):\($0)"]! }
            }
        }
        var match = [Int](repeating: -1, count: residents.count)  // offer
        if needsPropose {
            var rank: [Int: [Int: Int]] = [:]
            for j in offerPref.keys { rank[j] = Dictionary(uniqueKeysWithValues: hospitalList(j).enumerated().map { ($1, $0) }) }
            var held: [Int: [Int]] = [:]
            var next = [Int](repeating: 0, count: residents.count)
            var free = Array((0..<residents.count).reversed())
            while var r = free.popLast() {
                while true {
                    let list = needPref[residents[r].need]!
                    guard next[r] < list.count else { break }
                    let j = Int(p.edgeOffer[list[next[r]]])
                    next[r] += 1
                    held[j, default: []].append(r)
                    match[r] = j
                    if held[j]!.count <= Int(p.capacity[j]) { break }
                    let worst = held[j]!.max { rank[j]![$0]! < rank[j]![$1]! }!
                    held[j]!.removeAll { $0 == worst }
                    match[worst] = -1
                    if worst == r { continue }
                    r = worst
                }
            }
        } else {
            var count = [Int](repeating: 0, count: p.offerCount)
            var next = [Int](repeating: 0, count: p.offerCount)
            var lists: [Int: [Int]] = [:]
            for j in offerPref.keys { lists[j] = hospitalList(j) }
            func needRank(_ r: Int, _ j: Int) -> Int {
                needPref[residents[r].need]!.firstIndex { Int(p.edgeOffer[$0]) == j }!
            }
            var stack = lists.keys.sorted(by: >)
            while let j = stack.popLast() {
                let list = lists[j]!
                while count[j] < Int(p.capacity[j]) && next[j] < list.count {
                    let r = list[next[j]]
                    next[j] += 1
                    let cur = match[r]
                    if cur < 0 {
                        match[r] = j
                        count[j] += 1
                    } else if needRank(r, j) < needRank(r, cur) {
                        match[r] = j
                        count[j] += 1
                        count[cur] -= 1
                        stack.append(cur)
                    }
                }
            }
        }
        var flow = [Int64](repeating: 0, count: p.edgeCount)
        for (r, j) in match.enumerated() where j >= 0 {
            flow[edgeOf[residents[r].need * p.offerCount + j]!] += 1
        }
        return flow
    }
}
