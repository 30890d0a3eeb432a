import ArgumentParser
import CommandProtocol
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where a client subcommand (`import`, scripts) finds the server and how it signs in.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server address.") var host: String = "127.0.0.1"
    @Option(help: "Server port.") var port: Int = 7411
    @Option(help: "Access token (default: $EWMATCH_TOKEN).") var token: String?
    @Flag(help: "Speak TLS to the server, checking its certificate and name.") var tls = false
    @Option(name: .customLong("ca"), help: "PEM certificates to trust for --tls instead of the system's.") var caFile: String?

    func validate() throws {
        if caFile != nil && !tls { throw ValidationError("--ca goes with --tls") }
    }

    /// Connects and signs in; with `.json` the connection says FORMAT json first, so every
    /// reply after the greeting, AUTH's included, is one JSON object per line.
    func connect(format: OutputFormat = .text) throws -> ServerConnection {
        let connection = try ServerConnection(host: host, port: port, tls: tls ? tlsContext() : nil)
        guard let secret = token ?? ProcessInfo.processInfo.environment["EWMATCH_TOKEN"], !secret.isEmpty else {
            throw ValidationError("give --token or set EWMATCH_TOKEN")
        }
        if format == .json {
            let reply = try connection.request("FORMAT json")
            guard ServerConnection.isOK(reply) else { throw ClientError("the server refused FORMAT json: \(reply)") }
        }
        let reply = try connection.request("AUTH \(secret)")
        guard ServerConnection.isOK(reply) else { throw RefusedToken(reply: reply) }
        connection.signedIn = reply
        return connection
    }

    private func tlsContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile { configuration.trustRoots = .file(caFile) }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError("cannot use --ca \(caFile ?? ""): \(error)")
        }
    }
}

/// The line-protocol client of the shell commands, on SwiftNIO like the server: the event loop
/// does the socket work while the command's thread waits for whole replies, which the protocol's
/// own `ReplyReader` reads. The commands are scripts, one request after another.
final class ServerConnection {
    private let channel: any Channel
    private let inbox: ReplyInbox
    /// AUTH's reply (`OK token=<id> role=…`), once signed in.
    fileprivate(set) var signedIn: String?

    /// With `tls`, the server's certificate must be valid for `host` (a name, or an address in
    /// the certificate's IP entries).
    init(host: String, port: Int, tls: NIOSSLContext? = nil) throws {
        let inbox = ReplyInbox()
        // SNI takes names only; for an address NIOSSL checks the certificate against the peer's IP.
        let serverName = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        do {
            channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                        try channel.pipeline.syncOperations.addHandler(ReplyCollector(inbox))
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            throw ClientError("cannot connect to \(host):\(port): \(error); is ewmatch serve running?")
        }
        self.inbox = inbox
        let greeting = try readLine()
        guard greeting.hasPrefix("OK ewmatch") else {
            channel.close(promise: nil)
            throw ClientError("\(host):\(port) is not an ewmatch server: \(greeting)")
        }
    }

    deinit { channel.close(promise: nil) }

    /// Waits until the bytes are written, so a long upload goes at the pace the server reads.
    func send(_ bytes: [UInt8]) throws {
        do {
            try channel.writeAndFlush(ByteBuffer(bytes: bytes)).wait()
        } catch {
            throw ClientError("the server closed the connection")
        }
    }

    /// Sends one request and returns its reply's first line.
    func request(_ line: String) throws -> String {
        try send(Array((line + "\n").utf8))
        return try readLine()
    }

    /// Reads one reply: its first line, and its records when it is a multi-line `OK <n> …` (in
    /// JSON, a header whose `records` counts the lines that follow).
    func readReply() throws -> (String, [String]) {
        switch try inbox.next() {
        case .records(let header, let records): return (ReceivedReply.records(header: header, records).firstLine, records)
        case .json(let line, let records): return (line, records)
        case let reply: return (reply.firstLine, [])
        }
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

    /// Reads a reply of one line (the greeting, an import's answer).
    func readLine() throws -> String {
        try readReply().0
    }
}

/// The replies read so far, handed from the event loop to the command's waiting thread. Its state
/// is only touched with `condition` locked.
private final class ReplyInbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var reader = ReplyReader()
    private var replies: [ReceivedReply] = []
    private var end: (any Error)?

    func received(_ bytes: ByteBufferView) {
        condition.withLock {
            reader.append(bytes)
            do {
                while let reply = try reader.next() { replies.append(reply) }
            } catch {
                end = end ?? ClientError("the server's reply could not be read: \(error)")
            }
            condition.broadcast()
        }
    }

    func ended(_ error: any Error) {
        condition.withLock {
            end = end ?? error
            condition.broadcast()
        }
    }

    func next() throws -> ReceivedReply {
        try condition.withLock {
            while replies.isEmpty && end == nil { condition.wait() }
            guard replies.isEmpty, let end else { return replies.removeFirst() }
            throw end
        }
    }
}

private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: ReplyInbox

    init(_ inbox: ReplyInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.received(unwrapInboundIn(data).readableBytesView)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.ended(ClientError("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inbox.ended(ClientError("the connection failed: \(error)"))
        context.close(promise: nil)
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
