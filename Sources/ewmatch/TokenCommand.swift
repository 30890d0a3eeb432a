import ArgumentParser
import CommandProtocol
import MatchCore
import PostgresStore
import Logging

extension Role: ExpressibleByArgument {}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage access tokens from the shell (the bootstrap for the first admin).",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret once; only a hash of it is stored.")

        @Option(help: "admin, west or east.") var role: Role
        @Option(help: "west: county:<code> or province:<province>; east: org:<id>, province:<province> or city:<name>.")
        var scope: String = ""
        @Option(help: "A note saying whose token this is.") var label: String = ""
        @Option(name: .customLong("expires-days"), help: "Days until the token expires (default: never).")
        var expiresInDays: Int?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if role == .admin && !scope.isEmpty { throw ValidationError("--scope does not apply to admin tokens") }
            if role != .admin && scope.isEmpty { throw ValidationError("--scope is required for \(role.rawValue) tokens") }
            if let days = expiresInDays, days < 1 { throw ValidationError("--expires-days must be at least 1") }
        }

        func run() async throws {
            let logger = database.makeLogger()
            let secret = TokenSecret.generate()
            let (role, scope, label, days) = (role, scope, label, expiresInDays)
            let principal = try await withDatabase(database, logger: logger) { pool in
                do {
                    return try await PGStore(pool: pool).bootstrap { db in
                        try TokenScopes.createFromShell(
                            secret: secret, role: role, scope: scope, label: label, expiresInDays: days,
                            command: "ewmatch token create", in: db)
                    }
                } catch let error as ProtocolError {
                    throw ValidationError(error.message)
                }
            }
            print(secret)
            logger.info("token created", metadata: ["id": "\(principal.tokenID)", "role": "\(principal.role.rawValue)"])
        }
    }
}
