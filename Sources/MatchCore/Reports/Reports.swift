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
    public var declinedMatches: Int
    /// The placements' people, as the matches sum them.
    public var people: FlowPeople

    public init(
        county: String, kind: Kind, proposedMatches: Int, proposedUnits: Int, confirmedMatches: Int, confirmedUnits: Int,
        declinedMatches: Int, people: FlowPeople = FlowPeople()
    ) {
        self.county = county
        self.kind = kind
        self.proposedMatches = proposedMatches
        self.proposedUnits = proposedUnits
        self.confirmedMatches = confirmedMatches
        self.confirmedUnits = confirmedUnits
        self.declinedMatches = declinedMatches
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

/// A province's target for a year and kind, with the units confirmed towards it.
public struct Plan: Sendable, Equatable {
    public var year: Int
    public var province: String
    public var kind: Kind
    public var units: Int
    public var confirmed: Int

    public init(year: Int, province: String, kind: Kind, units: Int, confirmed: Int = 0) {
        self.year = year
        self.province = province
        self.kind = kind
        self.units = units
        self.confirmed = confirmed
    }
}
