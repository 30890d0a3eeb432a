import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program the end-to-end tests run: output goes to a file the test can read while it runs.
/// posix_spawn + waitpid, not Foundation's `Process`, whose exit detection waits for every
/// descendant holding its internal descriptor — and ewmatch's private postmaster is one.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let outputPath: String
    private var status: Int32?

    /// - Parameter environment: replaces the inherited variables named; a nil value removes one.
    public init(_ executable: String, _ arguments: [String], environment: [String: String?] = [:], stdin: String? = nil) throws {
        outputPath = NSTemporaryDirectory() + "ewmatch-child-\(UInt64.random(in: 0 ... .max)).log"
        var environmentVariables = ProcessInfo.processInfo.environment
        for (key, value) in environment { environmentVariables[key] = value }
        var inputPath = "/dev/null"
        if let stdin {
            inputPath = outputPath + ".in"
            try stdin.write(toFile: inputPath, atomically: true, encoding: .utf8)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environmentVariables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw TestEnvironmentError("cannot run \(executable): \(String(cString: strerror(result)))") }
        pid = child
    }

    deinit {
        if status == nil { kill(pid, SIGKILL); _ = waitpid(pid, nil, 0) }
        unlink(outputPath)
    }

    /// Everything the child has written so far.
    public var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// The exit code once the child has ended (128 + n for a signal), waiting at most `timeout`.
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        if let status { return status }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                status = code
                return code
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestEnvironmentError("\(pid) did not exit within \(timeout); output:\n\(output)")
    }

    /// Waits until the output contains `text`, returning the output.
    @discardableResult
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(120)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = output
            if current.contains(text) { return current }
            var raw: Int32 = 0
            if status == nil, waitpid(pid, &raw, WNOHANG) == pid {
                status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            }
            if status != nil { throw TestEnvironmentError("exited (\(status!)) before printing '\(text)':\n\(output)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestEnvironmentError("no '\(text)' within \(timeout):\n\(output)")
    }

    /// Runs to completion and returns (exit code, output).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String?] = [:], stdin: String? = nil
    ) async throws -> (Int32, String) {
        let child = try ChildProcess(executable, arguments, environment: environment, stdin: stdin)
        let code = try await child.wait()
        return (code, child.output)
    }
}
