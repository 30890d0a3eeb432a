import CommandProtocol

/// One command of the protocol: its help text, whether it needs AUTH, and what it does.
public struct CommandSpec: Sendable {
    public typealias Run = @Sendable (Request, inout Session, CommandContext) async throws -> Reply

    /// Upper-case, e.g. "PING" or "NEED ADD".
    public var name: String
    public var usage: String
    public var summary: String
    public var requiresAuth: Bool
    /// The request line is followed by a data block (see LineFramer).
    public var takesDataBlock: Bool
    /// The command's write checks the token in its own transaction, so the handler does not
    /// spend a round trip re-checking it first (NEED ADD, the hot path of submissions).
    public var checksTokenInItsWrite: Bool
    public var run: Run

    public init(
        _ name: String, usage: String, summary: String, requiresAuth: Bool = true, takesDataBlock: Bool = false,
        checksTokenInItsWrite: Bool = false, run: @escaping Run
    ) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.requiresAuth = requiresAuth
        self.takesDataBlock = takesDataBlock
        self.checksTokenInItsWrite = checksTokenInItsWrite
        self.run = run
    }
}

/// What a command may use besides its request and session.
public struct CommandContext: Sendable {
    public var repository: any Repository
    public var settings: ServerSettings
    public var registry: CommandRegistry
    /// The command being run, for its usage line in error replies.
    public var spec: CommandSpec
    /// The data block after the command line, for commands that take one.
    public var dataBlock: (any DataBlockSource)?

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
