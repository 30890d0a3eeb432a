import MatchCore

/// The `placement` and `placement_check` tables.
struct PGPlacements: PlacementGateway {
    let connection: PGConnection

    static let columns = """
        p.id, p.match, p.need, n.county, o.organisation, p.people, p.poverty, p.monitored, p.placed_on::text, p.left_people,
        p.reopened, p.stable3, p.stable6, p.last_check::text
        """
    static let joins = "placement p JOIN need n ON n.id = p.need JOIN match m ON m.id = p.match JOIN offer o ON o.id = m.offer"

    static func decode(_ row: PGRow) throws -> Placement {
        guard let placedOn = Day(try row.string(8)) else {
            throw PGError(sqlState: nil, message: "placement \(row[0] ?? "?") has a date ewmatch cannot read")
        }
        return Placement(
            id: try row.int64(0), match: try row.int64(1), need: try row.int64(2), county: try row.string(3),
            organisation: try row.int64(4), people: try row.int(5), poverty: try row.int(6), monitored: try row.int(7),
            placedOn: placedOn, left: try row.int(9), reopened: try row.int(10), stable3: row[11].flatMap { Int($0) },
            stable6: row[12].flatMap { Int($0) }, lastCheck: row[13].flatMap { Day($0) })
    }

    func add(_ placement: Placement) throws -> Int64 {
        guard
            let row = try connection.query(
                """
                INSERT INTO placement (match, need, people, poverty, monitored, placed_on)
                VALUES (\(placement.match), \(placement.need), \(placement.people), \(placement.poverty), \(placement.monitored),
                        \(placement.placedOn.description)::date)
                RETURNING id
                """
            ).first
        else { throw PGError(sqlState: nil, message: "INSERT … RETURNING gave no row") }
        return try row.int64(0)
    }

    func load(_ id: Int64, lock: Bool) throws -> Placement? {
        try connection.query(
            "SELECT \(unsafeSQL: Self.columns) FROM \(unsafeSQL: Self.joins) WHERE p.id = \(id)\(unsafeSQL: lock ? " FOR UPDATE OF p" : "")"
        ).first.map(Self.decode)
    }

    func save(_ placement: Placement) throws {
        try connection.query(
            """
            UPDATE placement SET left_people = \(placement.left), reopened = \(placement.reopened), stable3 = \(placement.stable3),
                stable6 = \(placement.stable6), last_check = \(placement.lastCheck?.description)::date
            WHERE id = \(placement.id)
            """)
    }

    func record(_ check: PlacementCheck) throws {
        try connection.query(
            """
            INSERT INTO placement_check (placement, checked_on, status, people, reason)
            VALUES (\(check.placement), \(check.on.description)::date, \(check.status.rawValue), \(check.people),
                    \(check.reason?.rawValue ?? ""))
            """)
    }

    func checks(placement: Int64) throws -> [PlacementCheck] {
        try connection.query(
            "SELECT checked_on::text, status, people, reason FROM placement_check WHERE placement = \(placement) ORDER BY id"
        ).rows.map { row in
            guard let day = Day(try row.string(0)), let status = CheckStatus(rawValue: try row.string(1)) else {
                throw PGError(sqlState: nil, message: "a follow-up of placement \(placement) has a value ewmatch cannot read")
            }
            return PlacementCheck(
                placement: placement, on: day, status: status, people: try row.int(2), reason: LeaveReason(rawValue: try row.string(3)))
        }
    }

    func placedCounts(need: Int64) throws -> (poverty: Int, monitored: Int) {
        let row = try connection.query(
            "SELECT coalesce(sum(poverty), 0), coalesce(sum(monitored), 0) FROM placement WHERE need = \(need)"
        ).first!
        return (try row.int(0), try row.int(1))
    }

    /// A scope as filters on the need's county and the offer's organisation, as MATCH LIST reads it.
    static func scopeFilter(_ scope: Scope) -> (county: String?, province: String?, organisation: Int64?, east: String?, city: String?) {
        switch scope {
        case .county(let code): (code, nil, nil, nil, nil)
        case .westProvince(let code): (nil, code, nil, nil, nil)
        case .organisation(let id): (nil, nil, id, nil, nil)
        case .eastProvince(let code): (nil, nil, nil, code, nil)
        case .eastCity(let name): (nil, nil, nil, nil, name)
        case .everything: (nil, nil, nil, nil, nil)
        }
    }

    func list(filter: PlacementFilter, within scope: Scope, page: Page) throws -> [Placement] {
        try select(filter: filter, scope: scope, page: page, dueBy: nil)
    }

    func due(by day: Day, within scope: Scope, page: Page) throws -> [Placement] {
        try select(filter: PlacementFilter(), scope: scope, page: page, dueBy: day)
    }

    private func select(filter: PlacementFilter, scope: Scope, page: Page, dueBy: Day?) throws -> [Placement] {
        let afterID = page.after.flatMap { Int64($0) }
        let own = Self.scopeFilter(scope)
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.columns)
            FROM \(unsafeSQL: Self.joins) JOIN organisation g ON g.id = o.organisation
            WHERE (\(filter.match)::bigint IS NULL OR p.match = \(filter.match))
              AND (\(filter.need)::bigint IS NULL OR p.need = \(filter.need))
              AND (\(filter.county)::text IS NULL OR n.county = \(filter.county))
              AND (\(filter.organisation)::bigint IS NULL OR o.organisation = \(filter.organisation))
              AND (\(own.county)::text IS NULL OR n.county = \(own.county))
              AND (\(own.province)::text IS NULL OR left(n.county, 2) = \(own.province))
              AND (\(own.organisation)::bigint IS NULL OR o.organisation = \(own.organisation))
              AND (\(own.east)::text IS NULL OR g.province = \(own.east))
              AND (\(own.city)::text IS NULL OR g.city = \(own.city))
              AND (\(afterID)::bigint IS NULL OR p.id > \(afterID))
              AND (\(dueBy?.description)::date IS NULL
                   OR p.left_people < p.people AND p.stable6 IS NULL
                      AND p.placed_on + CASE WHEN p.stable3 IS NULL THEN interval '3 months' ELSE interval '6 months' END
                          <= \(dueBy?.description)::date)
            ORDER BY p.id LIMIT \(page.limit)
            """
        ).rows.map(Self.decode)
    }
}
