import CommandProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// A test client speaking the line protocol over a real TCP connection, non-blocking so that
/// many of them can run beside the server in one process.
public final class LineClient {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []
    private var sawEOF = false

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        self.inbound = channel.inbound.makeAsyncIterator()
    }

    deinit {
        channel.outbound.finish()
    }

    /// With `tls`, the connection speaks TLS and checks the server's certificate for `host`.
    public static func connect(port: Int, host: String = "127.0.0.1", tls: NIOSSLContext? = nil) async throws -> LineClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return LineClient(channel: channel)
    }

    /// Connects and reads the greeting.
    public static func connectReady(
        port: Int, host: String = "127.0.0.1", tls: NIOSSLContext? = nil
    ) async throws -> (LineClient, greeting: String) {
        let client = try await connect(port: port, host: host, tls: tls)
        guard let greeting = try await client.readLine() else { throw LineClientError("closed before the greeting") }
        return (client, greeting)
    }

    /// Connects, reads the greeting and signs in with `token`; a refused AUTH is an error.
    public static func signedIn(port: Int, token: String, host: String = "127.0.0.1", tls: NIOSSLContext? = nil) async throws -> LineClient {
        let (client, _) = try await connectReady(port: port, host: host, tls: tls)
        let reply = try await client.request("AUTH \(token)")
        guard reply.hasPrefix("OK ") else { throw LineClientError("AUTH was refused: \(reply)") }
        return client
    }

    public func send(_ text: String) async throws {
        try await channel.outbound.write(ByteBuffer(string: text))
    }

    public func send(bytes: [UInt8]) async throws {
        try await channel.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends one request line and returns the first line of its reply.
    public func request(_ line: String) async throws -> String {
        try await send(line + "\n")
        guard let reply = try await readLine() else { throw LineClientError("connection closed before a reply to \(line)") }
        return reply
    }

    /// Sends `line` (a one-line command) until its reply satisfies `done`, for at most `bound`,
    /// and returns the last reply. A change made outside the server (by hand, or on another
    /// instance) reaches its memory by `NOTIFY`, which PostgreSQL delivers a moment after the commit.
    public func request(
        _ line: String, until done: (String) -> Bool, within bound: Duration = .seconds(2)
    ) async throws -> String {
        let deadline = ContinuousClock.now + bound
        while true {
            let reply = try await request(line)
            if done(reply) || ContinuousClock.now >= deadline { return reply }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// `line` sent until a reply is not `OK`, as a token revoked elsewhere makes it.
    public func requestUntilRefused(_ line: String, within bound: Duration = .seconds(2)) async throws -> String {
        try await request(line, until: { !$0.hasPrefix("OK ") }, within: bound)
    }

    /// Reads the rest of a multi-line reply after its `OK <n> …` line (after `FORMAT json`, a
    /// header object whose `records` counts them): the n records, read by the protocol's own
    /// `ReplyReader` (dot-stuffing undone).
    public func readRecords(after header: String) async throws -> [String] {
        var reader = ReplyReader()
        var reply = try reader.take(line: header.utf8)
        while reply == nil {
            guard let line = try await readLine() else { throw LineClientError("closed inside a multi-line reply") }
            reply = try reader.take(line: line.utf8)
        }
        switch reply {
        case .records(_, let records)?, .json(_, let records)?: return records
        default: throw LineClientError("not a multi-line reply: \(header)")
        }
    }

    /// The next line without its `\n`, or nil once the server has closed.
    public func readLine() async throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeFirst(newline + 1)
                return line
            }
            if sawEOF { return nil }
            guard var buffer = try await inbound.next() else {
                sawEOF = true
                continue
            }
            pending.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
    }

    /// Reads every line until the server closes.
    public func readAll() async throws -> [String] {
        var lines: [String] = []
        while let line = try await readLine() { lines.append(line) }
        return lines
    }

    /// Sends `bytes` one at a time, `interval` apart, while reading what the server says, until it
    /// closes the connection; returns the lines read. The bytes may run out first: then it reads
    /// on until the server closes.
    public func trickle(_ bytes: [UInt8], every interval: Duration) async throws -> [String] {
        // The bytes go out from the event loop's own timer, not from a task: a loaded machine
        // whose tasks wait for a thread must not stall the trickle into looking idle.
        final class Cursor: @unchecked Sendable {
            /// Touched only on the channel's event loop.
            var index = 0
        }
        let raw = channel.channel
        let cursor = Cursor()
        let sender = raw.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: TimeAmount(interval)) { task in
            guard cursor.index < bytes.count else {
                task.cancel()
                return
            }
            raw.writeAndFlush(ByteBuffer(bytes: [bytes[cursor.index]]), promise: nil)
            cursor.index += 1
        }
        defer { sender.cancel() }
        return try await readAll()
    }

    /// Half-closes our side, as `nc -N` does after its last line.
    public func finishSending() {
        channel.outbound.finish()
    }

    public func close() async {
        try? await channel.channel.close()
    }
}

public struct LineClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
