import CommandProtocol
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The TCP side of ewmatch: accepts connections, frames their input, answers each line in order
/// through its responder, enforces the responder's limits, and shuts down gracefully (stop
/// accepting, finish the command in flight on each connection, tell idle clients, close). A
/// command still running `shutdownGrace` after shutdown began is cancelled, so shutdown ends in
/// bounded time even with a stuck command.
public final class LineServer<Responder: LineResponder>: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var shutdownGrace: Duration
        /// The certificates of a TLS port; nil for plain text.
        public var tls: TLSCertificates?

        public init(host: String = "127.0.0.1", port: Int = 7411, shutdownGrace: Duration = .seconds(10), tls: TLSCertificates? = nil) {
            self.host = host
            self.port = port
            self.shutdownGrace = shutdownGrace
            self.tls = tls
        }
    }

    private let configuration: Configuration
    private let responder: Responder
    private let logger: Logger
    private let onRunning: @Sendable (SocketAddress) async -> Void
    private let openConnections = Atomic<Int>(0)
    private let connectionIDs = Atomic<Int>(0)
    private let notSignedIn = WaitingRoom()
    private let openConnectionsMeter: Meter

    public init(
        configuration: Configuration, responder: Responder, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
        onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.onRunning = onRunning
        openConnectionsMeter = Meter(label: "ewmatch_connections_open", factory: metrics)
    }

    public func run() async throws {
        let limits = responder.limits
        let logger = self.logger
        let tls = configuration.tls
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorHandler(logger: logger))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstByteSniffer(expectsTLS: tls != nil, logger: logger))
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context)) }
                    // Replies count as activity too, so a client gets the full idle time after a long command.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: TimeAmount(limits.idleTimeout)))
                    try channel.pipeline.syncOperations.addHandler(
                        FrameHandler(
                            framer: LineFramer(maximumLineLength: limits.maximumLineLength, dataBlockCommands: limits.dataBlockCommands),
                            limits: limits))
                    return try NIOAsyncChannel<ConnectionEvent, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                }
            }
        guard let address = server.channel.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        logger.info("listening", metadata: ["address": "\(address)", "tls": "\(tls != nil)"])
        await onRunning(address)

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                            await self.serve(connection, limits: limits)
                        }
                    }
                }
                // Listening has stopped: shutdown has begun, or the listener failed.
                let deadline = ContinuousClock.now + configuration.shutdownGrace
                while openConnections.load(ordering: .relaxed) > 0 && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(50))
                }
                let stuck = openConnections.load(ordering: .relaxed)
                if stuck > 0 {
                    logger.warning(
                        "shutdown grace is over: cancelling the commands still running",
                        metadata: ["connections": "\(stuck)", "grace-s": "\(configuration.shutdownGrace.components.seconds)"])
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections; finishing commands in flight")
            server.channel.close(promise: nil)
        }
        logger.info("all connections closed")
    }

    private func serve(_ connection: NIOAsyncChannel<ConnectionEvent, ByteBuffer>, limits: LineLimits) async {
        let id = connectionIDs.add(1, ordering: .relaxed).newValue
        var logger = self.logger
        logger[metadataKey: "conn"] = "\(id)"
        if let remote = connection.channel.remoteAddress { logger[metadataKey: "peer"] = "\(remote)" }
        let open = openConnections.add(1, ordering: .relaxed).newValue
        openConnectionsMeter.increment()
        defer {
            openConnections.subtract(1, ordering: .relaxed)
            openConnectionsMeter.decrement()
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let shutdownFlag = SharedFlag()
                let signedIn = SharedFlag()
                notSignedIn.add(id, channel: connection.channel, signedIn: signedIn)
                defer { notSignedIn.remove(id) }
                var session = ConnectionSession(
                    connection: Connection(channel: connection.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound),
                    responder: responder, limits: limits, logger: logger, shutdownFlag: shutdownFlag, signedIn: signedIn)
                if open > limits.maximumConnections {
                    // Connections that never sign in must not keep out those that will: the oldest
                    // of them gives way. Only when every connection has signed in is the new one refused.
                    if let victim = notSignedIn.oldest(excluding: id) {
                        logger.notice("connection limit reached; closing the oldest connection that has not signed in")
                        let reply = Reply.error(.busy, "closed to make room: the server is full and this connection has not signed in")
                        victim.writeAndFlush(ByteBuffer(string: reply.rendered(as: .text))).whenComplete { _ in victim.close(promise: nil) }
                    } else {
                        logger.notice("connection limit reached; refusing")
                        try await session.refuse(.error(.busy, "too many connections (limit \(limits.maximumConnections)); try again later"))
                        return
                    }
                }
                logger.debug("connected")
                try await withGracefulShutdownHandler {
                    try await session.run()
                } onGracefulShutdown: {
                    // Wakes a connection waiting for input; one busy with a command finishes it first.
                    shutdownFlag.set()
                    connection.channel.close(mode: .input, promise: nil)
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
        logger.debug("disconnected")
    }
}

/// Runs a connection's task on its channel's event loop: a request read there is answered there,
/// and its reply written there, without handing the connection to another thread and back twice
/// per line. What blocks
/// for long leaves it: statements run on the pool's threads, a matching run's arithmetic on
/// Dispatch's.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}

/// Accepting fails at the file-descriptor limit (EMFILE, ENFILE). NIO's `AcceptBackoffHandler`,
/// which the bootstrap puts after this handler, cannot help when the first accept of a wake-up
/// fails: the channel then still counts its read as pending, asks for no new one, and the event
/// loop retries at once, forever. So this handler stops accepting for a second itself, and tells
/// the operator each time: the clients waiting meanwhile get no greeting and no `ERR BUSY`.
final class AcceptErrorHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel

    static let pause = TimeAmount.seconds(1)

    private let logger: Logger
    private var paused = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        defer { context.fireErrorCaught(error) }
        guard error is IOError, !paused, let options = context.channel.syncOptions else { return }
        logger.warning(
            "cannot accept connections; trying again in 1 s (at the file-descriptor limit: raise `ulimit -n` or lower --max-connections)",
            metadata: ["error": "\(error)"])
        // Fails only once the channel is closed, and then nothing is to be accepted anyway.
        try? options.setOption(.autoRead, value: false)
        paused = true
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) { [self] in
            paused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}

@available(*, unavailable)
extension AcceptErrorHandler: Sendable {}

/// The open connections, oldest first, with whether each has signed in: at the connection limit
/// the oldest that has not is closed to make room for a new one.
final class WaitingRoom: Sendable {
    private struct Entry {
        var channel: any Channel
        var signedIn: SharedFlag
    }

    private let entries = Mutex<[(id: Int, entry: Entry)]>([])

    func add(_ id: Int, channel: any Channel, signedIn: SharedFlag) {
        entries.withLock { $0.append((id, Entry(channel: channel, signedIn: signedIn))) }
    }

    func remove(_ id: Int) {
        entries.withLock { entries in entries.removeAll { $0.id == id } }
    }

    /// Takes the oldest connection that has not signed in out of the room.
    func oldest(excluding id: Int) -> (any Channel)? {
        entries.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.id != id && !$0.entry.signedIn.isSet }) else { return nil }
            return entries.remove(at: index).entry.channel
        }
    }
}
