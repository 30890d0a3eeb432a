import CommandProtocol
import MatchingEngine

/// 校校合作 (a western school partnered with an eastern school) or 企校合作 (with an enterprise).
public enum Partnership: String, Sendable, CaseIterable {
    case school, enterprise
}

/// Which way a two-way secondment (双向挂职) goes: the county sends staff east, or receives them.
public enum SecondmentDirection: String, Sendable, CaseIterable {
    case toEast = "to_east"
    case toWest = "to_west"
}

/// What a kind says beyond kind, occupations and quantity: how long a technical-school place or
/// a talent's post lasts, which western school a partnership helps and with what partner, which
/// way a secondment goes. Fixed when the need or offer is submitted.
public struct KindDetails: Sendable, Equatable {
    public var termMonths: Int?
    public var westSchool: String
    public var partnership: Partnership?
    public var direction: SecondmentDirection?

    public init(termMonths: Int? = nil, westSchool: String = "", partnership: Partnership? = nil, direction: SecondmentDirection? = nil) {
        self.termMonths = termMonths
        self.westSchool = westSchool
        self.partnership = partnership
        self.direction = direction
    }

    public enum Side: Sendable { case need, offer }

    /// The details as given, checked against the kind: enrolment takes a term in years (a need
    /// must give one), talents and secondments one in months, a school partnership need names
    /// the western school and the partner it wants, a secondment says which way it goes; a
    /// detail another kind would ignore is refused.
    public func checked(for kind: Kind, side: Side) throws(ProtocolError) -> KindDetails {
        func refuse(_ option: String) -> ProtocolError {
            ProtocolError(.badArg, "\(option) does not apply to kind=\(kind.rawValue)")
        }
        switch kind {
        case .enrolment:
            if side == .need && termMonths == nil { throw ProtocolError(.badArg, "years= is required for kind=enrolment (1 to 6)") }
        case .talent, .secondment:
            break
        default:
            if termMonths != nil { throw refuse("years= or months=") }
        }
        if kind != .schoolPartnership || side == .offer, !westSchool.isEmpty { throw refuse("school=") }
        if kind != .schoolPartnership, partnership != nil { throw refuse("partnership=") }
        if kind == .schoolPartnership && side == .need {
            guard !westSchool.trimmingSpaces.isEmpty else {
                throw ProtocolError(.badArg, "school= is required for kind=school_partnership: the western school to be helped")
            }
            guard partnership != nil else {
                throw ProtocolError(.badArg, "partnership= is required for kind=school_partnership (school: 校校合作, enterprise: 企校合作)")
            }
        }
        if kind == .secondment {
            guard direction != nil else {
                throw ProtocolError(.badArg, "direction= is required for kind=secondment (to_east: the county sends staff, to_west: it receives them)")
            }
        } else if direction != nil {
            throw refuse("direction=")
        }
        return self
    }

    /// The details as a request's options or an import's columns give them (`value` answers nil
    /// for one not given): `years` for a technical-school place, `months` for a talent's or
    /// secondment's term, `school` and `partnership` for a school partnership, `direction` for a
    /// secondment.
    public static func parse(_ value: (String) -> String?, kind: Kind, side: Side) throws(ProtocolError) -> KindDetails {
        func number(_ key: String, _ range: ClosedRange<Int>) throws(ProtocolError) -> Int? {
            guard let text = value(key), !text.isEmpty else { return nil }
            guard let number = Int(wholeNumber: text), range.contains(number) else {
                throw ProtocolError(.badArg, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ProtocolError) -> T? where T.RawValue == String {
            guard let text = value(key), !text.isEmpty else { return nil }
            guard let parsed = T(rawValue: text) else {
                throw ProtocolError(.badArg, "\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: "|")), not '\(text)'")
            }
            return parsed
        }
        var details = KindDetails()
        if let years = try number("years", 1...6) {
            guard kind == .enrolment else {
                throw ProtocolError(.badArg, "years= is the term of a technical-school place (kind=enrolment); talents and secondments take months=")
            }
            details.termMonths = years * 12
        }
        if let months = try number("months", 1...60) {
            guard kind == .talent || kind == .secondment else {
                throw ProtocolError(.badArg, "months= is the term of a talent's or secondment's post (kind=talent|secondment)")
            }
            details.termMonths = months
        }
        let school = value("school")?.trimmingSpaces ?? ""
        guard school.count <= 200 else { throw ProtocolError(.badArg, "school is longer than 200 characters") }
        details.westSchool = school
        details.partnership = try choice("partnership", Partnership.self)
        details.direction = try choice("direction", SecondmentDirection.self)
        return try details.checked(for: kind, side: side)
    }

    /// What the other side must agree on for the engine.
    public var variant: KindVariant {
        switch (partnership, direction) {
        case (.school?, _): .schoolPartner
        case (.enterprise?, _): .enterprisePartner
        case (_, .toEast?): .toEast
        case (_, .toWest?): .toWest
        default: .any
        }
    }

    /// The fields a need or offer record shows for its kind: those that apply.
    public func fields(for kind: Kind) -> [(String, Record.Value)] {
        switch kind {
        case .enrolment: [("years", termMonths.map { .int($0 / 12) } ?? .null)]
        case .talent: [("months", termMonths.map { .int($0) } ?? .null)]
        case .secondment: [("direction", .optional(direction?.rawValue)), ("months", termMonths.map { .int($0) } ?? .null)]
        case .schoolPartnership: [("school", .text(westSchool)), ("partnership", .optional(partnership?.rawValue))]
        case .labor, .training: []
        }
    }
}

extension Partnership {
    /// The partnership an organisation's school-partnership offer makes: a school makes 校校合作,
    /// an enterprise 企校合作.
    public init?(offeredBy kind: OrganisationKind) {
        switch kind {
        case .school: self = .school
        case .enterprise: self = .enterprise
        default: return nil
        }
    }
}
