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
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["side"])
        let side = try request.choice("side", Side.self)
        let records = try await context.read { try $0.registry.provinces() }
            .filter { side == nil || $0.side == side }
            .map(record)
        return .records(header: "provinces", records)
    }

    static func record(_ province: Province) -> Record {
        Record([("code", .text(province.code)), ("name", .text(province.name)), ("side", .text(province.side.rawValue))])
    }

    // MARK: Counties

    static let countyAdd = CommandSpec(
        "COUNTY ADD", usage: "COUNTY ADD <code> name=<name> [prefecture=<name>] [key=yes|no]",
        summary: "register a western county by its 6-digit division code", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "prefecture", "key"])
        let code = try countyCode(request.words[0])
        let name = try request.requiredText("name", maxLength: 100)
        let prefecture = try request.text("prefecture", maxLength: 100)?.trimmingSpaces ?? ""
        let isKey = try request.flag("key") ?? true
        let county = try await context.write(target: "county:\(code)", changes: request.changes(["name", "prefecture", "key"])) { db, _ in
            let province = try CommandContext.province(String(code.prefix(2)), side: .west, field: "code", in: db.registry)
            let county = County(code: code, name: name, province: province.code, prefecture: prefecture, isKey: isKey)
            try db.registry.addCounty(county)
            return county
        }
        return .record(record(county))
    }

    static let countyShow = CommandSpec(
        "COUNTY SHOW", usage: "COUNTY SHOW <code>", summary: "show one county"
    ) { request, _, context in
        try context.validate(request, words: 1...1)
        let code = try countyCode(request.words[0])
        guard let county = try await context.county(code: code) else {
            throw ProtocolError(.notFound, "no county \(code)")
        }
        return .record(record(county))
    }

    static let countyList = CommandSpec(
        "COUNTY LIST", usage: "COUNTY LIST [province=<code|name>] [key=yes|no] [limit=N] [after=<code>]",
        summary: "list counties by code, a page at a time"
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["province", "key", "limit", "after"])
        let page = try Page.from(request, settings: context.settings)
        let given = request.option("province")
        let isKey = try request.flag("key")
        let counties = try await context.read { db in
            let province = try given.map { try CommandContext.province($0, field: "province", in: db.registry).code }
            return try db.registry.counties(province: province, isKey: isKey, page: page)
        }
        return .page("counties", counties.map(record), page: page, cursor: { _ in counties.last?.code })
    }

    static let countyUpdate = CommandSpec(
        "COUNTY UPDATE", usage: "COUNTY UPDATE <code> [name=<name>] [prefecture=<name>] [key=yes|no]",
        summary: "change a county's name, prefecture or key-county flag", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "prefecture", "key"])
        let code = try countyCode(request.words[0])
        let changes = request.changes(["name", "prefecture", "key"])
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let name = try request.text("name", maxLength: 100)?.trimmingSpaces
        if name?.isEmpty == true { throw ProtocolError(.badArg, "name must not be empty") }
        let prefecture = try request.text("prefecture", maxLength: 100)?.trimmingSpaces
        let isKey = try request.flag("key")
        let county = try await context.write(target: "county:\(code)", changes: changes) { db, _ in
            guard let county = try db.registry.updateCounty(code: code, name: name, prefecture: prefecture, isKey: isKey) else {
                throw ProtocolError(.notFound, "no county \(code)")
            }
            return county
        }
        return .record(record(county))
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
        summary: "record an east-west pairing; the level follows from what is named", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["east", "west", "east-city", "west-area", "county", "period"])
        let eastGiven = try request.requiredText("east")
        let westGiven = try request.requiredText("west")
        let givenArea = try request.text("west-area", maxLength: 100)?.trimmingSpaces ?? ""
        let countyGiven = try request.option("county").map(countyCode)
        let eastCity = try request.text("east-city", maxLength: 100)?.trimmingSpaces ?? ""
        let period = try request.choice("period", PairingPeriod.self) ?? .current
        let changes = request.changes(["east", "west", "east-city", "west-area", "county", "period"])
        let pairing = try await context.write(target: "pairing", changes: changes) { db, audit in
            let east = try CommandContext.province(eastGiven, side: .east, field: "east", in: db.registry)
            let west = try CommandContext.province(westGiven, side: .west, field: "west", in: db.registry)
            var westArea = givenArea
            if let code = countyGiven {
                guard let county = try db.registry.county(code: code) else { throw ProtocolError(.badArg, "county: no county \(code)") }
                guard county.province == west.code else {
                    throw ProtocolError(.badArg, "county: \(county.name) is not in \(west.name)")
                }
                if westArea.isEmpty { westArea = county.name }
            }
            let level: PairingLevel = countyGiven != nil ? .county : (eastCity.isEmpty && westArea.isEmpty ? .province : .city)
            let pairing = try db.registry.addPairing(
                Pairing(
                    eastProvince: east.code, eastCity: eastCity, westProvince: west.code, westArea: westArea,
                    westCounty: countyGiven, level: level, period: period))
            audit.target = "pairing:\(pairing.id)"
            return pairing
        }
        return .record(record(pairing))
    }

    static let pairingShow = CommandSpec(
        "PAIRING SHOW", usage: "PAIRING SHOW <id>", summary: "show one pairing"
    ) { request, _, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "pairing id")
        guard let pairing = try await context.read({ try $0.registry.pairing(id: id) }) else {
            throw ProtocolError(.notFound, "no pairing \(id)")
        }
        return .record(record(pairing))
    }

    static let pairingList = CommandSpec(
        "PAIRING LIST",
        usage: "PAIRING LIST [east=<province>] [west=<province>] [period=current|earlier] [limit=N] [after=<id>]",
        summary: "list east-west pairings"
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["east", "west", "period", "limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "a pairing id")
        let eastGiven = request.option("east")
        let westGiven = request.option("west")
        let period = try request.choice("period", PairingPeriod.self)
        let pairings = try await context.read { db in
            let east = try eastGiven.map { try CommandContext.province($0, field: "east", in: db.registry).code }
            let west = try westGiven.map { try CommandContext.province($0, field: "west", in: db.registry).code }
            return try db.registry.pairings(east: east, west: west, period: period, page: page)
        }
        return .page("pairings", pairings.map(record), page: page, cursor: { _ in pairings.last.map { "\($0.id)" } })
    }

    static let pairingUpdate = CommandSpec(
        "PAIRING UPDATE", usage: "PAIRING UPDATE <id> [period=current|earlier] [east-city=<name>] [west-area=<name>]",
        summary: "change a pairing's period or the names of its sides", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["period", "east-city", "west-area"])
        let id = try request.id(at: 0, name: "pairing id")
        let changes = request.changes(["period", "east-city", "west-area"])
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let period = try request.choice("period", PairingPeriod.self)
        let eastCity = try request.text("east-city", maxLength: 100)?.trimmingSpaces
        let westArea = try request.text("west-area", maxLength: 100)?.trimmingSpaces
        let pairing = try await context.write(target: "pairing:\(id)", changes: changes) { db, _ in
            guard let pairing = try db.registry.updatePairing(id: id, period: period, eastCity: eastCity, westArea: westArea) else {
                throw ProtocolError(.notFound, "no pairing \(id)")
            }
            return pairing
        }
        return .record(record(pairing))
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
        "ORG ADD", usage: "ORG ADD kind=school|enterprise|talent_dispatch|hr_agency|labour_station name=<name> province=<province> [city=<name>]",
        summary: "register an eastern organisation", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["kind", "name", "province", "city"])
        guard let kind = try request.choice("kind", OrganisationKind.self) else {
            throw ProtocolError(.badArg, "kind= is required (school|enterprise|talent_dispatch|hr_agency|labour_station)")
        }
        let provinceGiven = try request.requiredText("province")
        let name = try request.requiredText("name", maxLength: 200)
        let city = try request.text("city", maxLength: 100)?.trimmingSpaces ?? ""
        let organisation = try await context.write(target: "org", changes: request.changes(["kind", "name", "province", "city"])) {
            db, audit in
            let province = try CommandContext.province(provinceGiven, side: .east, field: "province", in: db.registry)
            let organisation = try db.registry.addOrganisation(Organisation(kind: kind, name: name, province: province.code, city: city))
            audit.target = "org:\(organisation.id)"
            return organisation
        }
        return .record(record(organisation))
    }

    static let orgShow = CommandSpec(
        "ORG SHOW", usage: "ORG SHOW <id>", summary: "show one organisation"
    ) { request, _, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "organisation id")
        guard let organisation = try await context.read({ try $0.registry.organisation(id: id) }) else {
            throw ProtocolError(.notFound, "no organisation \(id)")
        }
        return .record(record(organisation))
    }

    static let orgList = CommandSpec(
        "ORG LIST", usage: "ORG LIST [province=<province>] [kind=school|enterprise|talent_dispatch|hr_agency|labour_station] [limit=N] [after=<id>]",
        summary: "list organisations"
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["province", "kind", "limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "an organisation id")
        let given = request.option("province")
        let kind = try request.choice("kind", OrganisationKind.self)
        let organisations = try await context.read { db in
            let province = try given.map { try CommandContext.province($0, field: "province", in: db.registry).code }
            return try db.registry.organisations(province: province, kind: kind, page: page)
        }
        return .page(
            "organisations", organisations.map(record), page: page, cursor: { _ in organisations.last.map { "\($0.id)" } })
    }

    static let orgUpdate = CommandSpec(
        "ORG UPDATE", usage: "ORG UPDATE <id> [name=<name>] [city=<name>] [quality=0-50] [base=yes|no]",
        summary: "rename an organisation, change its city, or set its quality inputs: its rating and whether it is a 就业帮扶基地",
        access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name", "city", "quality", "base"])
        let id = try request.id(at: 0, name: "organisation id")
        let changes = request.changes(["name", "city", "quality", "base"])
        let quality = try request.integer("quality", in: 0...50).map { Int($0) }
        let base = try request.flag("base")
        guard !changes.isEmpty else { throw ProtocolError(.badArg, "nothing to change; usage: \(context.spec.usage)") }
        let name = try request.text("name", maxLength: 200)?.trimmingSpaces
        if name?.isEmpty == true { throw ProtocolError(.badArg, "name must not be empty") }
        let city = try request.text("city", maxLength: 100)?.trimmingSpaces
        let organisation = try await context.write(target: "org:\(id)", changes: changes) { db, _ in
            guard let organisation = try db.registry.updateOrganisation(id: id, name: name, city: city, quality: quality, employmentBase: base)
            else {
                throw ProtocolError(.notFound, "no organisation \(id)")
            }
            return organisation
        }
        return .record(record(organisation))
    }

    static func record(_ organisation: Organisation) -> Record {
        Record([
            ("id", .integer(organisation.id)), ("kind", .text(organisation.kind.rawValue)), ("name", .text(organisation.name)),
            ("province", .text(organisation.province)), ("city", .text(organisation.city)), ("quality", .int(organisation.quality)),
            ("base", .bool(organisation.employmentBase)),
        ])
    }

    // MARK: Occupations

    static let occupationAdd = CommandSpec(
        "OCCUPATION ADD", usage: "OCCUPATION ADD <code> name=<name>",
        summary: "add a code to the occupational classification; its parent must exist", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name"])
        let code = request.words[0]
        guard let level = Occupation.level(of: code) else {
            throw ProtocolError(.badArg, "occupation code must look like 2, 2-05, 2-05-01 or 2-05-01-01, not '\(code)'")
        }
        let parent = Occupation.parent(of: code)
        let occupation = Occupation(code: code, name: try request.requiredText("name", maxLength: 200), level: level, parent: parent)
        try await context.write(target: "occupation:\(code)", changes: request.changes(["name"])) { db, _ in
            if let parent, try db.registry.occupation(code: parent) == nil {
                throw ProtocolError(.badArg, "code: its parent \(parent) is not in the classification")
            }
            try db.registry.addOccupation(occupation)
        }
        return .record(record(occupation))
    }

    static let occupationShow = CommandSpec(
        "OCCUPATION SHOW", usage: "OCCUPATION SHOW <code>", summary: "show one occupation code"
    ) { request, _, context in
        try context.validate(request, words: 1...1)
        let code = request.words[0]
        guard let occupation = try await context.read({ try $0.registry.occupation(code: code) }) else {
            throw ProtocolError(.notFound, "no occupation \(request.words[0])")
        }
        return .record(record(occupation))
    }

    static let occupationList = CommandSpec(
        "OCCUPATION LIST",
        usage: "OCCUPATION LIST [parent=<code>] [level=major|mid|small|occupation] [limit=N] [after=<code>]",
        summary: "browse the occupational classification tree"
    ) { request, _, context in
        try context.validate(request, words: 0...0, options: ["parent", "level", "limit", "after"])
        let page = try Page.from(request, settings: context.settings)
        let parent = request.option("parent")
        let level = try request.choice("level", OccupationLevel.self)
        let occupations = try await context.read { try $0.registry.occupations(parent: parent, level: level, page: page) }
        return .page(
            "occupations", occupations.map(record), page: page, cursor: { _ in occupations.last?.code })
    }

    static let occupationUpdate = CommandSpec(
        "OCCUPATION UPDATE", usage: "OCCUPATION UPDATE <code> name=<name>", summary: "rename a classification code", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1, options: ["name"])
        let code = request.words[0]
        let name = try request.requiredText("name", maxLength: 200)
        let occupation = try await context.write(target: "occupation:\(code)", changes: request.changes(["name"])) { db, _ in
            guard let occupation = try db.registry.renameOccupation(code: code, name: name) else {
                throw ProtocolError(.notFound, "no occupation \(code)")
            }
            return occupation
        }
        return .record(record(occupation))
    }

    static func record(_ occupation: Occupation) -> Record {
        Record([
            ("code", .text(occupation.code)), ("name", .text(occupation.name)), ("level", .text(occupation.level.rawValue)),
            ("parent", .optional(occupation.parent)),
        ])
    }
}
