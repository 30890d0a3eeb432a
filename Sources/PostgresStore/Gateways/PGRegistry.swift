import MatchCore

/// Provinces, counties, pairings, organisations and occupations.
struct PGRegistry: RegistryGateway {
    let connection: PGConnection

    public func provinces() throws -> [Province] {
        try connection.query("SELECT code, name, side FROM province ORDER BY code").rows.map { row in
            Province(code: try row.string(0), name: try row.string(1), side: Side(rawValue: try row.string(2)) ?? .other)
        }
    }

    // MARK: Counties

    static let countyColumns = "code, name, province, prefecture, is_key"

    static func county(_ row: PGRow) throws -> County {
        County(
            code: try row.string(0), name: try row.string(1), province: try row.string(2), prefecture: try row.string(3),
            isKey: try row.bool(4))
    }

    public func county(code: String) throws -> County? {
        try connection.query("SELECT \(unsafeSQL: Self.countyColumns) FROM county WHERE code = \(code)").first.map(Self.county)
    }

    public func counties(province: String?, isKey: Bool?, page: Page) throws -> [County] {
        try connection.query(
            """
            SELECT \(unsafeSQL: Self.countyColumns) FROM county
            WHERE (\(province)::text IS NULL OR province = \(province))
              AND (\(isKey)::boolean IS NULL OR is_key = \(isKey))
              AND (\(page.after)::text IS NULL OR code > \(page.after))
            ORDER BY code LIMIT \(page.limit)
            """
        ).rows.map(Self.county)
    }

    public func addCounty(_ county: County) throws {
        try connection.query(
            """
            INSERT INTO county (code, name, province, prefecture, is_key)
            VALUES (\(county.code), \(county.name), \(county.province), \(county.prefecture), \(county.isKey))
            """)
    }

    public func updateCounty(code: String, name: String?, prefecture: String?, isKey: Bool?) throws -> County? {
        connection.noteChange(PGNotification(channel: ChangeWatch.countyChannel, payload: code))
        guard let row = try connection.query(
                """
                UPDATE county SET name = coalesce(\(name), name), prefecture = coalesce(\(prefecture), prefecture),
                                  is_key = coalesce(\(isKey), is_key)
                WHERE code = \(code) RETURNING \(unsafeSQL: Self.countyColumns)
                """
            ).first else { return nil }
        return try Self.county(row)
    }

    // MARK: Pairings

    static let pairingColumns = "id, east_province, east_city, west_province, west_area, west_county, level, period"

    static func pairing(_ row: PGRow) throws -> Pairing {
        Pairing(
            id: try row.int64(0), eastProvince: try row.string(1), eastCity: try row.string(2), westProvince: try row.string(3),
            westArea: try row.string(4), westCounty: row[5],
            level: PairingLevel(rawValue: try row.string(6)) ?? .province,
            period: PairingPeriod(rawValue: try row.string(7)) ?? .current)
    }

    public func pairing(id: Int64) throws -> Pairing? {
        try connection.query("SELECT \(unsafeSQL: Self.pairingColumns) FROM pairing WHERE id = \(id)").first.map(Self.pairing)
    }

    public func pairings(east: String?, west: String?, period: PairingPeriod?, page: Page) throws -> [Pairing] {
        let afterID = page.after.flatMap { Int64($0) }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.pairingColumns) FROM pairing
            WHERE (\(east)::text IS NULL OR east_province = \(east))
              AND (\(west)::text IS NULL OR west_province = \(west))
              AND (\(period?.rawValue)::text IS NULL OR period = \(period?.rawValue))
              AND (\(afterID)::bigint IS NULL OR id > \(afterID))
            ORDER BY id LIMIT \(page.limit)
            """
        ).rows.map(Self.pairing)
    }

    public func addPairing(_ pairing: Pairing) throws -> Pairing {
        let row = try connection.query(
            """
            INSERT INTO pairing (east_province, east_city, west_province, west_area, west_county, level, period)
            VALUES (\(pairing.eastProvince), \(pairing.eastCity), \(pairing.westProvince), \(pairing.westArea),
                    \(pairing.westCounty), \(pairing.level.rawValue), \(pairing.period.rawValue))
            RETURNING \(unsafeSQL: Self.pairingColumns)
            """
        ).first!
        return try Self.pairing(row)
    }

    public func updatePairing(id: Int64, period: PairingPeriod?, eastCity: String?, westArea: String?) throws -> Pairing? {
        guard let row = try connection.query(
                """
                UPDATE pairing SET period = coalesce(\(period?.rawValue), period), east_city = coalesce(\(eastCity), east_city),
                                   west_area = coalesce(\(westArea), west_area)
                WHERE id = \(id) RETURNING \(unsafeSQL: Self.pairingColumns)
                """
            ).first else { return nil }
        return try Self.pairing(row)
    }

    // MARK: Organisations

    static let organisationColumns = "id, kind, name, province, city, quality, employment_base"

    static func organisation(_ row: PGRow) throws -> Organisation {
        Organisation(
            id: try row.int64(0), kind: OrganisationKind(rawValue: try row.string(1)) ?? .enterprise, name: try row.string(2),
            province: try row.string(3), city: try row.string(4), quality: try row.int(5), employmentBase: try row.bool(6))
    }

    public func organisation(id: Int64) throws -> Organisation? {
        try connection.query("SELECT \(unsafeSQL: Self.organisationColumns) FROM organisation WHERE id = \(id)").first.map(
            Self.organisation)
    }

    public func organisations(province: String?, kind: OrganisationKind?, page: Page) throws -> [Organisation] {
        let afterID = page.after.flatMap { Int64($0) }
        return try connection.query(
            """
            SELECT \(unsafeSQL: Self.organisationColumns) FROM organisation
            WHERE (\(province)::text IS NULL OR province = \(province))
              AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
              AND (\(afterID)::bigint IS NULL OR id > \(afterID))
            ORDER BY id LIMIT \(page.limit)
            """
        ).rows.map(Self.organisation)
    }

    public func addOrganisation(_ organisation: Organisation) throws -> Organisation {
        let row = try connection.query(
            """
            INSERT INTO organisation (kind, name, province, city)
            VALUES (\(organisation.kind.rawValue), \(organisation.name), \(organisation.province), \(organisation.city))
            RETURNING \(unsafeSQL: Self.organisationColumns)
            """
        ).first!
        return try Self.organisation(row)
    }

    public func updateOrganisation(id: Int64, name: String?, city: String?, quality: Int?, employmentBase: Bool?) throws
        -> Organisation?
    {
        guard let row = try connection.query(
                """
                UPDATE organisation SET name = coalesce(\(name), name), city = coalesce(\(city), city),
                    quality = coalesce(\(quality)::smallint, quality), employment_base = coalesce(\(employmentBase)::boolean, employment_base)
                WHERE id = \(id) RETURNING \(unsafeSQL: Self.organisationColumns)
                """
            ).first else { return nil }
        return try Self.organisation(row)
    }

    // MARK: Occupations

    static func occupation(_ row: PGRow) throws -> Occupation {
        Occupation(
            code: try row.string(0), name: try row.string(1), level: OccupationLevel(rawValue: try row.string(2)) ?? .occupation,
            parent: row[3])
    }

    public func occupation(code: String) throws -> Occupation? {
        try connection.query("SELECT code, name, level, parent FROM occupation WHERE code = \(code)").first.map(Self.occupation)
    }

    public func occupations(parent: String?, level: OccupationLevel?, page: Page) throws -> [Occupation] {
        try connection.query(
            """
            SELECT code, name, level, parent FROM occupation
            WHERE (\(parent)::text IS NULL OR parent = \(parent))
              AND (\(level?.rawValue)::text IS NULL OR level = \(level?.rawValue))
              AND (\(page.after)::text IS NULL OR code > \(page.after))
            ORDER BY code LIMIT \(page.limit)
            """
        ).rows.map(Self.occupation)
    }

    public func renameOccupation(code: String, name: String) throws -> Occupation? {
        guard let row = try connection.query(
                "UPDATE occupation SET name = \(name) WHERE code = \(code) RETURNING code, name, level, parent"
            ).first else { return nil }
        return try Self.occupation(row)
    }

    public func addOccupation(_ occupation: Occupation) throws {
        try connection.query(
            """
            INSERT INTO occupation (code, name, level, parent)
            VALUES (\(occupation.code), \(occupation.name), \(occupation.level.rawValue), \(occupation.parent))
            """)
    }

    func unknownOccupations(_ codes: [String]) throws -> [String] {
        try connection.query(
            """
            SELECT code FROM unnest(\(PGText.array(codes))::text[]) AS given(code)
            WHERE NOT EXISTS (SELECT 1 FROM occupation o WHERE o.code = given.code) ORDER BY code
            """
        ).rows.compactMap { $0[0] }
    }

    func importReference() throws -> ImportReference {
        let counties = Set(try connection.query("SELECT code FROM county").rows.map { try $0.string(0) })
        let occupations = Set(try connection.query("SELECT code FROM occupation").rows.map { try $0.string(0) })
        var organisations: [Int64: Organisation] = [:]
        for row in try connection.query("SELECT \(unsafeSQL: Self.organisationColumns) FROM organisation").rows {
            let organisation = try Self.organisation(row)
            organisations[organisation.id] = organisation
        }
        return ImportReference(counties: counties, occupations: occupations, organisations: organisations)
    }
}
