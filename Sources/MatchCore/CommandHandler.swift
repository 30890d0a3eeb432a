import CommandProtocol
import Logging

/// Turns one request line into exactly one reply. Knows nothing of sockets or SQL.
public struct CommandHandler: Sendable {
    public let settings: ServerSettings
    public let registry: CommandRegistry
    private let repository: any Repository
    private let logger: Logger

    public init(repository: any Repository, settings: ServerSettings, logger: Logger) {
        self.repository = repository
        self.settings = settings
        self.logger = logger
        self.registry = .standard
    }

    public var greeting: Reply { .ok(settings.greeting) }

    /// Handles one framed line. Returns nil for blank and comment lines, which get no reply.
    /// `dataBlock` carries the lines after a line that announced a block.
    public func handle(line: [UInt8], session: inout Session, dataBlock: (any DataBlockSource)? = nil) async -> Reply? {
        session.linesSeen += 1
        switch CommandParser.parse(line) {
        case .failure(let error):
            return error.reply
        case .success(.ignored):
            return nil
        case .success(.request(let request)):
            return await handle(request, session: &session, dataBlock: dataBlock)
        }
    }

    public func handle(_ request: Request, session: inout Session, dataBlock: (any DataBlockSource)? = nil) async -> Reply {
        let spec: CommandSpec
        let inner: Request
        do {
            (spec, inner) = try registry.resolve(request)
        } catch {
            return error.reply
        }
        if let batch = session.batch, let failedAt = batch.failedAtLine, !BatchCommands.endsBatch(spec) {
            return .error(.conflict, "the batch failed at line \(failedAt) and stores nothing; send ABORT (or COMMIT) to end it")
        }
        let reply = await run(spec, inner, session: &session, dataBlock: dataBlock)
        if case .error(let code, let text) = reply, let batch = session.batch, batch.failedAtLine == nil,
            !BatchCommands.endsBatch(spec)
        {
            // One error voids the whole batch, as the client asked for all or nothing.
            await batch.transaction.rollback()
            session.batch?.failedAtLine = session.linesSeen
            return .error(code, "\(text) (batch aborted at line \(session.linesSeen); nothing was stored; send ABORT)")
        }
        if session.batch != nil && !BatchCommands.endsBatch(spec) && spec.name != "BEGIN" { session.batch?.commands += 1 }
        return reply
    }

    private func run(_ spec: CommandSpec, _ request: Request, session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply {
        do {
            let repository = session.batch?.transaction.repository ?? self.repository
            if spec.requiresAuth && !spec.checksTokenInItsWrite {
                try await revalidate(&session, repository: repository)
            } else if spec.requiresAuth && session.principal == nil {
                throw ProtocolError(.unauthenticated, "AUTH <token> first")
            }
            let context = CommandContext(
                repository: repository, settings: settings, registry: registry, spec: spec, dataBlock: dataBlock)
            return try await spec.run(request, &session, context)
        } catch let error as ProtocolError {
            return error.reply
        } catch RepositoryError.tokenRevoked {
            session.principal = nil
            return .error(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        } catch let error as RepositoryError {
            return Self.reply(for: error)
        } catch {
            logger.error("command failed", metadata: ["command": "\(spec.name)", "error": "\(error)"])
            return .error(.internal, "the command failed on the server; the error is logged")
        }
    }

    /// Called once the connection is gone: an open batch is rolled back and its connection freed.
    public func endSession(_ session: Session) async {
        if let batch = session.batch, batch.failedAtLine == nil {
            await batch.transaction.rollback()
        }
    }

    /// A token revoked or expired stops working at once, on open connections too.
    private func revalidate(_ session: inout Session, repository: any Repository) async throws {
        guard let principal = session.principal else {
            throw ProtocolError(.unauthenticated, "AUTH <token> first")
        }
        guard let current = try await repository.principal(tokenID: principal.tokenID) else {
            session.principal = nil
            throw ProtocolError(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        }
        session.principal = current
    }

    static func reply(for error: RepositoryError) -> Reply {
        switch error {
        case .unavailable(let detail): .error(.unavailable, "the database is unavailable: \(detail)")
        case .notFound(let detail): .error(.notFound, detail)
        case .conflict(let detail): .error(.conflict, detail)
        case .invalid(let field, let message): .error(.badArg, "\(field): \(message)")
        case .tokenRevoked: .error(.authFailed, "the token of this connection was revoked or has expired; AUTH again")
        case .busy(let detail): .error(.busy, detail)
        }
    }
}
