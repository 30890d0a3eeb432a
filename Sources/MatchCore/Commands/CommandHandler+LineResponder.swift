import CommandProtocol

/// The server sees the command handler only through `LineResponder`, so the transport needs no
/// command logic to be built or tested.
extension CommandHandler: LineResponder {
    public var limits: LineLimits {
        LineLimits(
            maximumLineLength: settings.maximumLineLength, dataBlockCommands: registry.dataBlockCommands,
            idleTimeout: .seconds(settings.idleTimeoutSeconds), maximumConnections: settings.maximumConnections,
            authenticationTimeout: .seconds(settings.authenticationTimeoutSeconds),
            dataBlockTimeout: .seconds(settings.dataBlockTimeoutSeconds),
            dataBlockMinimumBytesPerSecond: settings.dataBlockMinimumBytesPerSecond)
    }

    public func makeSession(peer: String) -> Session {
        var session = Session()
        session.peer = peer
        return session
    }

    public func respond(line: [UInt8], session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply? {
        await handle(line: line, session: &session, dataBlock: dataBlock)
    }

    public func shouldClose(_ session: Session) -> Bool { session.shouldClose }

    public func isAuthenticated(_ session: Session) -> Bool { session.principal != nil }

    public func format(_ session: Session) -> OutputFormat { session.format }
}
