import CommandProtocol

/// Provinces, counties, pairings, organisations and occupations. Every role reads them;
/// administrators write them.
enum RegistryCommands {
    static let all: [CommandSpec] = [
        provinceList,
        countyAdd, countyShow, countyList, countyUpdate,
        pairingAdd, pairingShow, pairingList, pairingUpdate,
        orgAdd, orgShow, orgList, orgUpdate,
        occupationAdd, occupationShow, occupationList, occupationUpdate,
    ]

    // MARK: Provinces

    static let provinceList = CommandSpec(
        "PROVINCE LIST", usage: "PROVINCE LIST [side=east|west|other]",
        summary: "list the provinces with their codes and side"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["side"])
        let side = try request.choice("side", Side.self)
        let records = try await context.repository.provinces()
            .filter { side == nil || $0.side == side }
            .map(record)
        return .records(header: "provinces", records.map { $0.rendered(as: session.format) })
    }

    static func record(_ province: Province) -> Record {
        Record([("code", .text(province.code)), ("name", .text(province.name)), ("side", .text(province.side.rawValue))])
    }

    // MARK: Counties

    static let countyAdd = CommandSpec(
        "COUNTY ADD", usage: "COUNTY ADD <code> name=<name> [prefecture=<name>] [key=yes|no]",
        summary: "register a western county by its 6-digit division code (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "prefecture", "key"])
        let principal = try context.requireAdmin(session)
        let code = try countyCode(request.words[0])
        let province = try await context.province(String(code.prefix(2)), side: .west, field: "code")
        let county = County(
            code: code, name: try request.requiredText("name", maxLength: 100), province: province.code,
            prefecture: try request.text("prefecture", maxLength: 100)?.trimmingSpaces ?? "",
            isKey: try request.flag("key") ?? true)
        try await context.repository.addCounty(
            county, audit: context.audit(principal, target: "county:\(code)", changes: request.changes(["name", "prefecture", "key"])))
        return .ok(record(county).rendered(as: session.format))
    }

    static let countyShow = CommandSpec(
        "COUNTY SHOW", usage: "COUNTY SHOW <code>", summary: "show one county"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let code = try countyCode(request.words[0])
        guard let county = try await context.repository.county(code: code) else {
            throw ProtocolError(.notFound, "no county \(code)")
        }
        return .ok(record(county).rendered(as: session.format))
    }

    static let countyList = CommandSpec(
        "COUNTY LIST", usage: "COUNTY LIST [province=<code|name>] [key=yes|no] [limit=N] [after=<code>]",
        summary: "list counties by code, a page at a time"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["province", "key", "limit", "after"])
        let page = try Page.from(request, settings: context.settings)
        var province: String?
        if let given = request.option("province") { province = try await context.province(given, field: "province").code }
        let counties = try await context.repository.counties(province: province, isKey: try request.flag("key"), page: page)
        return .page("counties", counties.map(record), page: page, cursor: { _ in counties.last?.code }, format: session.format)
    }

    static let countyUpdate = CommandSpec(
        "COUNTY UPDATE", usage: "COUNTY UPDATE <code> [name=<name>] [prefecture=<name>] [key=yes|no]",
        summary: "change a county's name, prefecture or key-county flag (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "prefecture", "key"])
        let principal = try context.requireAdmin(session)
        let code = try countyCode(request.words[0])
        let changes = request.changes(["name", "prefecture", "key"])
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let name = try request.text("name", maxLength: 100)?.trimmingSpaces
        if name?.isEmpty == true { throw ProtocolError(.badArg, "name must not be empty") }
        let county = try await context.repository.updateCounty(
            code: code, name: name, prefecture: try request.text("prefecture", maxLength: 100)?.trimmingSpaces,
            isKey: try request.flag("key"), audit: context.audit(principal, target: "county:\(code)", changes: changes))
        return .ok(record(county).rendered(as: session.format))
    }

    static func countyCode(_ text: String) throws(ProtocolError) -> String {
        guard text.utf8.count == 6, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw ProtocolError(.badArg, "county code must be 6 digits, not '\(text)'")
        }
        return text
    }

    static func record(_ county: County) -> Record {
        Record([
            ("code", .text(county.code)), ("name", .text(county.name)), ("province", .text(county.province)),
            ("prefecture", .text(county.prefecture)), ("key", .bool(county.isKey)),
        ])
    }

    // MARK: Pairings

    static let pairingAdd = CommandSpec(
        "PAIRING ADD",
        usage:
            "PAIRING ADD east=<province> west=<province> [east-city=<name>] [west-area=<name>] [county=<code>] [period=current|earlier]",
        summary: "record an east-west pairing; the level follows from what is named (admin)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["east", "west", "east-city", "west-area", "county", "period"])
        let principal = try context.requireAdmin(session)
        let east = try await context.province(try request.requiredText("east"), side: .east, field: "east")
        let west = try await context.province(try request.requiredText("west"), side: .west, field: "west")
        var westCounty: String?
        var westArea = try request.text("west-area", maxLength: 100)?.trimmingSpaces ?? ""
        if let code = request.option("county") {
            let code = try countyCode(code)
            guard let county = try await context.repository.county(code: code) else {
                throw ProtocolError(.badArg, "county: no county \(code)")
            }
            guard county.province == west.code else {
                throw ProtocolError(.badArg, "county: \(county.name) is not in \(west.name)")
            }
            westCounty = code
            if westArea.isEmpty { westArea = county.name }
        }
        let eastCity = try request.text("east-city", maxLength: 100)?.trimmingSpaces ?? ""
        let level: PairingLevel = westCounty != nil ? .county : (eastCity.isEmpty && westArea.isEmpty ? .province : .city)
        let pairing = try await context.repository.addPairing(
            Pairing(
                eastProvince: east.code, eastCity: eastCity, westProvince: west.code, westArea: westArea,
                westCounty: westCounty, level: level, period: try request.choice("period", PairingPeriod.self) ?? .current),
            audit: context.audit(
                principal, target: "pairing", changes: request.changes(["east", "west", "east-city", "west-area", "county", "period"])))
        return .ok(record(pairing).rendered(as: session.format))
    }

    static let pairingShow = CommandSpec(
        "PAIRING SHOW", usage: "PAIRING SHOW <id>", summary: "show one pairing"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "pairing id")
        guard let pairing = try await context.repository.pairing(id: id) else {
            throw ProtocolError(.notFound, "no pairing \(id)")
        }
        return .ok(record(pairing).rendered(as: session.format))
    }

    static let pairingList = CommandSpec(
        "PAIRING LIST",
        usage: "PAIRING LIST [east=<province>] [west=<province>] [period=current|earlier] [limit=N] [after=<id>]",
        summary: "list east-west pairings"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["east", "west", "period", "limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "a pairing id")
        var east: String?
        var west: String?
        if let given = request.option("east") { east = try await context.province(given, field: "east").code }
        if let given = request.option("west") { west = try await context.province(given, field: "west").code }
        let pairings = try await context.repository.pairings(
            east: east, west: west, period: try request.choice("period", PairingPeriod.self), page: page)
        return .page("pairings", pairings.map(record), page: page, cursor: { _ in pairings.last.map { "\($0.id)" } }, format: session.format)
    }

    static let pairingUpdate = CommandSpec(
        "PAIRING UPDATE", usage: "PAIRING UPDATE <id> [period=current|earlier] [east-city=<name>] [west-area=<name>]",
        summary: "change a pairing's period or the names of its sides (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["period", "east-city", "west-area"])
        let principal = try context.requireAdmin(session)
        let id = try request.id(at: 0, name: "pairing id")
        let changes = request.changes(["period", "east-city", "west-area"])
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let pairing = try await context.repository.updatePairing(
            id: id, period: try request.choice("period", PairingPeriod.self),
            eastCity: try request.text("east-city", maxLength: 100)?.trimmingSpaces,
            westArea: try request.text("west-area", maxLength: 100)?.trimmingSpaces,
            audit: context.audit(principal, target: "pairing:\(id)", changes: changes))
        return .ok(record(pairing).rendered(as: session.format))
    }

    static func record(_ pairing: Pairing) -> Record {
        Record([
            ("id", .integer(pairing.id)), ("east", .text(pairing.eastProvince)), ("east-city", .text(pairing.eastCity)),
            ("west", .text(pairing.westProvince)), ("west-area", .text(pairing.westArea)),
            ("county", .optional(pairing.westCounty)), ("level", .text(pairing.level.rawValue)),
            ("period", .text(pairing.period.rawValue)),
        ])
    }

    // MARK: Organisations

    static let orgAdd = CommandSpec(
        "ORG ADD", usage: "ORG ADD kind=school|enterprise|talent_dispatch name=<name> province=<province> [city=<name>]",
        summary: "register an eastern organisation (admin)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["kind", "name", "province", "city"])
        let principal = try context.requireAdmin(session)
        guard let kind = try request.choice("kind", OrganisationKind.self) else {
            throw ProtocolError(.badArg, "kind= is required (school|enterprise|talent_dispatch)")
        }
        let province = try await context.province(try request.requiredText("province"), field: "province")
        let organisation = try await context.repository.addOrganisation(
            Organisation(
                kind: kind, name: try request.requiredText("name", maxLength: 200), province: province.code,
                city: try request.text("city", maxLength: 100)?.trimmingSpaces ?? ""),
            audit: context.audit(principal, target: "org", changes: request.changes(["kind", "name", "province", "city"])))
        return .ok(record(organisation).rendered(as: session.format))
    }

    static let orgShow = CommandSpec(
        "ORG SHOW", usage: "ORG SHOW <id>", summary: "show one organisation"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "organisation id")
        guard let organisation = try await context.repository.organisation(id: id) else {
            throw ProtocolError(.notFound, "no organisation \(id)")
        }
        return .ok(record(organisation).rendered(as: session.format))
    }

    static let orgList = CommandSpec(
        "ORG LIST", usage: "ORG LIST [province=<province>] [kind=school|enterprise|talent_dispatch] [limit=N] [after=<id>]",
        summary: "list organisations"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["province", "kind", "limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "an organisation id")
        var province: String?
        if let given = request.option("province") { province = try await context.province(given, field: "province").code }
        let organisations = try await context.repository.organisations(
            province: province, kind: try request.choice("kind", OrganisationKind.self), page: page)
        return .page(
            "organisations", organisations.map(record), page: page, cursor: { _ in organisations.last.map { "\($0.id)" } },
            format: session.format)
    }

    static let orgUpdate = CommandSpec(
        "ORG UPDATE", usage: "ORG UPDATE <id> [name=<name>] [city=<name>]", summary: "rename an organisation or change its city (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "city"])
        let principal = try context.requireAdmin(session)
        let id = try request.id(at: 0, name: "organisation id")
        let changes = request.changes(["name", "city"])
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let name = try request.text("name", maxLength: 200)?.trimmingSpaces
        if name?.isEmpty == true { throw ProtocolError(.badArg, "name must not be empty") }
        let organisation = try await context.repository.updateOrganisation(
            id: id, name: name, city: try request.text("city", maxLength: 100)?.trimmingSpaces,
            audit: context.audit(principal, target: "org:\(id)", changes: changes))
        return .ok(record(organisation).rendered(as: session.format))
    }

    static func record(_ organisation: Organisation) -> Record {
        Record([
            ("id", .integer(organisation.id)), ("kind", .text(organisation.kind.rawValue)), ("name", .text(organisation.name)),
            ("province", .text(organisation.province)), ("city", .text(organisation.city)),
        ])
    }

    // MARK: Occupations

    static let occupationAdd = CommandSpec(
        "OCCUPATION ADD", usage: "OCCUPATION ADD <code> name=<name>",
        summary: "add a code to the occupational classification; its parent must exist (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name"])
        let principal = try context.requireAdmin(session)
        let code = request.words[0]
        guard let level = Occupation.level(of: code) else {
            throw ProtocolError(.badArg, "occupation code must look like 2, 2-05, 2-05-01 or 2-05-01-01, not '\(code)'")
        }
        let parent = Occupation.parent(of: code)
        if let parent, try await context.repository.occupation(code: parent) == nil {
            throw ProtocolError(.badArg, "code: its parent \(parent) is not in the classification")
        }
        let occupation = Occupation(code: code, name: try request.requiredText("name", maxLength: 200), level: level, parent: parent)
        try await context.repository.addOccupation(
            occupation, audit: context.audit(principal, target: "occupation:\(code)", changes: request.changes(["name"])))
        return .ok(record(occupation).rendered(as: session.format))
    }

    static let occupationShow = CommandSpec(
        "OCCUPATION SHOW", usage: "OCCUPATION SHOW <code>", summary: "show one occupation code"
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        guard let occupation = try await context.repository.occupation(code: request.words[0]) else {
            throw ProtocolError(.notFound, "no occupation \(request.words[0])")
        }
        return .ok(record(occupation).rendered(as: session.format))
    }

    static let occupationList = CommandSpec(
        "OCCUPATION LIST",
        usage: "OCCUPATION LIST [parent=<code>] [level=major|mid|small|occupation] [limit=N] [after=<code>]",
        summary: "browse the occupational classification tree"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["parent", "level", "limit", "after"])
        let page = try Page.from(request, settings: context.settings)
        let occupations = try await context.repository.occupations(
            parent: request.option("parent"), level: try request.choice("level", OccupationLevel.self), page: page)
        return .page(
            "occupations", occupations.map(record), page: page, cursor: { _ in occupations.last?.code }, format: session.format)
    }

    static let occupationUpdate = CommandSpec(
        "OCCUPATION UPDATE", usage: "OCCUPATION UPDATE <code> name=<name>", summary: "rename a classification code (admin)"
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name"])
        let principal = try context.requireAdmin(session)
        let code = request.words[0]
        let occupation = try await context.repository.renameOccupation(
            code: code, name: try request.requiredText("name", maxLength: 200),
            audit: context.audit(principal, target: "occupation:\(code)", changes: request.changes(["name"])))
        return .ok(record(occupation).rendered(as: session.format))
    }

    static func record(_ occupation: Occupation) -> Record {
        Record([
            ("code", .text(occupation.code)), ("name", .text(occupation.name)), ("level", .text(occupation.level.rawValue)),
            ("parent", .optional(occupation.parent)),
        ])
    }
}
