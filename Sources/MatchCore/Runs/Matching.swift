import MatchingEngine

/// What a matching run considers: open needs (optionally of one kind, province or county) and
/// every open offer (offers are shared by all scopes).
public struct RunFilter: Sendable, Equatable {
    public var kind: Kind?
    public var province: String?
    public var county: String?

    public init(kind: Kind? = nil, province: String? = nil, county: String? = nil) {
        self.kind = kind
        self.province = province
        self.county = county
    }

    public var text: String {
        [kind.map { "kind=\($0.rawValue)" }, province.map { "province=\($0)" }, county.map { "county=\($0)" }]
            .compactMap { $0 }.joined(separator: " ")
    }
}

/// One consistent snapshot of what a run reads.
public struct RunInput: Sendable {
    public var needs: [NeedRecord]
    public var offers: [OfferRecord]
    public var pairings: Pairings
    public var declined: Set<PairID>
    /// Pairs that continue a link that worked: the offer's organisation had a confirmed match
    /// with the need's county in the year before the need's year.
    public var continued: Set<PairID>

    public init(needs: [NeedRecord], offers: [OfferRecord], pairings: Pairings, declined: Set<PairID>, continued: Set<PairID> = []) {
        self.needs = needs
        self.offers = offers
        self.pairings = pairings
        self.declined = declined
        self.continued = continued
    }

    /// The candidate builder these records are scored with.
    public func builder(weights: ScoreWeights = .default) -> CandidateBuilder {
        CandidateBuilder(weights: weights, pairings: pairings, declined: declined, continued: continued)
    }
}

/// A pair the engine proposes, ready to store.
public struct Proposal: Sendable {
    public var need: Int64
    public var offer: Int64
    public var units: Int64
    public var score: Int64
    /// The score's parts as a JSON object, for MATCH EXPLAIN.
    public var explanation: String

    public init(need: Int64, offer: Int64, units: Int64, score: Int64, explanation: String) {
        self.need = need
        self.offer = offer
        self.units = units
        self.score = score
        self.explanation = explanation
    }
}

/// A stored run: its parameters, input fingerprint and figures.
public struct RunRecord: Sendable {
    public var id: Int64
    public var mode: String
    public var parameters: [(String, String)]
    public var weights: ScoreWeights
    public var fingerprint: String
    public var figures: [(String, String)]
    public var createdAt: String

    public init(
        id: Int64 = 0, mode: String, parameters: [(String, String)], weights: ScoreWeights, fingerprint: String,
        figures: [(String, String)], createdAt: String = ""
    ) {
        self.id = id
        self.mode = mode
        self.parameters = parameters
        self.weights = weights
        self.fingerprint = fingerprint
        self.figures = figures
        self.createdAt = createdAt
    }
}

public enum MatchStatus: String, Sendable, CaseIterable {
    case proposed, confirmed, declined, expired, superseded, cancelled
}

public enum MatchSide: String, Sendable, CaseIterable { case west, east }

/// A proposal or confirmed match as stored.
public struct MatchInfo: Sendable {
    public var id: Int64
    public var run: Int64
    public var need: Int64
    public var offer: Int64
    public var county: String
    public var organisation: Int64
    public var units: Int64
    public var score: Int64
    public var explanation: String
    public var status: MatchStatus
    public var westAnswer: String?
    public var westUnits: Int64?
    public var eastAnswer: String?
    public var eastUnits: Int64?
    public var confirmedUnits: Int64?
    /// Its placements summed.
    public var people: PlacedPeople
    /// A decline's reason code (`DeclineReason`), a cancellation's or an expiry's text.
    public var reason: String
    /// A decline's free text beside its code.
    public var note: String

    public init(
        id: Int64, run: Int64, need: Int64, offer: Int64, county: String, organisation: Int64, units: Int64, score: Int64,
        explanation: String, status: MatchStatus, westAnswer: String?, westUnits: Int64?, eastAnswer: String?,
        eastUnits: Int64?, confirmedUnits: Int64?, people: PlacedPeople = PlacedPeople(), reason: String, note: String = ""
    ) {
        self.id = id
        self.run = run
        self.need = need
        self.offer = offer
        self.county = county
        self.organisation = organisation
        self.units = units
        self.score = score
        self.explanation = explanation
        self.status = status
        self.westAnswer = westAnswer
        self.westUnits = westUnits
        self.eastAnswer = eastAnswer
        self.eastUnits = eastUnits
        self.confirmedUnits = confirmedUnits
        self.people = people
        self.reason = reason
        self.note = note
    }
}

public struct MatchFilter: Sendable {
    public var run: Int64?
    public var county: String?
    public var organisation: Int64?
    public var status: MatchStatus?
    public init() {}
}

extension RunRecord {
    /// The figures line every run reports, in a fixed order.
    static func figures(_ summary: Summary, needs: Int, offers: Int, pairs: Int) -> [(String, String)] {
        [
            ("needs", "\(needs)"), ("offers", "\(offers)"), ("pairs", "\(pairs)"), ("units", "\(summary.units)"),
            ("score", "\(summary.totalScore)"), ("needs-full", "\(summary.needsFullyMet)"),
            ("needs-partial", "\(summary.needsPartlyMet)"), ("needs-unmet", "\(summary.needsNotMet)"),
            ("counties-with-demand", "\(summary.groupsWithDemand)"), ("counties-served", "\(summary.groupsServed)"),
            ("min-county-fill", fixed(summary.smallestGroupFill, 3)), ("gini", fixed(summary.giniOfGroupFill, 3)),
        ]
    }

    /// Each phase's seconds (`load-s` … `store-s`) and their sum (`total-s`), after the figures.
    static func phaseFigures(_ laps: [(String, Duration)]) -> [(String, String)] {
        laps.map { ("\($0.0)-s", fixed(seconds($0.1), 3)) } + [("total-s", fixed(seconds(laps.reduce(.zero) { $0 + $1.1 }), 3))]
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// `value` with `places` decimals, without Foundation's formatter.
func fixed(_ value: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < places { text += String(repeating: "0", count: places - decimals) }
    } else if places > 0 {
        text += "." + String(repeating: "0", count: places)
    }
    return text
}
