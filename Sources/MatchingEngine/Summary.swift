/// The figures reported for every run.
public struct Summary: Sendable, Equatable {
    public let units: Int64
    public let totalScore: Int64
    /// Over needs with a positive quantity.
    public let needsFullyMet: Int
    public let needsPartlyMet: Int
    public let needsNotMet: Int
    /// Groups (counties) with demand, and those of them that got at least one unit.
    public let groupsWithDemand: Int
    public let groupsServed: Int
    /// Fill ratio = units placed ÷ demand, per group with demand; 1 when there is none.
    public let smallestGroupFill: Double
    /// Gini coefficient of the groups' fill ratios: 0 when all are filled alike.
    public let giniOfGroupFill: Double
    /// `fair` mode: groups with demand whose first share is served in full.
    public let firstSharesMet: Int?
    /// Measured by the caller: the engine has no clock.
    public let solveSeconds: Double?

    public init(_ problem: MatchingProblem, _ solution: Solution, solveSeconds: Double? = nil) {
        let p = problem
        var placed = [Int64](repeating: 0, count: p.needCount)
        for e in 0..<p.edgeCount { placed[Int(p.edgeNeed[e])] += solution.flow[e] }
        var full = 0
        var partly = 0
        var not = 0
        var demand = [Int64](repeating: 0, count: p.groupCount)
        var served = [Int64](repeating: 0, count: p.groupCount)
        for i in 0..<p.needCount where p.quantity[i] > 0 {
            if placed[i] == p.quantity[i] {
                full += 1
            } else if placed[i] > 0 {
                partly += 1
            } else {
                not += 1
            }
            demand[Int(p.needGroup[i])] += p.quantity[i]
            served[Int(p.needGroup[i])] += placed[i]
        }
        let fills = (0..<p.groupCount).filter { demand[$0] > 0 }.map { Double(served[$0]) / Double(demand[$0]) }
        units = solution.units
        totalScore = solution.totalScore
        needsFullyMet = full
        needsPartlyMet = partly
        needsNotMet = not
        groupsWithDemand = fills.count
        groupsServed = (0..<p.groupCount).filter { served[$0] > 0 }.count
        smallestGroupFill = fills.min() ?? 1
        giniOfGroupFill = Self.gini(fills)
        if case .fair(let share) = solution.mode {
            firstSharesMet = (0..<p.groupCount).filter { demand[$0] > 0 && served[$0] >= share.ceilTimes(demand[$0]) }.count
        } else {
            firstSharesMet = nil
        }
        self.solveSeconds = solveSeconds
    }

    /// Mean absolute difference over twice the mean, from the sorted values.
    static func gini(_ values: [Double]) -> Double {
        let x = values.sorted()
        let n = Double(x.count)
        let sum = x.reduce(0, +)
        guard n > 0, sum > 0 else { return 0 }
        var weighted = 0.0
        for (k, v) in x.enumerated() { weighted += Double(k + 1) * v }
        return 2 * weighted / (n * sum) - (n + 1) / n
    }
}
