import MatchingEngine

/// A calendar day, `YYYY-MM-DD`: time windows are counted in days.
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// nil unless `text` is a real date between 2000-01-01 and 2100-12-31 (no 2026-02-30).
    public init?(_ text: String) {
        var text = text
        guard let (year, month, day) = text.withUTF8(Self.numbers), (2000...2100).contains(year), (1...12).contains(month)
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let length =
            switch month {
            case 2: leap ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        guard (1...length).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Year, month and day of `YYYY-MM-DD`, read from its bytes (an import reads two dates a row).
    private static func numbers(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int, Int)? {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        return (year, month, day)
    }

    public var description: String { Self.text(year, month, day) }

    public static func < (a: Day, b: Day) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

public enum NeedStatus: String, Sendable, CaseIterable {
    case open
    case partlyMatched = "partly_matched"
    case filled, cancelled
}

public enum OfferStatus: String, Sendable, CaseIterable {
    case open
    case partlyMatched = "partly_matched"
    case filled, withdrawn
}

/// What a western county asks for.
public struct Need: Sendable, Equatable {
    public var id: Int64
    public var county: String
    public var kind: Kind
    public var occupations: [String]
    public var quantity: Int
    /// Units already promised by confirmed matches.
    public var matched: Int
    public var from: Day
    public var to: Day
    /// 1 (can wait) … 5 (most urgent).
    public var priority: Int
    /// How many of its people are 脱贫劳动力 and how many 防止返贫监测对象 (a person may be both).
    public var poverty: Int
    public var monitored: Int
    /// What the need asks for beyond the occupation: `Condition` codes, sorted.
    public var conditions: [String]
    public var details: KindDetails
    public var status: NeedStatus
    public var note: String
    /// Seen only by the need's own side and administrators.
    public var privateNote: String

    public init(
        id: Int64 = 0, county: String, kind: Kind, occupations: [String], quantity: Int, matched: Int = 0, from: Day, to: Day,
        priority: Int = 3, poverty: Int = 0, monitored: Int = 0, conditions: [String] = [], details: KindDetails = KindDetails(),
        status: NeedStatus = .open, note: String = "", privateNote: String = ""
    ) {
        self.id = id
        self.county = county
        self.kind = kind
        self.occupations = occupations
        self.quantity = quantity
        self.matched = matched
        self.from = from
        self.to = to
        self.priority = priority
        self.poverty = poverty
        self.monitored = monitored
        self.conditions = conditions
        self.details = details
        self.status = status
        self.note = note
        self.privateNote = privateNote
    }
}

extension Need {
    /// Centred on poverty-alleviated or monitored people (以脱贫人口为重点): the score's part and UNMET's order.
    public var povertyFocus: Bool { poverty > 0 || monitored > 0 }
}

/// What an eastern organisation offers.
public struct Offer: Sendable, Equatable {
    public var id: Int64
    public var organisation: Int64
    public var kind: Kind
    public var occupations: [String]
    public var capacity: Int
    public var matched: Int
    public var from: Day
    public var to: Day
    public var place: String
    public var conditions: String
    /// The organisation's rating for this offer, 0–50 (the score's quality part).
    public var quality: Int
    public var details: KindDetails
    /// The enterprise a labour intermediary offers the posts for; nil when the organisation is the employer.
    public var employer: Int64?
    public var status: OfferStatus
    public var note: String
    public var privateNote: String

    public init(
        id: Int64 = 0, organisation: Int64, kind: Kind, occupations: [String], capacity: Int, matched: Int = 0, from: Day,
        to: Day, place: String = "", conditions: String = "", quality: Int = 0, details: KindDetails = KindDetails(),
        employer: Int64? = nil, status: OfferStatus = .open, note: String = "", privateNote: String = ""
    ) {
        self.id = id
        self.organisation = organisation
        self.kind = kind
        self.occupations = occupations
        self.capacity = capacity
        self.matched = matched
        self.from = from
        self.to = to
        self.place = place
        self.conditions = conditions
        self.quality = quality
        self.details = details
        self.employer = employer
        self.status = status
        self.note = note
        self.privateNote = privateNote
    }
}

/// Fields of a need or offer that an UPDATE changes; nil leaves a field as it is.
public struct SubmissionChanges: Sendable {
    public var occupations: [String]?
    public var quantity: Int?
    public var from: Day?
    public var to: Day?
    public var priority: Int?
    public var poverty: Int?
    public var monitored: Int?
    /// A need's wanted conditions.
    public var wantedConditions: [String]?
    /// An offer's quality rating.
    public var quality: Int?
    public var place: String?
    public var conditions: String?
    public var note: String?
    public var privateNote: String?

    public init() {}
}

public struct NeedFilter: Sendable {
    public var county: String?
    public var province: String?
    public var kind: Kind?
    public var occupation: String?
    public var status: NeedStatus?
    public init() {}
}

public struct OfferFilter: Sendable {
    public var organisation: Int64?
    public var province: String?
    public var kind: Kind?
    public var occupation: String?
    public var status: OfferStatus?
    public init() {}
}
