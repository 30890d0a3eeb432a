import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster for the zero-configuration default: `initdb` on first use, then
/// `pg_ctl start`/`stop`, listening only on a unix socket in a directory of its own.
///
/// PostgreSQL refuses to run as root, and fresh machines and CI run everything as root: then the
/// cluster runs as the unprivileged system user `ewmatch` (created if missing), through `runuser`
/// since `Process` cannot switch user.
public final class EmbeddedPostgres: Sendable {
    public static let systemUser = "ewmatch"
    public static let databaseName = "ewmatch"
    public static let port = 5432

    public let baseDirectory: URL
    private let logger: Logger
    private let binDirectory: URL
    private let runsAsRoot: Bool
    /// Server settings (`-c name='value'`) added at every start.
    private let settings: [(String, String)]

    public var dataDirectory: URL { baseDirectory.appending(path: "pgdata") }
    public var logFile: URL { baseDirectory.appending(path: "postgres.log") }

    /// A unix socket path holds at most 107 bytes: a deep base directory gets a short socket
    /// directory under /tmp instead, named by a hash of the base so each cluster has its own.
    public var socketDirectory: URL {
        let local = baseDirectory.appending(path: "run")
        if local.path.utf8.count + "/.s.PGSQL.\(Self.port)".utf8.count <= 100 { return local }
        return URL(fileURLWithPath: "/tmp/ewmatch-\(Self.shortHash(baseDirectory.path))")
    }

    /// The libpq conninfo of the running cluster.
    public var conninfo: String {
        "host=\(socketDirectory.path) port=\(Self.port) user=\(Self.systemUser) dbname=\(Self.databaseName)"
    }

    public init(baseDirectory: URL, settings: [(String, String)] = [], logger: Logger) throws {
        self.baseDirectory = baseDirectory.standardizedFileURL
        self.settings = settings
        self.logger = logger
        self.binDirectory = try Self.findBinDirectory()
        self.runsAsRoot = geteuid() == 0
    }

    /// Whether this process started the cluster (and so stops it) or found it run by another
    /// ewmatch on the same directory (a `serve` in progress) and only connects to it.
    public enum Ownership: Sendable { case owned, shared }

    /// Starts the cluster unless another ewmatch process runs it already. The lock on
    /// `ewmatch.lock` is held for the life of this process and released by the kernel even when
    /// the process is killed; a postmaster left behind then is found at the next start.
    public func acquire() throws -> Ownership {
        try FileManager.default.createDirectory(at: baseDirectory, withIntermediateDirectories: true)
        let path = baseDirectory.appending(path: "ewmatch.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw EmbeddedPostgresError("cannot open \(path): \(String(cString: strerror(errno)))") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            guard isRunning else {
                throw EmbeddedPostgresError("\(baseDirectory.path) is locked by another ewmatch that is still starting; try again")
            }
            return .shared
        }
        // Kept open on purpose: closing the descriptor would release the lock.
        _ = ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
        try start()
        return .owned
    }

    /// Prepares (first time: creates) the cluster and starts it. A postmaster left behind by an
    /// ewmatch that was killed is stopped first, so every start begins from a known state.
    public func start() throws {
        let fileManager = FileManager.default
        try prepareDirectories()
        let initialised = fileManager.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path)
        if !initialised {
            logger.info("creating a private PostgreSQL cluster", metadata: ["data": "\(dataDirectory.path)"])
            try runPostgres(
                "initdb",
                ["-D", dataDirectory.path, "-U", Self.systemUser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
        }
        if fileManager.fileExists(atPath: dataDirectory.appending(path: "postmaster.pid").path),
            (try? runPostgres("pg_ctl", ["-D", dataDirectory.path, "status"])) != nil
        {
            logger.notice("found a postmaster left running by an earlier ewmatch; restarting it")
            try runPostgres("pg_ctl", ["-D", dataDirectory.path, "stop", "-m", "fast", "-w", "-t", "60"])
        }
        let options = ([
            "-c listen_addresses=''",
            "-c unix_socket_directories='\(socketDirectory.path)'",
            "-c unix_socket_permissions=0700",
            "-p \(Self.port)",
        ] + settings.map { "-c \($0.0)='\($0.1)'" }).joined(separator: " ")
        try runPostgres(
            "pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-o", options, "-w", "-t", "60", "start"])
        let marker = baseDirectory.appending(path: "database-created")
        if !fileManager.fileExists(atPath: marker.path) {
            try runPostgres(
                "createdb", ["-h", socketDirectory.path, "-p", "\(Self.port)", "-U", Self.systemUser, Self.databaseName])
            try Data().write(to: marker)
        }
        logger.info("private PostgreSQL running", metadata: ["socket": "\(socketDirectory.path)"])
    }

    /// `fast` rolls back open transactions and shuts down cleanly; `immediate` stops at once,
    /// as a crash would, and the next start recovers from the WAL.
    public enum StopMode: String, Sendable { case fast, immediate }

    public func stop(mode: StopMode = .fast) throws {
        try runPostgres("pg_ctl", ["-D", dataDirectory.path, "stop", "-m", mode.rawValue, "-w", "-t", "60"])
        logger.info("private PostgreSQL stopped", metadata: ["mode": "\(mode.rawValue)"])
    }

    /// Makes this cluster a streaming standby of `primary` (which must be running): a base backup
    /// with the recovery settings written (`pg_basebackup -R`). `start()` then runs it as a hot
    /// standby following the primary; `promote()` turns it into a primary.
    public func createStandby(of primary: EmbeddedPostgres) throws {
        try prepareDirectories()
        try runPostgres(
            "pg_basebackup",
            [
                "-D", dataDirectory.path, "-R", "-X", "stream", "-c", "fast", "--no-sync",
                "-h", primary.socketDirectory.path, "-p", "\(Self.port)", "-U", Self.systemUser,
            ])
        // The database came with the backup.
        try Data().write(to: baseDirectory.appending(path: "database-created"))
    }

    /// Ends a standby's recovery: it accepts writes once this returns.
    public func promote() throws {
        try runPostgres("pg_ctl", ["-D", dataDirectory.path, "promote", "-w", "-t", "60"])
        logger.notice("PostgreSQL standby promoted")
    }

    /// The base directory and the socket directory, owned by the cluster's user and private to it.
    private func prepareDirectories() throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: baseDirectory, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        if runsAsRoot {
            try ensureSystemUser()
            try makeReachable(baseDirectory)
            try run("/bin/chown", ["-R", "\(Self.systemUser):", baseDirectory.path, socketDirectory.path])
        }
        try run("/bin/chmod", ["0700", baseDirectory.path, socketDirectory.path])
    }

    public var isRunning: Bool {
        (try? runPostgres("pg_ctl", ["-D", dataDirectory.path, "status"])) != nil
    }

    // MARK: - Processes

    @discardableResult
    private func runPostgres(_ tool: String, _ arguments: [String]) throws -> String {
        let binary = binDirectory.appending(path: tool).path
        if runsAsRoot {
            return try run("/usr/sbin/runuser", ["-u", Self.systemUser, "--", binary] + arguments)
        }
        return try run(binary, arguments)
    }

    /// Runs a tool to completion and returns its output. posix_spawn + waitpid rather than
    /// Foundation's `Process`: `Process` learns of the child's exit through a descriptor that the
    /// postmaster started by `pg_ctl` inherits and keeps open, so `waitUntilExit` never returns.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory
            .appending(path: "ewmatch-\(getpid())-\(UInt64.random(in: 0 ... .max)).out").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Through `sh` only to `cd /` first: the tools, running as another user, may not be allowed
        // into our working directory.
        let shellArguments = ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh", executable] + arguments
        let argv = shellArguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw EmbeddedPostgresError("cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let how = exited ? "exit \(code)" : "signal \(status & 0x7f)"
            throw EmbeddedPostgresError(
                "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) failed (\(how)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return text
    }

    private func ensureSystemUser() throws {
        if getpwnam(Self.systemUser) != nil { return }
        logger.notice("creating system user \(Self.systemUser) to run the private PostgreSQL")
        try run(
            "/usr/sbin/useradd",
            ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", Self.systemUser])
    }

    /// The cluster's user must be able to walk down to the data directory (`/root` is 0700):
    /// grant traverse-only permission (o+x, not read) on each ancestor that lacks it.
    private func makeReachable(_ directory: URL) throws {
        var ancestors: [URL] = []
        var current = directory.deletingLastPathComponent()
        while current.path != "/" && !current.path.isEmpty {
            ancestors.append(current)
            current = current.deletingLastPathComponent()
        }
        for ancestor in ancestors {
            var info = stat()
            guard stat(ancestor.path, &info) == 0 else { continue }
            if info.st_mode & S_IXOTH == 0 {
                logger.notice("granting other users traverse permission (o+x) on \(ancestor.path) so PostgreSQL can reach its data")
                try run("/bin/chmod", ["o+x", ancestor.path])
            }
        }
    }

    /// Where the PostgreSQL server and client programs are (`EWMATCH_PG_BINDIR`, else the newest
    /// under /usr/lib/postgresql, else `PATH`).
    public static func findBinDirectory() throws -> URL {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["EWMATCH_PG_BINDIR"] {
            return URL(fileURLWithPath: explicit)
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { Int($0) }
            .sorted(by: >)
        for version in versions {
            let bin = URL(fileURLWithPath: "\(root)/\(version)/bin")
            if fileManager.isExecutableFile(atPath: bin.appending(path: "initdb").path) { return bin }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let bin = URL(fileURLWithPath: String(directory))
            if fileManager.isExecutableFile(atPath: bin.appending(path: "initdb").path) {
                return bin.resolvingSymlinksInPath()
            }
        }
        throw EmbeddedPostgresError(
            "no PostgreSQL server binaries (initdb, pg_ctl) found; install the postgresql package or set EWMATCH_PG_BINDIR")
    }

    static func shortHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
