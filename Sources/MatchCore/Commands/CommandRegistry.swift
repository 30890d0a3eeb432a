import CommandProtocol

/// Finds the command for a request: `VERB SUBVERB` first (e.g. `NEED ADD`), then `VERB`.
public struct CommandRegistry: Sendable {
    /// Every command of protocol v1.
    public static let standard = CommandRegistry(
        SessionCommands.all + BatchCommands.all + RegistryCommands.all + SubmissionCommands.all + ImportCommands.all
            + TokenCommands.all + MatchCommands.all + PlacementCommands.all + ReportCommands.all)

    public let commands: [CommandSpec]
    private let byName: [String: CommandSpec]

    public init(_ commands: [CommandSpec]) {
        self.commands = commands.sorted { $0.name < $1.name }
        self.byName = Dictionary(commands.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The `VERB SUBVERB` names whose request line is followed by a data block.
    public var dataBlockCommands: Set<String> {
        Set(commands.filter(\.takesDataBlock).map(\.name))
    }

    /// The command and the request as it sees it (a subverb is taken off the words).
    public func resolve(_ request: Request) throws(ProtocolError) -> (CommandSpec, Request) {
        if let sub = request.words.first, let spec = byName["\(request.verb) \(asciiUppercased(sub))"] {
            var inner = request
            inner.words.removeFirst()
            return (spec, inner)
        }
        if let spec = byName[request.verb] {
            return (spec, request)
        }
        let subcommands = commands.filter { $0.name.hasPrefix(request.verb + " ") }
            .map { String($0.name.dropFirst(request.verb.count + 1)) }
        if !subcommands.isEmpty {
            let given = request.words.first.map { " \(asciiUppercased($0))" } ?? ""
            throw ProtocolError(
                .unknownCommand, "\(request.verb)\(given): \(request.verb) takes one of \(subcommands.joined(separator: "|"))")
        }
        throw ProtocolError(.unknownCommand, "unknown command '\(request.verb)'; HELP lists them")
    }
}
