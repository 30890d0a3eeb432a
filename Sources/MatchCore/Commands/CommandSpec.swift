import Foundation
import CommandProtocol
import Logging

/// One command of the protocol: its help text, who may run it, and what it does.
public struct CommandSpec: Sendable {
    public typealias Run = @Sendable (Request, inout Session, CommandContext) async throws -> Reply

    /// Who may run a command. The handler enforces it before the command runs; HELP, the README
    /// and the role matrix test read it from here. Administrators may run every command; scopes
    /// narrow further what a command touches.
    public enum Access: Sendable, Equatable {
        /// Before AUTH too.
        case open
        /// Any authenticated token.
        case signedIn
        /// West tokens (and administrators).
        case west
        /// East tokens (and administrators).
        case east
        case admin

        public func admits(_ role: Role) -> Bool {
            switch self {
            case .open, .signedIn: true
            case .west: role == .west || role == .admin
            case .east: role == .east || role == .admin
            case .admin: role == .admin
            }
        }

        /// How HELP and the README name who may run it.
        public var note: String {
            switch self {
            case .open: "no AUTH needed"
            case .signedIn: "any role"
            case .west: "west, admin"
            case .east: "east, admin"
            case .admin: "admin"
            }
        }
    }

    /// Upper-case, e.g. "PING" or "NEED ADD".
    public var name: String
    public var usage: String
    public var summary: String
    public var access: Access
    public var requiresAuth: Bool { access != .open }
    /// Only reads: LIST, SHOW and EXPORT commands, STATS, UNMET, FILL, REPORT, PAIRING FLOW and
    /// AUDIT. Their reads may be answered by a standby (`serve --read-database-url`).
    public var readOnly: Bool {
        ["LIST", "SHOW", "EXPORT"].contains(name.split(separator: " ").last ?? "")
            || ["STATS", "UNMET", "FILL", "REPORT", "PAIRING FLOW", "AUDIT"].contains(name)
    }
    /// The request line is followed by a data block (see LineFramer).
    public var takesDataBlock: Bool
    public var run: Run

    public init(
        _ name: String, usage: String, summary: String, access: Access = .signedIn, takesDataBlock: Bool = false,
        run: @escaping Run
    ) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.access = access
        self.takesDataBlock = takesDataBlock
        self.run = run
    }
}

/// What a command may use besides its request and session.
public struct CommandContext: Sendable {
    public var store: any Store
    /// The session's open batch: every unit of the command runs inside its transaction.
    public var batch: (any LongUnit)?
    /// Who sent the command (nil before AUTH); each unit checks that its token is still valid.
    public var principal: Principal?
    public var settings: ServerSettings
    public var registry: CommandRegistry
    /// The command being run, for its usage line in error replies.
    public var spec: CommandSpec
    /// The data block after the command line, for commands that take one.
    public var dataBlock: (any DataBlockSource)?
    public var logger: Logger
    /// Failed AUTHs per client address, shared by every connection.
    var authFailures: AuthFailures
    var metrics: CommandMetrics
    /// The matching runs working on this instance, shared by every connection.
    var runsInProgress: RunsInProgress

    /// Today's date in China, which placement and follow-up dates may not pass.
    var today: Day { Day.today(secondsSince1970: Int(Date().timeIntervalSince1970)) }

    /// The batch's unit inside a batch, else the store's own units.
    private var units: any UnitRunner { batch ?? store }

    /// A read: one connection, the token checked first. A read-only command outside a batch
    /// reads where the store sends such reads (a standby, when there is one).
    public func read<T: Sendable>(_ body: @escaping @Sendable (Gateways) throws -> T) async throws -> T {
        if batch == nil && spec.readOnly { return try await store.readOnlyCommand(token: principal?.tokenID, body) }
        return try await units.read(token: principal?.tokenID, body)
    }

    /// One county, as `read` would read it; outside a batch the store may know it without reading.
    public func county(code: String) async throws -> County? {
        if let batch { return try await batch.read(token: principal?.tokenID) { try $0.registry.county(code: code) } }
        return try await store.county(code: code, token: principal?.tokenID)
    }

    /// A write: one transaction holding the body's changes and their audit entry (target and
    /// changes as given; the body may complete them).
    public func write<T: Sendable>(
        target: String, changes: [(String, String)], _ body: @escaping @Sendable (Gateways, inout AuditEntry) throws -> T
    ) async throws -> T {
        guard let principal else { throw ProtocolError(.unauthenticated, "AUTH <token> first") }
        return try await units.write(
            audit: AuditEntry(actor: principal, command: spec.name, target: target, changes: changes), body)
    }

    /// A unit held across awaits (an import, a run). Inside a batch it is the batch's, and what
    /// `body` does is stored or dropped with the batch.
    public func withLongUnit<T: Sendable>(
        _ isolation: Isolation = .readCommitted, commit: Bool = true, _ body: (any LongUnit) async throws -> T
    ) async throws -> T {
        if let batch { return try await body(batch) }
        return try await store.withLongUnit(isolation, commit: commit, body)
    }

    /// Refuses extra or missing positional words and unknown options, naming them and the usage.
    public func validate(_ request: Request, words allowed: ClosedRange<Int>, options known: Set<String> = []) throws(ProtocolError) {
        if request.words.count < allowed.lowerBound {
            throw ProtocolError(.badArg, "missing argument; usage: \(spec.usage)")
        }
        if request.words.count > allowed.upperBound {
            throw ProtocolError(.badArg, "unexpected argument '\(request.words[allowed.upperBound])'; usage: \(spec.usage)")
        }
        if let unknown = request.options.first(where: { !known.contains($0.key) }) {
            throw ProtocolError(.badArg, "unknown option '\(unknown.key)'; usage: \(spec.usage)")
        }
    }
}
