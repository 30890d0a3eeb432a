import CommandProtocol

/// Access tokens over the protocol (admin). `ewmatch token create` is the shell-side bootstrap
/// with the same rules.
enum TokenCommands {
    static let all: [CommandSpec] = [issue, list, revoke, audit]

    static let issue = CommandSpec(
        "TOKEN ISSUE",
        usage:
            "TOKEN ISSUE role=admin|west|east [scope=county:<code>|province:<province>|org:<id>|city:<name>] [label=…] [expires-days=N]",
        summary: "create a token and show its secret once; only a hash is stored", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["role", "scope", "label", "expires-days"])
        guard let role = try request.choice("role", Role.self) else { throw ProtocolError(.badArg, "role= is required (admin|west|east)") }
        let givenScope = request.option("scope") ?? ""
        let days = try request.integer("expires-days", in: 1...3_650).map { Int($0) }
        let label = try request.text("label", maxLength: 200) ?? ""
        let secret = TokenSecret.generate()
        let created = try await context.write(target: "token", changes: []) { db, audit in
            let scope = try TokenScopes.validate(role: role, scope: givenScope, registry: db.registry)
            let created = try db.tokens.create(secret: secret, role: role, scope: scope, label: label, expiresInDays: days)
            audit.target = "token:\(created.tokenID)"
            audit.changes = TokenScopes.auditedChanges(created)
            return created
        }
        return .record(
            Record([
                ("token", .integer(created.tokenID)), ("secret", .text(secret)), ("role", .text(created.role.rawValue)),
                ("scope", .text(created.scope)), ("label", .text(created.label)),
            ]))
    }

    static let list = CommandSpec(
        "TOKEN LIST", usage: "TOKEN LIST [limit=N] [after=<id>]", summary: "list tokens with role, scope and state, never secrets", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "a token id")
        let tokens = try await context.read { try $0.tokens.list(page: page) }
        let records = tokens.map { info in
            Record([
                ("token", .integer(info.principal.tokenID)), ("role", .text(info.principal.role.rawValue)),
                ("scope", .text(info.principal.scope)), ("label", .text(info.principal.label)), ("created", .text(info.createdAt)),
                ("expires", .optional(info.expiresAt)), ("revoked", .optional(info.revokedAt)),
            ])
        }
        return .page("tokens", records, page: page, cursor: { _ in tokens.last.map { "\($0.principal.tokenID)" } })
    }

    static let revoke = CommandSpec(
        "TOKEN REVOKE", usage: "TOKEN REVOKE <id>", summary: "revoke a token at once, on open connections too", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let id = try request.id(at: 0, name: "token id")
        try await context.write(target: "token:\(id)", changes: []) { db, _ in
            switch try db.tokens.revoke(id) {
            case nil: throw ProtocolError(.notFound, "no token \(id)")
            case false?: throw ProtocolError(.conflict, "token \(id) is already revoked")
            case true?: break
            }
        }
        return .ok("revoked token=\(id)")
    }

    static let audit = CommandSpec(
        "AUDIT",
        usage: "AUDIT [token=<id>] [target=<kind[:id]>] [since=<date|timestamp>] [until=<date|timestamp>] [limit=N] [after=<id>]",
        summary: "who changed what, and when: the audit trail, oldest first", access: .admin
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["token", "target", "since", "until", "limit", "after"])
        let page = try Page.from(request, settings: context.settings, idCursor: "an audit entry id")
        var filter = AuditFilter()
        filter.tokenID = try request.integer("token", in: 1...Int64.max)
        filter.target = request.option("target")
        filter.since = try timestamp(request, "since")
        filter.until = try timestamp(request, "until")
        let entries = try await context.read { [filter] in try $0.audit.entries(filter: filter, page: page) }
        let records = entries.map { entry in
            Record([
                ("id", .integer(entry.id)), ("at", .text(entry.at)), ("token", entry.tokenID.map { .integer($0) } ?? .null),
                ("role", .text(entry.role)), ("scope", .text(entry.scope)), ("command", .text(entry.command)),
                ("target", .text(entry.target)), ("changes", .storedJSON(entry.changes)),
            ])
        }
        return .page("entries", records, page: page, cursor: { _ in entries.last.map { "\($0.id)" } })
    }

    /// `YYYY-MM-DD` or an ISO 8601 timestamp; checked here so a typo is a BAD_ARG, not a
    /// database error.
    static func timestamp(_ request: Request, _ key: String) throws(ProtocolError) -> String? {
        guard let text = request.option(key) else { return nil }
        let datePart = String(text.prefix(10))
        guard Day(datePart) != nil,
            text.count == 10 || (text.count >= 16 && (text.utf8.dropFirst(10).first == UInt8(ascii: "T") || text.utf8.dropFirst(10).first == UInt8(ascii: " ")))
        else { throw ProtocolError(.badArg, "\(key) must be a date YYYY-MM-DD or a timestamp YYYY-MM-DDTHH:MM[:SS][Z], not '\(text)'") }
        let timePart = text.dropFirst(11)
        guard timePart.allSatisfy({ $0.isNumber || ":.+-Z".contains($0) }) else {
            throw ProtocolError(.badArg, "\(key): '\(text)' is not a timestamp")
        }
        return text
    }
}

/// The scope rules shared by `TOKEN ISSUE` and `ewmatch token create`.
public enum TokenScopes {
    /// The scope as stored (province names become codes), or a BAD_ARG naming what is wrong.
    public static func validate(role: Role, scope: String, registry: any RegistryGateway) throws -> String {
        if role == .admin {
            guard scope.isEmpty else { throw ProtocolError(.badArg, "scope: admin tokens have no scope") }
            return ""
        }
        let parts = scope.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw ProtocolError(
                .badArg,
                role == .west
                    ? "scope= is required for west tokens: county:<code> or province:<province>"
                    : "scope= is required for east tokens: org:<id>, province:<province> or city:<name>")
        }
        let (kind, value) = (parts[0], parts[1])
        switch (role, kind) {
        case (.west, "county"):
            guard try registry.county(code: value) != nil else { throw ProtocolError(.badArg, "scope: no county \(value)") }
            return "county:\(value)"
        case (.west, "province"), (.east, "province"):
            let side: Side = role == .west ? .west : .east
            guard let province = try registry.provinces().first(where: { $0.code == value || $0.name == value }) else {
                throw ProtocolError(.badArg, "scope: no province '\(value)'")
            }
            guard province.side == side else { throw ProtocolError(.badArg, "scope: \(province.name) is not a \(side.rawValue)ern province") }
            return "province:\(province.code)"
        case (.east, "org"):
            guard let id = Int64(wholeNumber: value), try registry.organisation(id: id) != nil else {
                throw ProtocolError(.badArg, "scope: no organisation \(value)")
            }
            return "org:\(id)"
        case (.east, "city"):
            return "city:\(value)"
        default:
            throw ProtocolError(.badArg, "scope: '\(kind):' does not apply to \(role.rawValue) tokens")
        }
    }

    /// What a new token's audit entry records: never its secret.
    public static func auditedChanges(_ token: Principal) -> [(String, String)] {
        [("role", token.role.rawValue), ("scope", token.scope), ("label", token.label)]
    }

    /// A token created from the shell (`ewmatch token create`, the first admin's bootstrap), with
    /// the same rules as TOKEN ISSUE; audited as done by `command`.
    public static func createFromShell(
        secret: String, role: Role, scope: String, label: String, expiresInDays: Int?, command: String, in db: Gateways
    ) throws -> Principal {
        let checked = try validate(role: role, scope: scope, registry: db.registry)
        let created = try db.tokens.create(secret: secret, role: role, scope: checked, label: label, expiresInDays: expiresInDays)
        try db.audit.recordFromShell(command: command, target: "token:\(created.tokenID)", changes: auditedChanges(created))
        return created
    }
}
