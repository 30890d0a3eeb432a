import ArgumentParser
import PostgresStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the schema migrations that the database lacks (serve does this at start too).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = database.makeLogger()
        let applied = try await withDatabase(database, logger: logger) { pool in
            try await Migrator(pool: pool, logger: logger).migrate()
        }
        let latest = Migrator.all.last.map { "\($0.version)" } ?? "none"
        print(applied.isEmpty ? "schema up to date (version \(latest))" : "applied \(applied.map(String.init).joined(separator: ", ")); schema at version \(latest)")
    }
}
