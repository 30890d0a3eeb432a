import ArgumentParser
import Foundation
import MatchingEngine

/// Offline solving of an exported instance (format of `../shared/bench/README.md`), for
/// what-if studies and the benchmark.
struct Solve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Solve an instance file and check the solution's certificate.",
        discussion: """
            Prints one line: objective=<total score> units=<units placed> solve_s=<seconds, \
            solver alone> verified=yes. Exits non-zero when the file is bad or the \
            certificate does not verify.
            """
    )

    enum ModeName: String, ExpressibleByArgument, CaseIterable {
        case optimal, fair, stable
    }

    enum ObjectiveName: String, ExpressibleByArgument, CaseIterable {
        case score
        case unitsFirst = "units-first"
    }

    enum SideName: String, ExpressibleByArgument, CaseIterable {
        case needs, offers
    }

    @Argument(help: "Instance file.")
    var file: String

    @Option(help: "optimal | fair | stable.")
    var mode: ModeName = .optimal

    @Option(help: "For optimal: score (maximum total score) or units-first (most units, then score).")
    var objective: ObjectiveName = .score

    @Option(help: "For fair: each county's first share of its demand, a decimal in 0...1.")
    var share: String = "0.3"

    @Option(help: "For stable: needs (need-optimal, needs propose) or offers (offer-optimal).")
    var side: SideName = .needs

    @Option(help: "Write the flows here as sorted 'need offer units' lines.")
    var out: String?

    @Flag(help: "Also print the summary figures (fill ratios, needs met, counties served).")
    var summary = false

    @Flag(help: "Ignore the file's edges: build candidates and scores from its need and offer lines (default weights), and print their time first.")
    var fromRecords = false

    func run() async throws {
        let engineMode: Mode
        switch mode {
        case .optimal: engineMode = .optimal(objective == .score ? .score : .unitsFirst)
        case .fair: engineMode = .fair(share: try Self.fraction(share))
        case .stable: engineMode = .stable(side == .needs ? .needs : .offers)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SolveFailure("cannot read \(file)")
        }
        let clock = ContinuousClock()
        let parseStart = clock.now
        let problem: MatchingProblem
        do {
            if fromRecords {
                let records = try data.withUnsafeBytes { raw in
                    try InstanceFormat.records(raw.bindMemory(to: UInt8.self))
                }
                let buildStart = clock.now
                let set = try CandidateBuilder(pairings: records.pairings).build(
                    needs: records.needs, offers: records.offers)
                print("candidates_s=\(Self.seconds(clock.now - buildStart)) pairs=\(set.problem.edgeCount)")
                problem = set.problem
            } else {
                problem = try data.withUnsafeBytes { raw in
                    try InstanceFormat.parse(raw.bindMemory(to: UInt8.self))
                }
            }
        } catch {
            throw SolveFailure("\(file): \(error)")
        }
        let parseTime = clock.now - parseStart
        let solveStart = clock.now
        let solution = try Solver.solve(problem, mode: engineMode)
        let solveTime = clock.now - solveStart
        let verification = Verifier.verify(problem, solution)
        guard verification.isVerified else {
            throw SolveFailure("\(file): \(verification)")
        }
        if let out {
            try Self.writeFlows(problem, solution, to: out)
        }
        print("objective=\(solution.totalScore) units=\(solution.units) solve_s=\(Self.seconds(solveTime)) verified=yes")
        if summary {
            let s = Summary(problem, solution)
            print("""
                parse_s=\(Self.seconds(parseTime)) needs=\(problem.needCount) offers=\(problem.offerCount) \
                pairs=\(problem.edgeCount) demand=\(problem.totalQuantity) pivots=\(solution.pivots)
                needs_full=\(s.needsFullyMet) needs_partial=\(s.needsPartlyMet) needs_unmet=\(s.needsNotMet) \
                counties_served=\(s.groupsServed)/\(s.groupsWithDemand) \
                min_county_fill=\(Self.ratio(s.smallestGroupFill)) gini_county_fill=\(Self.ratio(s.giniOfGroupFill))\
                \(s.firstSharesMet.map { " first_shares_met=\($0)/\(s.groupsWithDemand)" } ?? "")
                """)
        }
    }

    static func seconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        return String(format: "%.3f", Double(s) + Double(atto) / 1e18)
    }

    static func ratio(_ x: Double) -> String { String(format: "%.4f", x) }

    static func fraction(_ text: String) throws -> Fraction {
        guard let share = Fraction(share: text) else {
            throw ValidationError("--share must be a decimal between 0 and 1 (0.3) or a fraction (3/10), got '\(text)'")
        }
        return share
    }

    static func writeFlows(_ problem: MatchingProblem, _ solution: Solution, to path: String) throws {
        var text: [UInt8] = []
        text.reserveCapacity(16 * Int(min(solution.units, Int64(problem.edgeCount))))
        for e in 0..<problem.edgeCount where solution.flow[e] > 0 {
            text.append(contentsOf: "\(problem.edgeNeed[e]) \(problem.edgeOffer[e]) \(solution.flow[e])\n".utf8)
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text)) else {
            throw SolveFailure("cannot write \(path)")
        }
    }
}

struct SolveFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
