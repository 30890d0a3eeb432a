import ArgumentParser
import MatchCore

@main
struct EWMatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ewmatch",
        abstract: "East–west cooperation matching service: pairs western counties' needs with eastern offers.",
        version: ServerSettings.version,
        subcommands: [Serve.self, Migrate.self, TokenCommand.self, Import.self, MatchCommand.self, Solve.self, Report.self],
        defaultSubcommand: nil
    )
}
