/// What is asked or offered.
public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Job posts (劳务协作), counted in people.
    case labor
    /// Short vocational courses (职业培训), counted in 人次.
    case training
    /// Technical-school places for 两后生 (技工院校招生), counted in people, with a term in years.
    case enrolment
    /// 校校合作 and 企校合作 with a named western school.
    case schoolPartnership = "school_partnership"
    /// Talents sent to the county for a term in months (人才选派), counted in 人次.
    case talent
    /// Two-way secondment (双向挂职): staff sent east by the county, or received from the east.
    case secondment

    public static func < (a: Kind, b: Kind) -> Bool { a.index < b.index }

    /// How many indexes there are: the candidate index keys (code prefix, kind) with it.
    static let indexCount = allCases.count

    var index: Int {
        switch self {
        case .labor: 0
        case .training: 1
        case .enrolment: 2
        case .schoolPartnership: 3
        case .talent: 4
        case .secondment: 5
        }
    }
}

/// What the two sides of a kind must also agree on: the partner a school partnership is with,
/// the way a secondment goes. `any` (not stated) agrees with everything.
public enum KindVariant: UInt8, Sendable, Hashable, CaseIterable {
    case any = 0, schoolPartner, enterprisePartner, toEast, toWest

    public func agrees(with other: KindVariant) -> Bool { self == .any || other == .any || self == other }
}

/// A code of the occupational classification (GB/T 6565-2015 shape): major group `2`,
/// mid group `2-05`, small group `2-05-01`, occupation `2-05-01-01`.
public struct OccupationCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let segments: [String]

    /// nil unless 1 to 4 non-empty, all-digit segments joined by `-`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...4).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } })
        else { return nil }
        segments = parts
    }

    public var description: String { segments.joined(separator: "-") }
    public var depth: Int { segments.count }

    public static func < (a: OccupationCode, b: OccupationCode) -> Bool {
        a.segments.lexicographicallyPrecedes(b.segments)
    }
}

/// How closely two occupation codes agree: equal codes are the same occupation; codes
/// sharing only the major group (even two equal major groups), or less, do not fit.
public enum OccupationFit: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case sameMidGroup = 1
    case sameSmallGroup = 2
    case sameOccupation = 3

    public static func < (a: OccupationFit, b: OccupationFit) -> Bool { a.rawValue < b.rawValue }

    public init?(_ a: OccupationCode, _ b: OccupationCode) {
        if a == b && a.depth >= 2 {
            self = .sameOccupation
            return
        }
        var common = 0
        while common < min(a.depth, b.depth) && a.segments[common] == b.segments[common] { common += 1 }
        switch common {
        case 3...: self = .sameSmallGroup
        case 2: self = .sameMidGroup
        default: return nil
        }
    }

    /// The best fit over all pairs of codes.
    public init?(_ a: [OccupationCode], _ b: [OccupationCode]) {
        var best: OccupationFit?
        for x in a {
            for y in b {
                if let f = OccupationFit(x, y), best.map({ f > $0 }) ?? true { best = f }
            }
        }
        guard let best else { return nil }
        self = best
    }

    public var description: String {
        switch self {
        case .sameMidGroup: "same mid group"
        case .sameSmallGroup: "same small group"
        case .sameOccupation: "same occupation"
        }
    }
}

/// East–west pairing of the need's county with the offer's side, strongest first.
public enum PairingLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case none = 0
    /// Paired before the 2021 re-drawing (still encouraged to help through the market).
    case earlier = 1
    /// The need's province and the offer's province are currently paired.
    case currentProvince = 2
    /// The need's county and the offer's city (or county) are currently paired.
    case currentCounty = 3

    public static func < (a: PairingLevel, b: PairingLevel) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .none: "no pairing"
        case .earlier: "earlier pairing"
        case .currentProvince: "current province-level pairing"
        case .currentCounty: "current city/county-level pairing"
        }
    }
}

public struct PairKey: Sendable, Hashable {
    public let west: String
    public let east: String
    public init(west: String, east: String) {
        self.west = west
        self.east = east
    }
}

/// The official pairing tables.
public struct Pairings: Sendable, Equatable {
    /// Current city/county-level pairs: (western county, eastern city or county).
    public var countyLevel: Set<PairKey>
    /// Current province-level pairs: (western province, eastern province).
    public var provinceLevel: Set<PairKey>
    /// Province-level pairs before 2021: (western province, eastern province).
    public var earlier: Set<PairKey>
    /// City/county-level pairs before 2021: (western county, eastern city or county).
    public var earlierCountyLevel: Set<PairKey>

    public init(
        countyLevel: Set<PairKey> = [], provinceLevel: Set<PairKey> = [], earlier: Set<PairKey> = [],
        earlierCountyLevel: Set<PairKey> = []
    ) {
        self.countyLevel = countyLevel
        self.provinceLevel = provinceLevel
        self.earlier = earlier
        self.earlierCountyLevel = earlierCountyLevel
    }

    public func level(_ need: NeedRecord, _ offer: OfferRecord) -> PairingLevel {
        if countyLevel.contains(PairKey(west: need.county, east: offer.city)) { return .currentCounty }
        if provinceLevel.contains(PairKey(west: need.province, east: offer.province)) { return .currentProvince }
        if earlier.contains(PairKey(west: need.province, east: offer.province)) { return .earlier }
        return earlierCountyLevel.contains(PairKey(west: need.county, east: offer.city)) ? .earlier : .none
    }
}

/// Half-open `[start, end)`, in days (or any unit, the same for all records).
public struct TimeWindow: Sendable, Hashable {
    public let start: Int
    public let end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public var length: Int { end - start }

    public func overlap(_ other: TimeWindow) -> Int { max(0, min(end, other.end) - max(start, other.start)) }
}

/// What an offer provides besides the post, and a need may ask for.
public enum Condition: String, Sendable, Hashable, CaseIterable, Comparable {
    case housing
    case travelSupport = "travel_support"
    case wageGuarantee = "wage_guarantee"
    case trainingProvided = "training_provided"
    case familySupport = "family_support"
    case socialInsurance = "social_insurance"

    public static func < (a: Condition, b: Condition) -> Bool { a.rawValue < b.rawValue }

    /// The Chinese label coordinators write (包食宿, 交通补助 …).
    public var label: String {
        switch self {
        case .housing: "包食宿"
        case .travelSupport: "交通补助"
        case .wageGuarantee: "工资保障"
        case .trainingProvided: "岗前培训"
        case .familySupport: "随迁家属"
        case .socialInsurance: "社会保险"
        }
    }

    /// A condition by its code or its Chinese label.
    public init?(word: String) {
        guard let condition = Condition(rawValue: word) ?? Condition.allCases.first(where: { $0.label == word }) else { return nil }
        self = condition
    }
}

/// A western county's need, with its open (still unmatched) quantity.
public struct NeedRecord: Sendable, Hashable {
    public var id: Int64
    public var county: String
    public var province: String
    public var kind: Kind
    public var occupations: [OccupationCode]
    public var quantity: Int64
    public var window: TimeWindow
    /// 1...5, 5 most urgent.
    public var priority: Int
    /// Poverty-alleviated workers (脱贫劳动力) come first.
    public var povertyAlleviated: Bool
    /// The county is a national key assistance county (国家乡村振兴重点帮扶县).
    public var keyCounty: Bool
    public var wantedConditions: Set<Condition>
    public var variant: KindVariant

    public init(
        id: Int64, county: String, province: String, kind: Kind, occupations: [OccupationCode], quantity: Int64,
        window: TimeWindow, priority: Int, povertyAlleviated: Bool = false, keyCounty: Bool = false,
        wantedConditions: Set<Condition> = [], variant: KindVariant = .any
    ) {
        self.id = id
        self.county = county
        self.province = province
        self.kind = kind
        self.occupations = occupations
        self.quantity = quantity
        self.window = window
        self.priority = priority
        self.povertyAlleviated = povertyAlleviated
        self.keyCounty = keyCounty
        self.wantedConditions = wantedConditions
        self.variant = variant
    }
}

/// An eastern organisation's offer, with its open (still unmatched) capacity.
public struct OfferRecord: Sendable, Hashable {
    public var id: Int64
    public var province: String
    /// City or county of the organisation: the county-level pairing is with it.
    public var city: String
    public var kind: Kind
    public var occupations: [OccupationCode]
    public var capacity: Int64
    public var window: TimeWindow
    /// Rating of the employer or school, 0...50.
    public var quality: Int
    public var conditions: Set<Condition>
    public var variant: KindVariant
    /// The organisation is a recognised employment assistance base (就业帮扶基地).
    public var employmentBase: Bool

    public init(
        id: Int64, province: String, city: String, kind: Kind, occupations: [OccupationCode], capacity: Int64,
        window: TimeWindow, quality: Int = 0, conditions: Set<Condition> = [], variant: KindVariant = .any,
        employmentBase: Bool = false
    ) {
        self.id = id
        self.province = province
        self.city = city
        self.kind = kind
        self.occupations = occupations
        self.capacity = capacity
        self.window = window
        self.quality = quality
        self.conditions = conditions
        self.variant = variant
        self.employmentBase = employmentBase
    }
}

public struct PairID: Sendable, Hashable {
    public let need: Int64
    public let offer: Int64
    public init(need: Int64, offer: Int64) {
        self.need = need
        self.offer = offer
    }
}
