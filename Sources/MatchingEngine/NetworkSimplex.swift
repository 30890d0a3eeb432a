/// A min-cost flow network together with a feasible starting basis.
///
/// The engine always knows a strongly feasible spanning tree in advance (every need can
/// drop its units on a bypass arc to the sink), so the solver starts from it instead of
/// from artificial arcs: no phase one, and the first pivots already improve the score.
struct FlowNetwork: Sendable {
    static let uncapacitated = Int64.max

    var nodeCount: Int
    var root: Int32
    var source: [Int32] = []
    var target: [Int32] = []
    var cost: [Int64] = []
    var capacity: [Int64] = []
    /// A feasible flow; arcs outside the tree must sit at 0 or at their capacity.
    var flow: [Int64] = []
    /// For every node but the root, the arc joining it to its parent in the starting
    /// tree. The tree must be strongly feasible: each node can push one more unit to
    /// the root along it.
    var treeArc: [Int32]

    init(nodeCount: Int, root: Int32, arcCapacity: Int) {
        self.nodeCount = nodeCount
        self.root = root
        treeArc = Array(repeating: -1, count: nodeCount)
        source.reserveCapacity(arcCapacity)
        target.reserveCapacity(arcCapacity)
        cost.reserveCapacity(arcCapacity)
        capacity.reserveCapacity(arcCapacity)
        flow.reserveCapacity(arcCapacity)
    }

    @discardableResult
    mutating func addArc(from u: Int32, to v: Int32, cost c: Int64, capacity cap: Int64, flow f: Int64 = 0) -> Int32 {
        source.append(u)
        target.append(v)
        cost.append(c)
        capacity.append(cap)
        flow.append(f)
        return Int32(source.count - 1)
    }
}

/// Optimal flow and node potentials (up to a common constant): reduced cost
/// `cost + potential[source] - potential[target]`
/// is ≥ 0 on arcs at 0, ≤ 0 on saturated arcs and 0 in between.
struct FlowOptimum: Sendable {
    var flow: [Int64]
    var potential: [Int64]
    var pivots: Int
}

/// Primal network simplex with block pivot search and a thread-indexed spanning tree
/// (preorder thread, subtree sizes, last descendant), the layout of Grigoriadis and of
/// LEMON. Leaving arcs are chosen so the tree stays strongly feasible, which rules out
/// cycling on the many degenerate pivots of transportation problems.
enum NetworkSimplex {
    static func solve(_ net: FlowNetwork) -> FlowOptimum {
        var flow = net.flow
        var potential = [Int64](repeating: 0, count: net.nodeCount)
        var pivots = 0
        flow.withUnsafeMutableBufferPointer { flowBuf in
            potential.withUnsafeMutableBufferPointer { piBuf in
                net.source.withUnsafeBufferPointer { src in
                    net.target.withUnsafeBufferPointer { tgt in
                        net.cost.withUnsafeBufferPointer { cost in
                            net.capacity.withUnsafeBufferPointer { cap in
                                net.treeArc.withUnsafeBufferPointer { tree in
                                    var work = Work(
                                        nodeCount: net.nodeCount, root: net.root,
                                        source: src, target: tgt, cost: cost, capacity: cap,
                                        flow: flowBuf, pi: piBuf, treeArc: tree)
                                    pivots = work.run()
                                    work.deallocate()
                                }
                            }
                        }
                    }
                }
            }
        }
        return FlowOptimum(flow: flow, potential: potential, pivots: pivots)
    }

    /// Raw buffers only, so the pivot loop does no reference counting.
    private struct Work {
        let n: Int
        let m: Int
        let root: Int32
        let src: UnsafeBufferPointer<Int32>
        let tgt: UnsafeBufferPointer<Int32>
        let cost: UnsafeBufferPointer<Int64>
        let cap: UnsafeBufferPointer<Int64>
        let flow: UnsafeMutableBufferPointer<Int64>
        let pi: UnsafeMutableBufferPointer<Int64>
        /// +1 at lower bound, -1 at upper bound, 0 in the tree: `state * reducedCost < 0`
        /// means the arc can enter.
        let state: UnsafeMutableBufferPointer<Int8>
        let parent: UnsafeMutableBufferPointer<Int32>
        let pred: UnsafeMutableBufferPointer<Int32>
        /// +1 when the tree arc points from the node to its parent, -1 otherwise.
        let predDir: UnsafeMutableBufferPointer<Int64>
        let thread: UnsafeMutableBufferPointer<Int32>
        let revThread: UnsafeMutableBufferPointer<Int32>
        let succNum: UnsafeMutableBufferPointer<Int32>
        let lastSucc: UnsafeMutableBufferPointer<Int32>
        /// Scratch for the stem of a pivot: its nodes and the pieces of the new thread.
        var stem: [Int32] = []
        var stemSucc: [Int32] = []
        var stemLast: [Int32] = []
        var pieces: [Int32] = []

        init(
            nodeCount: Int, root: Int32,
            source: UnsafeBufferPointer<Int32>, target: UnsafeBufferPointer<Int32>,
            cost: UnsafeBufferPointer<Int64>, capacity: UnsafeBufferPointer<Int64>,
            flow: UnsafeMutableBufferPointer<Int64>, pi: UnsafeMutableBufferPointer<Int64>,
            treeArc: UnsafeBufferPointer<Int32>
        ) {
            n = nodeCount
            m = source.count
            self.root = root
            src = source
            tgt = target
            self.cost = cost
            cap = capacity
            self.flow = flow
            self.pi = pi
            state = .allocate(capacity: m)
            parent = .allocate(capacity: n)
            pred = .allocate(capacity: n)
            predDir = .allocate(capacity: n)
            thread = .allocate(capacity: n)
            revThread = .allocate(capacity: n)
            succNum = .allocate(capacity: n)
            lastSucc = .allocate(capacity: n)
            for e in 0..<m {
                state[e] = flow[e] == 0 ? 1 : -1
            }
            for u in 0..<n {
                let e = treeArc[u]
                pred[u] = e
                if u == Int(root) {
                    parent[u] = -1
                    predDir[u] = 0
                    continue
                }
                state[Int(e)] = 0
                if src[Int(e)] == Int32(u) {
                    parent[u] = tgt[Int(e)]
                    predDir[u] = 1
                } else {
                    parent[u] = src[Int(e)]
                    predDir[u] = -1
                }
            }
            buildThread()
        }

        func deallocate() {
            state.deallocate()
            parent.deallocate()
            pred.deallocate()
            predDir.deallocate()
            thread.deallocate()
            revThread.deallocate()
            succNum.deallocate()
            lastSucc.deallocate()
        }

        /// Preorder thread, subtree sizes, last descendants and potentials of the start tree.
        private func buildThread() {
            var childStart = [Int32](repeating: 0, count: n + 1)
            for u in 0..<n where parent[u] >= 0 { childStart[Int(parent[u]) + 1] += 1 }
            for u in 0..<n { childStart[u + 1] += childStart[u] }
            var fill = childStart
            var children = [Int32](repeating: 0, count: max(n - 1, 0))
            for u in 0..<n where parent[u] >= 0 {
                let p = Int(parent[u])
                children[Int(fill[p])] = Int32(u)
                fill[p] += 1
            }
            var order: [Int32] = []
            order.reserveCapacity(n)
            var stack: [Int32] = [root]
            while let u = stack.popLast() {
                order.append(u)
                let ui = Int(u)
                var k = Int(childStart[ui + 1]) - 1
                while k >= Int(childStart[ui]) {
                    stack.append(children[k])
                    k -= 1
                }
            }
            precondition(order.count == n, "starting basis is not a spanning tree")
            for k in 0..<n {
                let u = Int(order[k])
                let next = order[(k + 1) % n]
                thread[u] = next
                revThread[Int(next)] = Int32(u)
                succNum[u] = 1
                lastSucc[u] = Int32(u)
                if u == Int(root) {
                    pi[u] = 0
                } else {
                    let p = Int(parent[u])
                    // A tree arc has reduced cost 0.
                    pi[u] = pi[p] - predDir[u] * cost[Int(pred[u])]
                }
            }
            for k in stride(from: n - 1, through: 1, by: -1) {
                let u = Int(order[k])
                succNum[Int(parent[u])] += succNum[u]
            }
            for k in 0..<n {
                let u = Int(order[k])
                lastSucc[u] = order[k + Int(succNum[u]) - 1]
            }
        }

        mutating func run() -> Int {
            // A quarter of LEMON's √arcs: measured on the bench's medium and large
            // instances, smaller blocks cost a few more pivots but far less pricing
            // (medium 1.1 → 0.65 s, large 33 → 23 s; an eighth is slower again).
            let blockSize = max(10, Int(Double(m).squareRoot()) / 4)
            var nextArc = 0
            var pivots = 0
            stem.reserveCapacity(64)
            while true {
                // Block search: scan `blockSize` arcs, take the most violating one seen.
                var inArc = -1
                var best: Int64 = 0
                var count = blockSize
                var e = nextArc
                var scanned = 0
                while scanned < m {
                    // Costs and potentials stay far below 2^62, so wrapping arithmetic is exact.
                    let c = Int64(state[e]) &* (cost[e] &+ pi[Int(src[e])] &- pi[Int(tgt[e])])
                    if c < best {
                        best = c
                        inArc = e
                    }
                    e &+= 1
                    if e == m { e = 0 }
                    scanned &+= 1
                    count &-= 1
                    if count == 0 {
                        if inArc >= 0 { break }
                        count = blockSize
                    }
                }
                if inArc < 0 { return pivots }
                nextArc = e
                pivots += 1
                pivot(inArc)
            }
        }

        private mutating func pivot(_ inArc: Int) {
            // Join node: the root of the smallest subtree holding both ends.
            var a = src[inArc]
            var b = tgt[inArc]
            while a != b {
                if succNum[Int(a)] < succNum[Int(b)] { a = parent[Int(a)] } else { b = parent[Int(b)] }
            }
            let join = a

            // Flow moves along the cycle first → (inArc) → second → … → join → … → first.
            let first: Int32
            let second: Int32
            if state[inArc] == 1 {
                first = src[inArc]
                second = tgt[inArc]
            } else {
                first = tgt[inArc]
                second = src[inArc]
            }
            var delta = cap[inArc]
            var uOut: Int32 = -1
            var leavingOnFirstSide = false
            // Ties: keep the last blocking arc in cycle order seen from join, which keeps
            // the tree strongly feasible.
            var u = first
            while u != join {
                let t = Int(pred[Int(u)])
                let d = predDir[Int(u)] == 1 ? flow[t] : residual(t)
                if d < delta {
                    delta = d
                    uOut = u
                    leavingOnFirstSide = true
                }
                u = parent[Int(u)]
            }
            u = second
            while u != join {
                let t = Int(pred[Int(u)])
                let d = predDir[Int(u)] == 1 ? residual(t) : flow[t]
                if d <= delta {
                    delta = d
                    uOut = u
                    leavingOnFirstSide = false
                }
                u = parent[Int(u)]
            }
            precondition(delta != FlowNetwork.uncapacitated, "unbounded: a negative cycle without capacity")

            if delta > 0 {
                let val = Int64(state[inArc]) * delta
                flow[inArc] += val
                u = src[inArc]
                while u != join {
                    flow[Int(pred[Int(u)])] -= predDir[Int(u)] * val
                    u = parent[Int(u)]
                }
                u = tgt[inArc]
                while u != join {
                    flow[Int(pred[Int(u)])] += predDir[Int(u)] * val
                    u = parent[Int(u)]
                }
            }
            if uOut < 0 {
                // The entering arc itself blocks: it swaps bound, the tree stays.
                state[inArc] = -state[inArc]
                return
            }
            let outArc = Int(pred[Int(uOut)])
            state[inArc] = 0
            state[outArc] = flow[outArc] == 0 ? 1 : -1

            let uIn: Int32
            let vIn: Int32
            if leavingOnFirstSide {
                uIn = first
                vIn = second
            } else {
                uIn = second
                vIn = first
            }
            rehang(uIn: uIn, vIn: vIn, uOut: uOut, join: join, inArc: Int32(inArc))
        }

        @inline(__always)
        private func residual(_ e: Int) -> Int64 {
            let c = cap[e]
            return c == FlowNetwork.uncapacitated ? c : c - flow[e]
        }

        /// Cuts the subtree S of `uOut`, re-roots it at `uIn` (reversing the stem from
        /// `uIn` up to `uOut`) and hangs it under `vIn` through the entering arc.
        ///
        /// With stem s0 = uIn, s1, …, sk = uOut and old subtrees S0 ⊂ S1 ⊂ … ⊂ Sk, the new
        /// preorder of S is S0, S1∖S0, …, Sk∖Sk−1 (each in its old order), placed right after
        /// vIn. Every Si∖Si−1 is at most two runs of the old thread, so the relinking costs
        /// O(stem) and only the potentials cost O(|S|).
        private mutating func rehang(uIn: Int32, vIn: Int32, uOut: Int32, join: Int32, inArc: Int32) {
            stem.removeAll(keepingCapacity: true)
            stemSucc.removeAll(keepingCapacity: true)
            stemLast.removeAll(keepingCapacity: true)
            var s = uIn
            while true {
                stem.append(s)
                stemSucc.append(succNum[Int(s)])
                stemLast.append(lastSucc[Int(s)])
                if s == uOut { break }
                s = parent[Int(s)]
            }
            let k = stem.count - 1
            let sizeS = stemSucc[k]
            let oldLast = stemLast[k]
            let before = revThread[Int(uOut)]
            let after = thread[Int(oldLast)]
            let vOut = parent[Int(uOut)]

            // 1. Take S out of the thread.
            thread[Int(before)] = after
            revThread[Int(after)] = before

            // 2. New order of S as runs (start, end).
            pieces.removeAll(keepingCapacity: true)
            pieces.append(uIn)
            pieces.append(stemLast[0])
            if k > 0 {
                for t in 1...k {
                    let st = stem[t]
                    let prev = stem[t - 1]
                    pieces.append(st)
                    pieces.append(revThread[Int(prev)])
                    if stemLast[t - 1] != stemLast[t] {
                        pieces.append(thread[Int(stemLast[t - 1])])
                        pieces.append(stemLast[t])
                    }
                }
            }
            var p = 2
            while p < pieces.count {
                let end = pieces[p - 1]
                let start = pieces[p]
                thread[Int(end)] = start
                revThread[Int(start)] = end
                p += 2
            }
            let newLast = pieces[pieces.count - 1]
            let afterVIn = thread[Int(vIn)]
            thread[Int(vIn)] = uIn
            revThread[Int(uIn)] = vIn
            thread[Int(newLast)] = afterVIn
            revThread[Int(afterVIn)] = newLast

            // 3. Last descendants of ancestors outside S. Old ancestors first: one that
            // ended with S now ends just before it, unless S comes straight back there.
            var a = vOut
            var aboveJoin = vOut == join
            while a >= 0 && lastSucc[Int(a)] == oldLast {
                lastSucc[Int(a)] = aboveJoin && before == vIn ? newLast : before
                a = parent[Int(a)]
                if a == join { aboveJoin = true }
            }
            a = vIn
            while a >= 0 && lastSucc[Int(a)] == vIn {
                lastSucc[Int(a)] = newLast
                a = parent[Int(a)]
            }

            // 4. Subtree sizes.
            a = vIn
            while a != join {
                succNum[Int(a)] += sizeS
                a = parent[Int(a)]
            }
            a = vOut
            while a != join {
                succNum[Int(a)] -= sizeS
                a = parent[Int(a)]
            }

            // 5. Reverse the stem.
            if k > 0 {
                for t in stride(from: k, through: 1, by: -1) {
                    let st = Int(stem[t])
                    let below = Int(stem[t - 1])
                    parent[st] = stem[t - 1]
                    pred[st] = pred[below]
                    predDir[st] = -predDir[below]
                    succNum[st] = sizeS - stemSucc[t - 1]
                    lastSucc[st] = newLast
                }
            }
            parent[Int(uIn)] = vIn
            pred[Int(uIn)] = inArc
            predDir[Int(uIn)] = src[Int(inArc)] == uIn ? 1 : -1
            succNum[Int(uIn)] = sizeS
            lastSucc[Int(uIn)] = newLast

            // 6. Potentials of S, so the entering arc gets reduced cost 0.
            // Potentials matter only up to a constant (the caller reads them relative to the
            // root), so the smaller side moves: S by +sigma, or everything else by -sigma.
            let sigma = pi[Int(vIn)] - predDir[Int(uIn)] * cost[Int(inArc)] - pi[Int(uIn)]
            if sigma != 0 {
                if Int(sizeS) <= n / 2 {
                    var v = uIn
                    for _ in 0..<Int(sizeS) {
                        pi[Int(v)] &+= sigma
                        v = thread[Int(v)]
                    }
                } else {
                    var v = thread[Int(newLast)]
                    for _ in 0..<(n - Int(sizeS)) {
                        pi[Int(v)] &-= sigma
                        v = thread[Int(v)]
                    }
                }
            }
        }
    }
}
