import ArgumentParser
import CommandProtocol
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a client subcommand (`import`, scripts) finds the server and how it signs in.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server address.") var host: String = "127.0.0.1"
    @Option(help: "Server port.") var port: Int = 7411
    @Option(help: "Access token (default: $EWMATCH_TOKEN).") var token: String?

    /// Connects and signs in; with `.json` the connection says FORMAT json first, so every
    /// reply after the greeting, AUTH's included, is one JSON object per line.
    func connect(format: OutputFormat = .text) throws -> ServerConnection {
        let connection = try ServerConnection(host: host, port: port)
        guard let secret = token ?? ProcessInfo.processInfo.environment["EWMATCH_TOKEN"], !secret.isEmpty else {
            throw ValidationError("give --token or set EWMATCH_TOKEN")
        }
        if format == .json {
            let reply = try connection.request("FORMAT json")
            guard ServerConnection.isOK(reply) else { throw ClientError("the server refused FORMAT json: \(reply)") }
        }
        let reply = try connection.request("AUTH \(secret)")
        guard ServerConnection.isOK(reply) else { throw RefusedToken(reply: reply) }
        return connection
    }
}

/// A blocking line-protocol client for the shell commands: one request at a time, replies read
/// in full (multi-line replies up to their closing `.`).
final class ServerConnection {
    private let socket: Int32
    private var buffer: [UInt8] = []

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw ClientError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        var connected: Int32 = -1
        var address: UnsafeMutablePointer<addrinfo>? = first
        while let candidate = address {
            let fd = Glibc.socket(candidate.pointee.ai_family, candidate.pointee.ai_socktype, candidate.pointee.ai_protocol)
            if fd >= 0 && Glibc.connect(fd, candidate.pointee.ai_addr, candidate.pointee.ai_addrlen) == 0 {
                connected = fd
                break
            }
            if fd >= 0 { close(fd) }
            address = candidate.pointee.ai_next
        }
        guard connected >= 0 else { throw ClientError("cannot connect to \(host):\(port): \(String(cString: strerror(errno))); is ewmatch serve running?") }
        socket = connected
        let line = try readLine()
        guard line.hasPrefix("OK ewmatch") else {
            close(socket)
            throw ClientError("\(host):\(port) is not an ewmatch server: \(line)")
        }
    }

    deinit { close(socket) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            guard written > 0 else { throw ClientError("the server closed the connection") }
            offset += written
        }
    }

    /// Sends one request and returns its reply's first line.
    func request(_ line: String) throws -> String {
        try send(Array((line + "\n").utf8))
        return try readLine()
    }

    /// Reads one reply: its first line, and the records when it is a multi-line `OK <n> …` (in
    /// JSON, a header whose `records` counts the lines that follow, with no closing `.`).
    func readReply() throws -> (String, [String]) {
        let first = try readLine()
        if let header = Self.jsonObject(first) {
            guard let count = (header["records"] as? NSNumber)?.intValue else { return (first, []) }
            return (first, try (0..<count).map { _ in try readLine() })
        }
        let parts = first.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "OK", let count = Int(parts[1]) else { return (first, []) }
        var records: [String] = []
        for _ in 0..<count {
            let line = try readLine()
            records.append(line.hasPrefix("..") ? String(line.dropFirst()) : line)
        }
        guard try readLine() == "." else { throw ClientError("a multi-line reply did not end with '.'") }
        return (first, records)
    }

    /// Whether a reply line, in either format, is an OK.
    static func isOK(_ line: String) -> Bool {
        if let object = jsonObject(line) { return object["ok"] as? Bool == true }
        return line == "OK" || line.hasPrefix("OK ")
    }

    /// A JSON reply line as an object; nil for a text line.
    static func jsonObject(_ line: String) -> [String: Any]? {
        guard line.hasPrefix("{") else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            guard count > 0 else { throw ClientError("the server closed the connection") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}

/// AUTH's refusal, with the reply line as the server wrote it.
struct RefusedToken: Error, CustomStringConvertible {
    var reply: String
    var description: String { "the server refused the token: \(reply)" }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
