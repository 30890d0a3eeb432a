import CommandProtocol

/// The commands that work before AUTH: connection checks, discovery and authentication.
enum SessionCommands {
    static let all: [CommandSpec] = [ping, help, capa, auth, whoami, format, quit]

    static let ping = CommandSpec(
        "PING", usage: "PING", summary: "check that the server answers; replies OK PONG", requiresAuth: false
    ) { request, _, context in
        try context.validate(request, words: 0...0)
        return .ok("PONG")
    }

    static let help = CommandSpec(
        "HELP", usage: "HELP [verb [subverb]]", summary: "list the commands, or show one command's usage",
        requiresAuth: false
    ) { request, _, context in
        try context.validate(request, words: 0...2)
        let registry = context.registry
        guard !request.words.isEmpty else {
            let lines = registry.commands.map { "\(pad($0.usage, 34)) \($0.summary)\($0.requiresAuth ? "" : " (no AUTH needed)")" }
            return .records(header: "commands; HELP <verb> for one", lines)
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
            lines.append("  \(spec.requiresAuth ? "needs AUTH" : "works before AUTH")\(spec.takesDataBlock ? "; followed by a data block ending in a line holding only ." : "")")
        }
        return .records(header: name, lines)
    }

    static let capa = CommandSpec(
        "CAPA", usage: "CAPA", summary: "list the protocol's limits and features as key=value records",
        requiresAuth: false
    ) { request, _, context in
        try context.validate(request, words: 0...0)
        let settings = context.settings
        let blocks = context.registry.dataBlockCommands.sorted().joined(separator: ",")
        let lines: [(String, String)] = [
            ("service", "ewmatch"),
            ("version", ServerSettings.version),
            ("protocol", "\(ServerSettings.protocolVersion)"),
            ("max-line-bytes", "\(settings.maximumLineLength)"),
            ("idle-timeout-s", "\(settings.idleTimeoutSeconds)"),
            ("max-connections", "\(settings.maximumConnections)"),
            ("page-default", "\(settings.defaultPageSize)"),
            ("page-max", "\(settings.maximumPageSize)"),
            ("max-failed-auth", "\(settings.maximumFailedAuth)"),
            ("auth-timeout-s", "\(settings.authenticationTimeoutSeconds)"),
            ("data-block-timeout-s", "\(settings.dataBlockTimeoutSeconds)"),
            ("data-block-min-bytes-s", "\(settings.dataBlockMinimumBytesPerSecond)"),
            ("line-end", "LF; one CR before it is dropped"),
            ("quoting", "double quotes; escapes backslash + one of: quote backslash n t r xHH"),
            ("data-blocks", blocks.isEmpty ? "none" : blocks),
            ("auth", "token"),
        ]
        return .records(header: "capabilities", lines.map { Field.line([$0]) })
    }

    static let auth = CommandSpec(
        "AUTH", usage: "AUTH <token>", summary: "authenticate this connection with an access token", requiresAuth: false
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        let secret = request.words[0]
        let principal: Principal?
        if TokenSecret.isWellFormed(secret) {
            principal = try await context.repository.authenticate(secret: secret)
        } else {
            principal = nil
        }
        guard let principal else {
            session.failedAuthAttempts += 1
            let attempts = session.failedAuthAttempts
            let limit = context.settings.maximumFailedAuth
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
        return .ok(describe(principal))
    }

    static let whoami = CommandSpec(
        "WHOAMI", usage: "WHOAMI", summary: "show the role and scope this connection acts with", requiresAuth: false
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        guard let principal = session.principal else { return .ok("anonymous; AUTH <token> to sign in") }
        guard let current = try await context.repository.principal(tokenID: principal.tokenID) else {
            session.principal = nil
            return .error(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        }
        session.principal = current
        return .ok(describe(current))
    }

    static let format = CommandSpec(
        "FORMAT", usage: "FORMAT text|json",
        summary: "write record lines as key=value words (text, the default) or as JSON objects (json)",
        requiresAuth: false
    ) { request, session, context in
        try context.validate(request, words: 1...1)
        guard let format = OutputFormat(rawValue: asciiLowercased(request.words[0])) else {
            throw ProtocolError(.badArg, "FORMAT takes text or json, not '\(request.words[0])'")
        }
        session.format = format
        return .ok("format=\(format.rawValue)")
    }

    static let quit = CommandSpec(
        "QUIT", usage: "QUIT", summary: "close the connection after this reply", requiresAuth: false
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        session.shouldClose = true
        if let batch = session.batch {
            session.batch = nil
            if batch.failedAtLine == nil { await batch.transaction.rollback() }
            return .ok("bye; the open batch was dropped")
        }
        return .ok("bye")
    }

    static func describe(_ principal: Principal) -> String {
        Field.line([
            ("token", "\(principal.tokenID)"), ("role", principal.role.rawValue), ("scope", principal.scope),
            ("label", principal.label),
        ])
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }
}
