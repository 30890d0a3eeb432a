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
    private let connectionIDs = Atomic<Int>(0)
    private let connections: OpenConnections

    public init(
        configuration: Configuration, responder: Responder, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
        onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.onRunning = onRunning
        connections = OpenConnections(meter: Meter(label: "ewmatch_connections_open", factory: metrics))
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
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(FirstByteSniffer(expectsTLS: tls != nil, logger: logger))
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.context)) }
                    // Replies count as activity too, so a client gets the full idle time after a long command.
                    try pipeline.addHandler(IdleStateHandler(allTimeout: TimeAmount(limits.idleTimeout)))
                    try pipeline.addHandler(
                        FrameHandler(
                            framer: LineFramer(maximumLineLength: limits.maximumLineLength, dataBlockCommands: limits.dataBlockCommands),
                            limits: limits))
                    try pipeline.addHandler(
                        ConnectionHandler(
                            id: self.connectionIDs.add(1, ordering: .relaxed).newValue, channel: channel, responder: self.responder,
                            connections: self.connections, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        guard let address = server.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        logger.info("listening", metadata: ["address": "\(address)", "tls": "\(tls != nil)"])
        await onRunning(address)

        try await withTaskCancellationOrGracefulShutdownHandler {
            try await server.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            self.logger.info("shutting down: no new connections; finishing commands in flight")
            server.close(promise: nil)
        }
        // Listening has stopped: shutdown has begun, or the listener failed.
        connections.shutDownAll()
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        await connections.waitUntilClosed(before: deadline)
        let stuck = connections.count
        if stuck > 0 {
            logger.warning(
                "shutdown grace is over: cancelling the commands still running",
                metadata: ["connections": "\(stuck)", "grace-s": "\(configuration.shutdownGrace.components.seconds)"])
            connections.cancelAll()
            await connections.waitUntilClosed(before: nil)
        }
        logger.info("all connections closed")
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
/// the oldest that has not is closed to make room for a new one; at shutdown each is told.
final class OpenConnections: Sendable {
    private struct Entry {
        var id: Int
        var channel: any Channel
        var signedIn: SharedFlag
        var shutDown: @Sendable () -> Void
        var cancel: @Sendable () -> Void
    }

    private struct State {
        var entries: [Entry] = []
        var shuttingDown = false
    }

    private let state = Mutex(State())
    private let meter: Meter

    init(meter: Meter) {
        self.meter = meter
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Counts a new connection in. `open` includes it; `shuttingDown` says it came too late.
    func add(
        _ id: Int, channel: any Channel, signedIn: SharedFlag, shutDown: @escaping @Sendable () -> Void,
        cancel: @escaping @Sendable () -> Void
    ) -> (open: Int, shuttingDown: Bool) {
        meter.increment()
        return state.withLock { state in
            state.entries.append(Entry(id: id, channel: channel, signedIn: signedIn, shutDown: shutDown, cancel: cancel))
            return (state.entries.count, state.shuttingDown)
        }
    }

    func remove(_ id: Int) {
        let removed = state.withLock { state in
            guard let index = state.entries.firstIndex(where: { $0.id == id }) else { return false }
            state.entries.remove(at: index)
            return true
        }
        if removed { meter.decrement() }
    }

    /// The channel of the oldest connection that has not signed in, other than `id`'s. It stays
    /// counted until it has closed.
    func oldestNotSignedIn(excluding id: Int) -> (any Channel)? {
        state.withLock { state in
            state.entries.first(where: { $0.id != id && !$0.signedIn.isSet })?.channel
        }
    }

    func shutDownAll() {
        let entries = state.withLock { state in
            state.shuttingDown = true
            return state.entries
        }
        for entry in entries { entry.shutDown() }
    }

    func cancelAll() {
        for entry in state.withLock({ $0.entries }) { entry.cancel() }
    }

    /// Waits until every connection has closed, or the deadline has passed.
    func waitUntilClosed(before deadline: ContinuousClock.Instant?) async {
        while count > 0 {
            if let deadline, ContinuousClock.now >= deadline { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
