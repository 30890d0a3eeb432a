import CommandProtocol
import MatchingEngine

public struct Stats: Sendable {
    public var counties = 0
    public var organisations = 0
    public var needs = 0
    public var openNeeds = 0
    public var openUnits = 0
    public var offers = 0
    public var openOffers = 0
    public var openCapacity = 0
    public var proposedMatches = 0
    public var confirmedMatches = 0
    public var declinedMatches = 0
    public var lastRun: Int64?
    public var lastRunAt: String?
    /// Seconds the server that answered is behind its primary (decimal text), when it is a
    /// standby; nil on the primary.
    public var replicaLagSeconds: String?
    public init() {}
}

/// Where a page of UNMET ends: the sort key of its last need.
public struct UnmetCursor: Sendable, Equatable {
    public var priority: Int
    public var poverty: Bool
    public var start: Day
    public var id: Int64

    public init(priority: Int, poverty: Bool, start: Day, id: Int64) {
        self.priority = priority
        self.poverty = poverty
        self.start = start
        self.id = id
    }

    /// `5/yes/2027-01-01/123`
    public var text: String { "\(priority)/\(poverty ? "yes" : "no")/\(start)/\(id)" }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let priority = Int(parts[0]), ["yes", "no"].contains(parts[1]), let start = Day(parts[2]),
            let id = Int64(parts[3])
        else { return nil }
        self.init(priority: priority, poverty: parts[1] == "yes", start: start, id: id)
    }
}

public struct FillCell: Sendable, Equatable {
    public var year: Int
    public var county: String
    public var kind: Kind
    public var needs: Int
    public var cancelled: Int
    public var demand: Int
    public var confirmed: Int
    public var openNeeds: Int
    public var openUnits: Int
    public var proposed: Int

    public init(
        year: Int, county: String, kind: Kind, needs: Int, cancelled: Int, demand: Int, confirmed: Int, openNeeds: Int,
        openUnits: Int, proposed: Int
    ) {
        self.year = year
        self.county = county
        self.kind = kind
        self.needs = needs
        self.cancelled = cancelled
        self.demand = demand
        self.confirmed = confirmed
        self.openNeeds = openNeeds
        self.openUnits = openUnits
        self.proposed = proposed
    }
}

/// One line of FILL: a group's demand and what was proposed and confirmed for it.
public struct FillGroup: Sendable, Equatable {
    public var key: String
    public var name: String
    public var demand: Int
    public var proposed: Int
    public var confirmed: Int

    public init(key: String, name: String, demand: Int, proposed: Int, confirmed: Int) {
        self.key = key
        self.name = name
        self.demand = demand
        self.proposed = proposed
        self.confirmed = confirmed
    }
}

public struct FlowFilter: Sendable {
    public var year: Int?
    public var eastProvince: String?
    public var eastCity: String?
    public var westProvince: String?
    public var county: String?
    public init() {}
}

public struct FlowCell: Sendable, Equatable {
    public var county: String
    public var kind: Kind
    public var proposedMatches: Int
    public var proposedUnits: Int
    public var confirmedMatches: Int
    /// Units the matches hold of their needs (`match_holding`): what need.matched counts.
    public var confirmedUnits: Int
    /// Declined matches by reason (every decline has one since migration 017).
    public var declined: [DeclineReason: Int]
    /// The placements' people, as the matches sum them.
    public var people: FlowPeople

    public var declinedMatches: Int { declined.values.reduce(0, +) }

    public init(
        county: String, kind: Kind, proposedMatches: Int, proposedUnits: Int, confirmedMatches: Int, confirmedUnits: Int,
        declined: [DeclineReason: Int], people: FlowPeople = FlowPeople()
    ) {
        self.county = county
        self.kind = kind
        self.proposedMatches = proposedMatches
        self.proposedUnits = proposedUnits
        self.confirmedMatches = confirmedMatches
        self.confirmedUnits = confirmedUnits
        self.declined = declined
        self.people = people
    }
}

/// People placed, of them 脱贫劳动力 and 防止返贫监测对象, still working, given back to their
/// needs, and stable at 3 and 6 months: summed the same way wherever a report shows them.
public struct FlowPeople: Sendable, Equatable {
    public var placed = 0
    public var poverty = 0
    public var monitored = 0
    public var working = 0
    public var reopened = 0
    public var stable3 = 0
    public var stable6 = 0

    public init() {}

    public static func + (a: FlowPeople, b: FlowPeople) -> FlowPeople {
        var sum = a
        sum.placed += b.placed
        sum.poverty += b.poverty
        sum.monitored += b.monitored
        sum.working += b.working
        sum.reopened += b.reopened
        sum.stable3 += b.stable3
        sum.stable6 += b.stable6
        return sum
    }

    public static func total(_ cells: some Sequence<FlowCell>) -> FlowPeople {
        cells.reduce(FlowPeople()) { $0 + $1.people }
    }

    /// The fields every report gives, in this order.
    public var fields: [(String, Record.Value)] {
        [
            ("placed", .int(placed)), ("poverty-placed", .int(poverty)), ("monitored-placed", .int(monitored)),
            ("working", .int(working)), ("reopened", .int(reopened)), ("stable-3m", .int(stable3)), ("stable-6m", .int(stable6)),
        ]
    }
}

/// A province's target for a year and kind, with the units confirmed towards it: for a western
/// province what its counties were given, for an eastern province or city (`city` set) what it
/// gave them.
public struct Plan: Sendable, Equatable {
    public var year: Int
    public var province: String
    /// Empty for a province's own target; an eastern city's name without its province's.
    public var city: String
    public var side: Side
    public var kind: Kind
    public var units: Int
    public var confirmed: Int

    public init(year: Int, province: String, city: String = "", side: Side, kind: Kind, units: Int, confirmed: Int = 0) {
        self.year = year
        self.province = province
        self.city = city
        self.side = side
        self.kind = kind
        self.units = units
        self.confirmed = confirmed
    }
}

/// What an eastern province's organisations of one city gave in a year, by kind (from match_flow).
public struct EastFlowCell: Sendable, Equatable {
    public var province: String
    /// As the organisations wrote it (苏州市 or 江苏省苏州市); empty when they named none.
    public var city: String
    public var kind: Kind
    public var confirmedUnits: Int
    public var placedUnits: Int

    public init(province: String, city: String, kind: Kind, confirmedUnits: Int, placedUnits: Int) {
        self.province = province
        self.city = city
        self.kind = kind
        self.confirmedUnits = confirmedUnits
        self.placedUnits = placedUnits
    }
}

/// One filing of a province's yearly report (REPORT SUBMIT).
public struct ReportSubmission: Sendable, Equatable {
    public var id: Int64
    public var year: Int
    public var province: String
    /// 1 for the first filing of this year and province, 2 for the one that replaced it, …
    public var version: Int
    /// The rows as `YearReport.storedRows` wrote them.
    public var rows: String
    /// The CSV file as filed, whose SHA-256 is `fingerprint`.
    public var csv: String
    public var fingerprint: String
    public var tokenID: Int64?
    public var label: String
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    public var submittedAt: String
    /// The day in China (UTC+8) it was filed, which the deadline is judged by.
    public var submittedOn: Day

    public init(
        id: Int64, year: Int, province: String, version: Int, rows: String, csv: String, fingerprint: String, tokenID: Int64?,
        label: String, submittedAt: String, submittedOn: Day
    ) {
        self.id = id
        self.year = year
        self.province = province
        self.version = version
        self.rows = rows
        self.csv = csv
        self.fingerprint = fingerprint
        self.tokenID = tokenID
        self.label = label
        self.submittedAt = submittedAt
        self.submittedOn = submittedOn
    }
}

/// The latest filing of each province for a year, and the day it is in China now.
public struct Filings: Sendable {
    public var today: Day
    public var latest: [String: ReportSubmission]

    public init(today: Day, latest: [String: ReportSubmission]) {
        self.today = today
        self.latest = latest
    }
}
