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
    public var confirmedUnits: Int
    public var placedUnits: Int
    public var declinedMatches: Int

    public init(
        county: String, kind: Kind, proposedMatches: Int, proposedUnits: Int, confirmedMatches: Int, confirmedUnits: Int,
        placedUnits: Int, declinedMatches: Int
    ) {
        self.county = county
        self.kind = kind
        self.proposedMatches = proposedMatches
        self.proposedUnits = proposedUnits
        self.confirmedMatches = confirmedMatches
        self.confirmedUnits = confirmedUnits
        self.placedUnits = placedUnits
        self.declinedMatches = declinedMatches
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
