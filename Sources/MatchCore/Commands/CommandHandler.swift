import CommandProtocol
import Logging

/// Turns one request line into exactly one reply. Knows nothing of sockets or SQL.
public struct CommandHandler: Sendable {
    public let settings: ServerSettings
    public let registry: CommandRegistry
    private let store: any Store
    private let logger: Logger
    private let authFailures: AuthFailures
    private let metrics: CommandMetrics
    private let runsInProgress = RunsInProgress()

    public init(store: any Store, settings: ServerSettings, logger: Logger, metrics: CommandMetrics = CommandMetrics()) {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.authFailures = AuthFailures(limit: settings.maximumFailedAuthPerAddress, window: .seconds(60))
        self.registry = .standard
    }

    public var greeting: Reply { .ok(settings.greeting) }

    /// Handles one framed line. Returns nil for blank and comment lines, which get no reply.
    /// `dataBlock` carries the lines after a line that announced a block.
    public func handle(line: [UInt8], session: inout Session, dataBlock: (any DataBlockSource)? = nil) async -> Reply? {
        session.linesSeen += 1
        let started = ContinuousClock.now
        switch CommandParser.parse(line) {
        case .failure(let error):
            metrics.record(error.reply, verb: CommandMetrics.unknownVerb, since: started, remembered: &session.metrics)
            return error.reply
        case .success(.ignored):
            return nil
        case .success(.request(let request)):
            return await handle(request, session: &session, dataBlock: dataBlock)
        }
    }

    public func handle(_ request: Request, session: inout Session, dataBlock: (any DataBlockSource)? = nil) async -> Reply {
        let started = ContinuousClock.now
        let spec: CommandSpec
        let inner: Request
        do {
            (spec, inner) = try registry.resolve(request)
        } catch {
            metrics.record(error.reply, verb: CommandMetrics.unknownVerb, since: started, remembered: &session.metrics)
            return error.reply
        }
        let reply = await handle(spec, inner, session: &session, dataBlock: dataBlock)
        metrics.record(reply, verb: spec.name, since: started, remembered: &session.metrics)
        return reply
    }

    private func handle(_ spec: CommandSpec, _ inner: Request, session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply {
        if let batch = session.batch, let failedAt = batch.failedAtLine, !BatchCommands.endsBatch(spec) {
            return .error(.conflict, "the batch failed at line \(failedAt) and stores nothing; send ABORT (or COMMIT) to end it")
        }
        let reply = await run(spec, inner, session: &session, dataBlock: dataBlock)
        if case .error(let code, let text) = reply, let batch = session.batch, batch.failedAtLine == nil,
            !BatchCommands.endsBatch(spec)
        {
            // One error voids the whole batch, as the client asked for all or nothing.
            await batch.unit.rollback()
            session.batch?.failedAtLine = session.linesSeen
            return .error(code, "\(text) (batch aborted at line \(session.linesSeen); nothing was stored; send ABORT)")
        }
        if session.batch != nil && !BatchCommands.endsBatch(spec) && spec.name != "BEGIN" { session.batch?.commands += 1 }
        return reply
    }

    private func run(_ spec: CommandSpec, _ request: Request, session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply {
        do {
            if spec.requiresAuth {
                guard let principal = session.principal else { throw ProtocolError(.unauthenticated, "AUTH <token> first") }
                guard spec.access.admits(principal.role) else {
                    throw ProtocolError(
                        .denied, "\(spec.name) is for \(spec.access.note) tokens; this connection acts as \(principal.role.rawValue)")
                }
            }
            let context = CommandContext(
                store: store, batch: session.batch?.unit, principal: session.principal, settings: settings, registry: registry,
                spec: spec, dataBlock: dataBlock, logger: logger, authFailures: authFailures, metrics: metrics,
                runsInProgress: runsInProgress)
            return try await spec.run(request, &session, context)
        } catch let error as ProtocolError {
            return error.reply
        } catch StoreError.tokenRevoked {
            // A revoked or expired token stops working at once, on open connections too.
            session.principal = nil
            return .error(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        } catch let error as StoreError {
            return Self.reply(for: error)
        } catch {
            logger.error("command failed", metadata: ["command": "\(spec.name)", "error": "\(error)"])
            return .error(.internal, "the command failed on the server; the error is logged")
        }
    }

    /// Called once the connection is gone: an open batch is rolled back and its connection freed.
    public func endSession(_ session: Session) async {
        if let batch = session.batch, batch.failedAtLine == nil {
            await batch.unit.rollback()
        }
    }

    static func reply(for error: StoreError) -> Reply {
        switch error {
        case .unavailable(let detail): .error(.unavailable, "the database is unavailable: \(detail); nothing was stored")
        case .outcomeUnknown(let detail):
            .error(.outcomeUnknown, "the database connection broke while the write was committing (\(detail)); it may be stored")
        case .conflict(let detail): .error(.conflict, detail)
        case .invalid(let field, let message): .error(.badArg, "\(field): \(message)")
        case .tokenRevoked: .error(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        case .busy(let detail): .error(.busy, detail)
        }
    }
}
