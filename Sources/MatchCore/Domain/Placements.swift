import CommandProtocol

// Placements and their follow-ups: people who arrived on a confirmed match, and whether they
// are still at work 3 and 6 months on (跨省稳定就业 3 个月以上, 稳岗补助 after 6 months with one
// employer). Plain rules; the store saves what they decide.

extension Day {
    /// Days since 1970-01-01 (proleptic Gregorian), for date arithmetic.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day `number` days after 1970-01-01; nil outside the years a Day holds.
    public init?(dayNumber number: Int) {
        let z = number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.init(Self.text(year, month, day))
    }

    /// The same day `months` later, or the month's last day when it is shorter (31 Aug + 6 = 28/29 Feb).
    public func adding(months: Int) -> Day {
        let index = year * 12 + (month - 1) + months
        let (year, month) = (index / 12, index % 12 + 1)
        for day in stride(from: day, through: min(day, 28), by: -1) {
            if let shifted = Day(Self.text(year, month, day)) { return shifted }
        }
        return Day(Self.text(year, month, 28)) ?? self
    }

    /// Today in China (UTC+8, no daylight saving): the calendar the programme's dates are in.
    public static func today(secondsSince1970: Int) -> Day {
        Day(dayNumber: (secondsSince1970 + 8 * 3600) / 86_400) ?? Day("2100-12-31")!
    }

    /// `YYYY-MM-DD`, zero-padded: the form days are written and read in.
    static func text(_ year: Int, _ month: Int, _ day: Int) -> String {
        guard (0...9999).contains(year), (0...99).contains(month), (0...99).contains(day) else {
            return "\(year)-\(month)-\(day)"
        }
        // Written byte by byte: an import writes two days a row.
        return String(unsafeUninitializedCapacity: 10) { bytes in
            func put(_ value: Int, at end: Int, width: Int) {
                var value = value
                for index in stride(from: end, to: end - width, by: -1) {
                    bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, at: 3, width: 4)
            bytes[4] = UInt8(ascii: "-")
            put(month, at: 6, width: 2)
            bytes[7] = UInt8(ascii: "-")
            put(day, at: 9, width: 2)
            return 10
        }
    }
}

/// What a match's placements add up to, kept on the match so every summary reads one figure.
public struct PlacedPeople: Sendable, Equatable {
    public var placed: Int64 = 0
    public var poverty: Int64 = 0
    public var monitored: Int64 = 0
    public var left: Int64 = 0
    /// Of those who left, the ones given back to the need's open demand.
    public var reopened: Int64 = 0
    public var stable3: Int64 = 0
    public var stable6: Int64 = 0
    /// The day of the latest placement.
    public var lastPlacedOn: String?

    public init() {}

    public var working: Int64 { placed - left }
}

/// The follow-ups a placement is due: at 3 and at 6 months.
public enum Milestone: Int, Sendable, CaseIterable {
    case threeMonths = 3, sixMonths = 6

    public var name: String { "\(rawValue)m" }
}

/// Why people left a placement: the codes a follow-up gives.
public enum LeaveReason: String, Sendable, CaseIterable {
    case changedEmployer = "changed_employer"
    case returnedHome = "returned_home"
    case contractEnded = "contract_ended"
    case dismissed, health, family
    case furtherStudy = "further_study"
    case other
}

public enum CheckStatus: String, Sendable, CaseIterable { case working, left }

/// People placed on a confirmed match on one day.
public struct Placement: Sendable, Equatable {
    public var id: Int64
    public var match: Int64
    public var need: Int64
    public var county: String
    public var organisation: Int64
    public var people: Int
    public var poverty: Int
    public var monitored: Int
    public var placedOn: Day
    public var left: Int
    public var reopened: Int
    /// People still working at the first follow-up on or after each milestone; nil until then.
    public var stable3: Int?
    public var stable6: Int?
    public var lastCheck: Day?

    public init(
        id: Int64 = 0, match: Int64, need: Int64, county: String, organisation: Int64, people: Int, poverty: Int, monitored: Int,
        placedOn: Day, left: Int = 0, reopened: Int = 0, stable3: Int? = nil, stable6: Int? = nil, lastCheck: Day? = nil
    ) {
        self.id = id
        self.match = match
        self.need = need
        self.county = county
        self.organisation = organisation
        self.people = people
        self.poverty = poverty
        self.monitored = monitored
        self.placedOn = placedOn
        self.left = left
        self.reopened = reopened
        self.stable3 = stable3
        self.stable6 = stable6
        self.lastCheck = lastCheck
    }

    public var working: Int { people - left }

    public func due(_ milestone: Milestone) -> Day { placedOn.adding(months: milestone.rawValue) }

    public func stable(at milestone: Milestone) -> Int? { milestone == .threeMonths ? stable3 : stable6 }

    /// The next follow-up this placement waits for, while anyone placed is still at work.
    public var nextMilestone: Milestone? {
        guard working > 0 else { return nil }
        return Milestone.allCases.first { stable(at: $0) == nil }
    }
}

/// One follow-up as recorded.
public struct PlacementCheck: Sendable, Equatable {
    public var placement: Int64
    public var on: Day
    public var status: CheckStatus
    public var people: Int
    public var reason: LeaveReason?

    public init(placement: Int64, on: Day, status: CheckStatus, people: Int, reason: LeaveReason?) {
        self.placement = placement
        self.on = on
        self.status = status
        self.people = people
        self.reason = reason
    }
}

/// What a placement asks of the match and need it is recorded on.
public struct PlacementRequest: Sendable {
    public var people: Int
    public var poverty: Int
    public var monitored: Int
    public var on: Day

    public init(people: Int, poverty: Int, monitored: Int, on: Day) {
        self.people = people
        self.poverty = poverty
        self.monitored = monitored
        self.on = on
    }
}

extension MatchInfo {
    /// A placement added to a confirmed match: never more people than confirmed and not yet
    /// placed, never more 脱贫劳动力 or 监测对象 than the people placed or than the need has left
    /// to place (`need` with `alreadyPlaced` of its counts), on a day inside both windows and not
    /// in the future.
    public func placing(
        _ request: PlacementRequest, need: Need, offer: Offer, alreadyPlaced: (poverty: Int, monitored: Int), today: Day
    ) throws(ProtocolError) -> (match: MatchInfo, placement: Placement) {
        guard status == .confirmed, let confirmed = confirmedUnits else {
            throw ProtocolError(.conflict, "match \(id) is \(status.rawValue); placements are recorded on confirmed matches")
        }
        let unplaced = confirmed - people.placed
        guard Int64(request.people) <= unplaced else {
            throw ProtocolError(
                .badArg, "people: \(request.people) is more than the \(unplaced) confirmed units not yet placed (\(confirmed) confirmed, \(people.placed) placed)")
        }
        for (name, count) in [("poverty", request.poverty), ("monitored", request.monitored)] where count > request.people {
            throw ProtocolError(.badArg, "\(name): \(count) is more than the \(request.people) people placed")
        }
        let poverty = need.poverty - alreadyPlaced.poverty
        guard request.poverty <= poverty else {
            throw ProtocolError(.badArg, "poverty: \(request.poverty) is more than the \(poverty) 脱贫劳动力 need \(need.id) has left to place")
        }
        let monitored = need.monitored - alreadyPlaced.monitored
        guard request.monitored <= monitored else {
            throw ProtocolError(
                .badArg, "monitored: \(request.monitored) is more than the \(monitored) 防止返贫监测对象 need \(need.id) has left to place")
        }
        let (start, end) = (max(need.from, offer.from), min(need.to, offer.to))
        guard start <= request.on && request.on <= end else {
            throw ProtocolError(.badArg, "date: \(request.on) is outside the match's window \(start)…\(end)")
        }
        guard request.on <= today else { throw ProtocolError(.badArg, "date: \(request.on) is in the future (today is \(today))") }
        var match = self
        match.people.placed += Int64(request.people)
        match.people.poverty += Int64(request.poverty)
        match.people.monitored += Int64(request.monitored)
        if match.people.lastPlacedOn.map({ request.on.description > $0 }) ?? true { match.people.lastPlacedOn = request.on.description }
        let placement = Placement(
            match: id, need: need.id, county: county, organisation: organisation, people: request.people,
            poverty: request.poverty, monitored: request.monitored, placedOn: request.on)
        return (match, placement)
    }
}

extension Placement {
    /// A follow-up recorded: `left` people (all still working when nil) left, or those still
    /// working are at work. Follow-ups come in date order, from the placement day to today. The
    /// first one on or after a milestone fixes how many were stable there. People who left
    /// before `needEnds` are `givenBack` to the need's open demand.
    public func checked(
        on day: Day, status: CheckStatus, people count: Int?, reason: LeaveReason?, needEnds: Day, today: Day
    ) throws(ProtocolError) -> (placement: Placement, check: PlacementCheck, givenBack: Int) {
        guard working > 0 else { throw ProtocolError(.conflict, "placement \(id): all \(people) people have left already") }
        guard day >= placedOn else { throw ProtocolError(.badArg, "date: \(day) is before the placement on \(placedOn)") }
        if let lastCheck, day < lastCheck {
            throw ProtocolError(.badArg, "date: \(day) is before the last follow-up on \(lastCheck); follow-ups are recorded in order")
        }
        guard day <= today else { throw ProtocolError(.badArg, "date: \(day) is in the future (today is \(today))") }
        var placement = self
        var givenBack = 0
        let recorded: Int
        switch status {
        case .working:
            if let count, count != working {
                throw ProtocolError(
                    .badArg, "people: a working follow-up covers the \(working) still at work; record who left with status=left people=N")
            }
            if reason != nil { throw ProtocolError(.badArg, "reason: only status=left takes a reason") }
            recorded = working
        case .left:
            let leaving = count ?? working
            guard leaving <= working else {
                throw ProtocolError(.badArg, "people: \(leaving) is more than the \(working) still at work")
            }
            guard reason != nil else {
                throw ProtocolError(.badArg, "reason= is required with status=left (\(LeaveReason.allCases.map(\.rawValue).joined(separator: "|")))")
            }
            placement.left += leaving
            if day < needEnds {
                placement.reopened += leaving
                givenBack = leaving
            }
            recorded = leaving
        }
        for milestone in Milestone.allCases where placement.stable(at: milestone) == nil && day >= due(milestone) {
            switch milestone {
            case .threeMonths: placement.stable3 = placement.working
            case .sixMonths: placement.stable6 = placement.working
            }
        }
        placement.lastCheck = day
        return (placement, PlacementCheck(placement: id, on: day, status: status, people: recorded, reason: reason), givenBack)
    }
}

extension PlacedPeople {
    /// The match's totals after one of its placements changed from `old` to `new`.
    public func replacing(_ old: Placement, with new: Placement) -> PlacedPeople {
        var totals = self
        totals.left += Int64(new.left - old.left)
        totals.reopened += Int64(new.reopened - old.reopened)
        totals.stable3 += Int64((new.stable3 ?? 0) - (old.stable3 ?? 0))
        totals.stable6 += Int64((new.stable6 ?? 0) - (old.stable6 ?? 0))
        return totals
    }
}
