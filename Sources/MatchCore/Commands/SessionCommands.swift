import CommandProtocol
import Logging

/// The commands that work before AUTH: connection checks, discovery and authentication.
enum SessionCommands {
    static let all: [CommandSpec] = [ping, help, capa, auth, whoami, format, quit]

    static let ping = CommandSpec(
        "PING", usage: "PING", summary: "check that the server answers; replies OK PONG", access: .open
    ) { request, _, context in
        try context.validate(request, words: 0...0)
        return .ok("PONG")
    }

    static let help = CommandSpec(
        "HELP", usage: "HELP [verb [subverb]]", summary: "list the commands, or show one command's usage",
        access: .open
    ) { request, _, context in
        try context.validate(request, words: 0...2)
        let registry = context.registry
        guard !request.words.isEmpty else {
            let lines = registry.commands.map { "\(pad($0.usage, 34)) \($0.summary) (\($0.access.note))" }
            return .lines(header: "commands; HELP <verb> for one", lines)
        }
        let name = asciiUppercased(request.words.joined(separator: " "))
        let matching = registry.commands.filter { $0.name == name || $0.name.hasPrefix(name + " ") }
        guard !matching.isEmpty else {
            throw ProtocolError(.badArg, "no command '\(name)'; HELP lists them")
        }
        var lines: [String] = []
        for spec in matching {
            lines.append("usage: \(spec.usage)")
            lines.append("  \(spec.summary)")
            lines.append("  \(spec.requiresAuth ? "needs AUTH: \(spec.access.note)" : "works before AUTH")\(spec.takesDataBlock ? "; followed by a data block ending in a line holding only ." : "")")
        }
        return .lines(header: Reply.Header(name), lines)
    }

    static let capa = CommandSpec(
        "CAPA", usage: "CAPA", summary: "list the protocol's limits and features as key=value records",
        access: .open
    ) { request, _, context in
        try context.validate(request, words: 0...0)
        let settings = context.settings
        let blocks = context.registry.dataBlockCommands.sorted().joined(separator: ",")
        let capabilities: [(String, Record.Value)] = [
            ("service", "ewmatch"),
            ("version", .text(ServerSettings.version)),
            ("protocol", .int(ServerSettings.protocolVersion)),
            ("max-line-bytes", .int(settings.maximumLineLength)),
            ("idle-timeout-s", .int(settings.idleTimeoutSeconds)),
            ("max-connections", .int(settings.maximumConnections)),
            ("page-default", .int(settings.defaultPageSize)),
            ("page-max", .int(settings.maximumPageSize)),
            ("max-failed-auth", .int(settings.maximumFailedAuth)),
            ("max-failed-auth-per-address-min", .int(settings.maximumFailedAuthPerAddress)),
            ("auth-timeout-s", .int(settings.authenticationTimeoutSeconds)),
            ("data-block-timeout-s", .int(settings.dataBlockTimeoutSeconds)),
            ("data-block-min-bytes-s", .int(settings.dataBlockMinimumBytesPerSecond)),
            ("lease-timeout-s", .decimal(fixed(context.store.leaseTimeoutSeconds, 1))),
            ("long-units", .int(context.store.longUnitLimit)),
            ("line-end", "LF; one CR before it is dropped"),
            ("quoting", "double quotes; escapes backslash + one of: quote backslash n t r xHH"),
            ("data-blocks", .text(blocks.isEmpty ? "none" : blocks)),
            ("auth", "token"),
        ]
        return .records(header: "capabilities", capabilities.map { Record([$0]) })
    }

    static let auth = CommandSpec(
        "AUTH", usage: "AUTH <token>", summary: "authenticate this connection with an access token", access: .open
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let secret = request.words[0]
        let limit = context.settings.maximumFailedAuth
        if context.authFailures.isBlocked(session.peer) {
            context.logger.notice("AUTH refused: too many failures from this address", metadata: ["peer": "\(session.peer)"])
            return .error(
                .authFailed,
                "too many failed AUTH from this address (\(context.settings.maximumFailedAuthPerAddress) a minute); try again later")
        }
        let principal: Principal?
        if TokenSecret.isWellFormed(secret) {
            principal = try await context.read { try $0.tokens.authenticate(secret: secret) }
        } else {
            principal = nil
        }
        guard let principal else {
            session.failedAuthAttempts += 1
            let attempts = session.failedAuthAttempts
            let fromAddress = context.authFailures.record(session.peer)
            // Never the secret: a log must not become a list of tokens to try.
            context.logger.notice(
                "AUTH failed",
                metadata: ["peer": "\(session.peer)", "on-connection": "\(attempts)", "from-address": "\(fromAddress)"])
            if attempts >= limit {
                session.shouldClose = true
                return .error(.authFailed, "unknown, revoked or expired token; \(attempts) failures, closing the connection")
            }
            // Slows guessing down without hurting a person who mistyped once or twice.
            if attempts > 2 {
                try? await Task.sleep(for: .seconds(attempts - 2))
            }
            return .error(.authFailed, "unknown, revoked or expired token (\(limit - attempts) attempts left)")
        }
        session.principal = principal
        session.failedAuthAttempts = 0
        return .record(describe(principal))
    }

    static let whoami = CommandSpec(
        "WHOAMI", usage: "WHOAMI", summary: "show the role and scope this connection acts with", access: .open
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        guard let principal = session.principal else { return .ok("anonymous; AUTH <token> to sign in") }
        try await context.read { _ in }
        return .record(describe(principal))
    }

    static let format = CommandSpec(
        "FORMAT", usage: "FORMAT text|json",
        summary: "write record lines as key=value words (text, the default) or as JSON objects (json)",
        access: .open
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        guard let format = OutputFormat(rawValue: asciiLowercased(request.words[0])) else {
            throw ProtocolError(.badArg, "FORMAT takes text or json, not '\(request.words[0])'")
        }
        session.format = format
        return .record(Record([("format", .text(format.rawValue))]))
    }

    static let quit = CommandSpec(
        "QUIT", usage: "QUIT", summary: "close the connection after this reply", access: .open
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        session.shouldClose = true
        if let batch = session.batch {
            session.batch = nil
            if batch.failedAtLine == nil { await batch.unit.rollback() }
            return .ok("bye; the open batch was dropped")
        }
        return .ok("bye")
    }

    static func describe(_ principal: Principal) -> Record {
        Record([
            ("token", .integer(principal.tokenID)), ("role", .text(principal.role.rawValue)), ("scope", .text(principal.scope)),
            ("label", .text(principal.label)),
        ])
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }
}
