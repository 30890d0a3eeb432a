/// Deferred acceptance with capacities (hospitals/residents with unit expansion).
///
/// Every unit of need i is a resident (i, u), u = 0..<q_i, ranking offers by
/// (score desc, offer index); offer j ranks residents by (offerPreference desc, need
/// index, u). Needs without quantity and offers without capacity take no part. With
/// strict preferences the need-optimal and the offer-optimal stable outcomes are
/// unique, so they equal those of `../shared/bench/solve_stable.py` unit for unit.
enum StableMatching {
    static func solve(_ p: MatchingProblem, side: Mode.Side) -> Solution {
        let flow = side == .needs ? needsPropose(p) : offersPropose(p)
        var total: Int64 = 0
        var units: Int64 = 0
        for e in 0..<p.edgeCount where flow[e] > 0 {
            total += flow[e] * p.score[e]
            units += flow[e]
        }
        return Solution(
            mode: .stable(side), flow: flow, certificate: .stability, totalScore: total, units: units, pivots: 0)
    }

    /// Pairs that take part: both sides have something to give.
    static func active(_ p: MatchingProblem, _ e: Int) -> Bool {
        p.quantity[Int(p.edgeNeed[e])] > 0 && p.capacity[Int(p.edgeOffer[e])] > 0
    }

    /// Need i prefers pair a to pair b (both at i).
    @inline(__always)
    static func needPrefers(_ p: MatchingProblem, _ a: Int, _ b: Int) -> Bool {
        p.score[a] > p.score[b] || (p.score[a] == p.score[b] && p.edgeOffer[a] < p.edgeOffer[b])
    }

    /// Offer j prefers pair a to pair b (both at j).
    @inline(__always)
    static func offerPrefers(_ p: MatchingProblem, _ a: Int, _ b: Int) -> Bool {
        p.offerPreference[a] > p.offerPreference[b]
            || (p.offerPreference[a] == p.offerPreference[b] && p.edgeNeed[a] < p.edgeNeed[b])
    }

    /// Each need's active pairs in its order of preference, as one flat list.
    static func needLists(_ p: MatchingProblem) -> (start: [Int32], list: [Int32]) {
        var start = [Int32](repeating: 0, count: p.needCount + 1)
        var list: [Int32] = []
        list.reserveCapacity(p.edgeCount)
        for i in 0..<p.needCount {
            let from = list.count
            for e in Int(p.needEdgeStart[i])..<Int(p.needEdgeStart[i + 1]) where active(p, e) {
                list.append(Int32(e))
            }
            list[from...].sort { needPrefers(p, Int($0), Int($1)) }
            start[i + 1] = Int32(list.count)
        }
        return (start, list)
    }

    /// Each offer's active pairs in its order of preference.
    static func offerLists(_ p: MatchingProblem) -> (start: [Int32], list: [Int32]) {
        var start = [Int32](repeating: 0, count: p.offerCount + 1)
        for e in 0..<p.edgeCount where active(p, e) { start[Int(p.edgeOffer[e]) + 1] += 1 }
        for j in 0..<p.offerCount { start[j + 1] += start[j] }
        var fill = start
        var list = [Int32](repeating: 0, count: Int(start[p.offerCount]))
        for e in 0..<p.edgeCount where active(p, e) {
            let j = Int(p.edgeOffer[e])
            list[Int(fill[j])] = Int32(e)
            fill[j] += 1
        }
        for j in 0..<p.offerCount {
            list[Int(start[j])..<Int(start[j + 1])].sort { offerPrefers(p, Int($0), Int($1)) }
        }
        return (start, list)
    }

    /// Needs propose. Units of one need are interchangeable up to their index, and every
    /// offer ranks them by index, so a need's units at one list position move together:
    /// the run keeps counts per pair instead of single residents, which is one valid
    /// order of the unit-level proposals and so reaches the same (unique) outcome.
    static func needsPropose(_ p: MatchingProblem) -> [Int64] {
        let (start, list) = needLists(p)
        var position = [Int32](repeating: 0, count: p.edgeCount)
        for i in 0..<p.needCount {
            for k in Int(start[i])..<Int(start[i + 1]) { position[Int(list[k])] = Int32(k) }
        }
        var held = [Int64](repeating: 0, count: p.edgeCount)
        var load = [Int64](repeating: 0, count: p.offerCount)
        // Per offer, a heap of held pairs with the least preferred on top.
        var heaps = [[Int32]](repeating: [], count: p.offerCount)
        // (need, list position, units) still to place.
        var tasks: [(Int32, Int32, Int64)] = []
        for i in stride(from: p.needCount - 1, through: 0, by: -1) where p.quantity[i] > 0 && start[i] < start[i + 1] {
            tasks.append((Int32(i), start[i], p.quantity[i]))
        }
        let worse: (Int32, Int32) -> Bool = { a, b in offerPrefers(p, Int(b), Int(a)) }
        while let (need, pos0, units0) = tasks.popLast() {
            var pos = Int(pos0)
            var units = units0
            let end = Int(start[Int(need) + 1])
            while units > 0 && pos < end {
                let e = Int(list[pos])
                let j = Int(p.edgeOffer[e])
                if held[e] == 0 { heapPush(&heaps[j], Int32(e), worse) }
                held[e] += units
                load[j] += units
                units = 0
                while load[j] > p.capacity[j] {
                    let w = Int(heaps[j][0])
                    let take = min(load[j] - p.capacity[j], held[w])
                    held[w] -= take
                    load[j] -= take
                    if held[w] == 0 { heapPop(&heaps[j], worse) }
                    if w == e {
                        units += take
                    } else {
                        tasks.append((p.edgeNeed[w], position[w] + 1, take))
                    }
                }
                pos += 1
            }
        }
        return held
    }

    /// Offers propose, resident by resident, as in the reference.
    static func offersPropose(_ p: MatchingProblem) -> [Int64] {
        let (start, list) = offerLists(p)
        var base = [Int](repeating: 0, count: p.needCount + 1)
        for i in 0..<p.needCount { base[i + 1] = base[i] + Int(p.quantity[i]) }
        // The pair each resident holds, or -1.
        var holds = [Int32](repeating: -1, count: base[p.needCount])
        var count = [Int64](repeating: 0, count: p.offerCount)
        var next = start.map { Int($0) }
        var nextUnit = [Int64](repeating: 0, count: p.offerCount)
        var stack = Array((0..<Int32(p.offerCount)).reversed())
        while let jj = stack.popLast() {
            let j = Int(jj)
            while count[j] < p.capacity[j] && next[j] < Int(start[j + 1]) {
                let e = Int(list[next[j]])
                let i = Int(p.edgeNeed[e])
                let r = base[i] + Int(nextUnit[j])
                nextUnit[j] += 1
                if nextUnit[j] == p.quantity[i] {
                    nextUnit[j] = 0
                    next[j] += 1
                }
                let cur = Int(holds[r])
                if cur < 0 {
                    holds[r] = Int32(e)
                    count[j] += 1
                } else if needPrefers(p, e, cur) {
                    holds[r] = Int32(e)
                    count[j] += 1
                    let k = Int(p.edgeOffer[cur])
                    count[k] -= 1
                    stack.append(Int32(k))
                }
            }
        }
        var flow = [Int64](repeating: 0, count: p.edgeCount)
        for e in holds where e >= 0 { flow[Int(e)] += 1 }
        return flow
    }

    /// A pair (i, j) blocks when need i has a unit unplaced or placed with an offer it
    /// likes less than j, and offer j has room or holds a unit of a need it likes less
    /// than i. Units of one need are numbered best placement first (unplaced last), so
    /// only units of other needs can be displaced. Returns the first blocking pair.
    static func blockingPair(_ p: MatchingProblem, flow: [Int64]) -> Int? {
        var placed = [Int64](repeating: 0, count: p.needCount)
        var needWorst = [Int32](repeating: -1, count: p.needCount)
        var load = [Int64](repeating: 0, count: p.offerCount)
        var offerWorst = [Int32](repeating: -1, count: p.offerCount)
        for e in 0..<p.edgeCount where flow[e] > 0 {
            let i = Int(p.edgeNeed[e])
            let j = Int(p.edgeOffer[e])
            placed[i] += flow[e]
            load[j] += flow[e]
            if needWorst[i] < 0 || needPrefers(p, Int(needWorst[i]), e) { needWorst[i] = Int32(e) }
            if offerWorst[j] < 0 || offerPrefers(p, Int(offerWorst[j]), e) { offerWorst[j] = Int32(e) }
        }
        for e in 0..<p.edgeCount where active(p, e) {
            let i = Int(p.edgeNeed[e])
            let j = Int(p.edgeOffer[e])
            let needWants = placed[i] < p.quantity[i] || needPrefers(p, e, Int(needWorst[i]))
            let offerWants = load[j] < p.capacity[j] || offerPrefers(p, e, Int(offerWorst[j]))
            if needWants && offerWants { return e }
        }
        return nil
    }

    private static func heapPush(_ h: inout [Int32], _ x: Int32, _ above: (Int32, Int32) -> Bool) {
        h.append(x)
        var c = h.count - 1
        while c > 0 {
            let parent = (c - 1) / 2
            guard above(h[c], h[parent]) else { break }
            h.swapAt(c, parent)
            c = parent
        }
    }

    private static func heapPop(_ h: inout [Int32], _ above: (Int32, Int32) -> Bool) {
        let last = h.removeLast()
        guard !h.isEmpty else { return }
        h[0] = last
        var c = 0
        while true {
            let l = 2 * c + 1
            guard l < h.count else { break }
            var best = l
            if l + 1 < h.count && above(h[l + 1], h[l]) { best = l + 1 }
            guard above(h[best], h[c]) else { break }
            h.swapAt(c, best)
            c = best
        }
    }
}
