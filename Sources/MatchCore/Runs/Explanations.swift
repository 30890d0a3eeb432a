import CommandProtocol
import Foundation
import MatchingEngine

/// MATCH EXPLAIN: why the engine proposed a pair, and how the alternatives fared in the same run.
extension MatchCommands {
    static let matchExplain = CommandSpec(
        "MATCH EXPLAIN", usage: "MATCH EXPLAIN <id>",
        summary: "the score part by part, and the offer's and the need's next-best alternatives and how they fared in the run"
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
        lines.append(Record([("parts", storedParts(match.explanation))]))
        let builder = input.builder()
        // The offer's alternatives: other open needs it could serve, best first. A west token
        // sees other counties' needs without their ids, as it may not read them.
        if let offer = input.offers.first(where: { $0.id == match.offer }) {
            let others = input.needs.filter { $0.id != match.need }
                .compactMap { need in builder.explain(need, offer).map { (need, $0) } }
                .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
                .prefix(5)
            for (need, score) in others {
                let served = runProposals.filter { $0.key.need == need.id && $0.key.offer != match.offer }.reduce(Int64(0)) { $0 + $1.value.units }
                // A need that other offers served in this run did not lose: it is told as served.
                let how =
                    served > 0
                    ? "served in this run: given \(served) units by other offers"
                    : score.total < match.score
                        ? "scores \(score.total) < \(match.score)"
                        : "scores \(score.total) but was given no units in this run: the units went where the whole scores more"
                let visible = scope == .everything || SubmissionCommands.contains(scope, county: need.county) || !scope.isWest
                lines.append(
                    Record(
                        (visible ? [("alternative", .text("need")), ("need", .integer(need.id))] : [("alternative", .text("another county's need"))])
                            + [("score", .integer(score.total)), ("served", .integer(served)), ("why-not", .text(how)), ("parts", parts(score))]))
            }
        }
        guard let need = input.needs.first(where: { $0.id == match.need }) else {
            return .records(header: "explanation", lines)
        }
        // The need's alternatives: every other open offer that could serve it, best first. An
        // east token sees other organisations' offers without their ids.
        let alternatives = Array(
            input.offers.filter { $0.id != match.offer }
                .compactMap { offer in builder.explain(need, offer).map { (offer, $0) } }
                .sorted { ($0.1.total, -$0.0.id) > ($1.1.total, -$1.0.id) }
                .prefix(5))
        let hidden: Set<Int64> =
            scope.isEast
            ? try await context.read { db in
                Set(
                    try alternatives.compactMap { offer, _ in
                        guard let owned = try db.offers.load(offer.id, lock: false) else { return offer.id }
                        return SubmissionCommands.contains(
                            scope, organisation: owned.offer.organisation, province: owned.province, city: owned.city) ? nil : offer.id
                    })
            } : []
        for (offer, score) in alternatives {
            let served = runProposals.filter { $0.key.offer == offer.id && $0.key.need != match.need }.reduce(Int64(0)) { $0 + $1.value.units }
            // An offer whose units went to other needs in this run did not lose either.
            let how =
                served > 0
                ? "served in this run: \(served) of its units went to other needs"
                    + (score.total < match.score ? "" : ", which scored higher or fit the whole better")
                : score.total < match.score
                    ? "scores \(score.total) < \(match.score)"
                    : "scores \(score.total) but none of its units were proposed in this run: the whole scores more this way"
            lines.append(
                Record(
                    (hidden.contains(offer.id)
                        ? [("alternative", .text("another organisation's offer"))] : [("alternative", .text("offer")), ("offer", .integer(offer.id))])
                        + [("score", .integer(score.total)), ("served", .integer(served)), ("why-not", .text(how)), ("parts", parts(score))]))
        }
        return .records(header: "explanation", lines)
    }

    /// A score as every explanation shows it: an object of its parts, total, fit and pairing level
    /// in JSON, one readable line `630 = occupation 300 + …` in text.
    static func parts(_ score: ScoreBreakdown) -> Record.Value {
        .spelled(explanation(score), text: score.description)
    }

    /// The parts a run stored for its proposal, shown as `parts(_:)` shows a score. Parts a run
    /// stored before they existed are left out; text that does not read as parts stays as stored.
    static func storedParts(_ json: String) -> Record.Value {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
            let total = (object["total"] as? NSNumber)?.int64Value
        else { return .storedJSON(json) }
        let parts = ScoreBreakdown.partNames.compactMap { name in (object[name] as? NSNumber).map { (name: name, points: $0.int64Value) } }
        let fit = object["fit"] as? String ?? ""
        let pairing = object["pairing-level"] as? String ?? ""
        return .spelled(
            scoreObject(total: total, parts: parts, fit: fit, pairing: pairing),
            text: ScoreBreakdown.describe(total: total, parts: parts, fit: fit, pairing: pairing))
    }
}
