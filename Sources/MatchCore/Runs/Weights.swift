import MatchingEngine

extension ScoreWeights {
    private static var byName: [(String, WritableKeyPath<ScoreWeights, Int64>)] {
        [
        ("sameOccupation", \.sameOccupation), ("sameSmallGroup", \.sameSmallGroup), ("sameMidGroup", \.sameMidGroup),
        ("countyPairing", \.countyPairing), ("provincePairing", \.provincePairing), ("earlierPairing", \.earlierPairing),
        ("perPriority", \.perPriority), ("povertyAlleviated", \.povertyAlleviated),
            ("keyCounty", \.keyCounty), ("fullOverlap", \.fullOverlap),
        ("perCondition", \.perCondition), ("perQualityPoint", \.perQualityPoint),
        ("employmentBase", \.employmentBase), ("continuity", \.continuity),
        ]
    }

    /// Every weight by name, in a fixed order: the form a run stores and RUN SHOW shows.
    public var named: [(String, Int64)] {
        Self.byName.map { ($0.0, self[keyPath: $0.1]) }
    }

    /// The weights a run stored; nil unless every weight is there.
    public init?(named values: [String: Int64]) {
        self.init()
        for (name, path) in Self.byName {
            guard let value = values[name] else { return nil }
            self[keyPath: path] = value
        }
    }
}
