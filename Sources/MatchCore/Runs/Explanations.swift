import CommandProtocol
import MatchingEngine

/// MATCH EXPLAIN: why the engine proposed a pair, and why the alternatives lost.
extension MatchCommands {
    static let matchExplain = CommandSpec(
        "MATCH EXPLAIN", usage: "MATCH EXPLAIN <id>",
        summary: "the score part by part, and the offer's and the need's next-best alternatives and why they lost"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let scope = try context.scope(session)
        let id = try request.id(at: 0, name: "match id")
        let (match, input, runProposals) = try await context.read { db in
            let match = try visibleMatch(id, scope, in: db)
            let kind = try db.needs.load(match.need, lock: false)?.kind
            let input = try db.matches.runInput(RunFilter(kind: kind), needID: nil)
            return (match, input, try db.matches.proposals(run: match.run))
        }
        var lines: [Record] = []
        lines.append(Record([("match", .integer(match.id)), ("need", .integer(match.need)), ("offer", .integer(match.offer)), ("units", .integer(match.units)), ("score", .integer(match.score))]))
        lines.append(Record([("parts", .storedJSON(match.explanation))]))
        let builder = input.builder()
        // The offer's alternatives: other open needs it could serve, best first.
        if let offer = input.offers.first(where: { $0.id == match.offer }) {
            let others = input.needs.filter { $0.id != match.need }
                .compactMap { need in builder.explain(need, offer).map { (need, $0) } }
                .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
                .prefix(5)
            for (need, score) in others {
                let elsewhere = runProposals.filter { $0.key.need == need.id && $0.key.offer != match.offer }.reduce(Int64(0)) { $0 + $1.value.units }
                let why =
                    score.total < match.score
                    ? "scores \(score.total) < \(match.score)"
                    : "scores \(score.total); it was given \(elsewhere) units by other offers, which served the whole better"
                lines.append(
                    Record([
                        ("alternative", .text("need")), ("need", .integer(need.id)), ("score", .integer(score.total)),
                        ("why-not", .text(why)), ("parts", parts(score)),
                    ]))
            }
        }
        guard let need = input.needs.first(where: { $0.id == match.need }) else {
            return .records(header: "explanation", lines)
        }
        // The need's alternatives: every other open offer that could serve it, best first.
        let alternatives = input.offers.filter { $0.id != match.offer }
            .compactMap { offer in builder.explain(need, offer).map { (offer, $0) } }
            .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
            .prefix(5)
        for (offer, score) in alternatives {
            let taken = runProposals.filter { $0.key.offer == offer.id && $0.key.need != match.need }.reduce(Int64(0)) { $0 + $1.value.units }
            let why =
                score.total < match.score
                ? "scores \(score.total) < \(match.score)"
                : "scores \(score.total) but its open capacity went to \(taken) units of needs that scored higher or fit the whole better"
            lines.append(
                Record([
                    ("alternative", .text("offer")), ("offer", .integer(offer.id)), ("score", .integer(score.total)),
                    ("why-not", .text(why)), ("parts", parts(score)),
                ]))
        }
        return .records(header: "explanation", lines)
    }

    /// An alternative's score: the stored form's object in JSON, one readable line in text.
    static func parts(_ score: ScoreBreakdown) -> Record.Value {
        .spelled(explanation(score), text: score.description)
    }
}
