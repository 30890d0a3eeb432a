import CommandProtocol
import Logging
import NIOCore

/// What a connection's session reads: one frame at a time, or a notice.
enum ConnectionInput: Sendable {
    case frame(LineFramer.Frame)
    case notice(ConnectionNotice)
}

/// Drives one connection from the channel's pipeline, the last handler in it. Each input is one
/// step of the session; the inputs waiting are answered in order by one task, started with
/// `Task.immediate` on the channel's event loop. Steps that never wait (PING, a county the server
/// remembers) run to their end inside the socket read, with no hop to a task and back; one that
/// waits (a statement, a data block still arriving) suspends the task, and the inputs behind it
/// wait their turn. The replies to one read leave in one write.
final class ConnectionHandler<Responder: LineResponder>: ChannelDuplexHandler {
    typealias InboundIn = ConnectionEvent
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        /// The last reply is queued; what still arrives is dropped until the peer closes too.
        case closing
        /// The channel is gone.
        case closed
    }

    private let id: Int
    private let io: ConnectionIO
    private var session: ConnectionSession<Responder>
    private let limits: LineLimits
    private let shutdownFlag = SharedFlag()
    private let signedIn = SharedFlag()
    private let connections: OpenConnections
    private let executor: EventLoopTaskExecutor
    private let logger: Logger
    private var state = State.open
    private var started = false
    /// The task answering the inputs waiting has started and not yet ended.
    private var stepsRunning = false
    /// That task, while it waits: cancelled when the shutdown grace is over.
    private var steps: Task<Void, Never>?
    private var sessionEnded = false
    private var closeDeadline: Scheduled<Void>?

    init(id: Int, channel: any Channel, responder: Responder, connections: OpenConnections, logger: Logger) {
        var logger = logger
        logger[metadataKey: "conn"] = "\(id)"
        if let remote = channel.remoteAddress { logger[metadataKey: "peer"] = "\(remote)" }
        self.id = id
        self.io = ConnectionIO(eventLoop: channel.eventLoop)
        self.connections = connections
        self.executor = EventLoopTaskExecutor(channel.eventLoop)
        self.logger = logger
        self.limits = responder.limits
        // The flags are the handler's as well as the session's: a suspended step holds the session.
        self.session = ConnectionSession(
            io: io, responder: responder, limits: limits, logger: logger, shutdownFlag: shutdownFlag, signedIn: signedIn,
            peer: channel.remoteAddress?.ipAddress ?? "")
    }

    func handlerAdded(context: ChannelHandlerContext) {
        io.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        io.context = nil
    }

    /// Admits the connection, or makes room for it, or refuses it; then greets it.
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let admission = connections.add(
            id, channel: context.channel, signedIn: signedIn,
            shutDown: { bound.eventLoop.execute { bound.value.beginShutdown() } },
            cancel: { bound.eventLoop.execute { bound.value.cancel() } })
        if admission.open > limits.maximumConnections {
            // Connections that never sign in must not keep out those that will: the oldest
            // of them gives way. Only when every connection has signed in is the new one refused.
            if let victim = connections.oldestNotSignedIn(excluding: id) {
                logger.notice("connection limit reached; closing the oldest connection that has not signed in")
                let reply = Reply.error(.busy, "closed to make room: the server is full and this connection has not signed in")
                victim.writeAndFlush(ByteBuffer(string: reply.rendered(as: .text))).whenComplete { _ in victim.close(promise: nil) }
            } else {
                logger.notice("connection limit reached; refusing")
                session.refuse(.error(.busy, "too many connections (limit \(limits.maximumConnections)); try again later"))
                closeAfterReply(context: context)
                return
            }
        }
        logger.debug("connected")
        session.greet()
        io.flush()
        if admission.shuttingDown { beginShutdown() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .open else { return }
        switch unwrapInboundIn(data) {
        case .frames(let frames):
            for frame in frames { io.append(.frame(frame)) }
        case .notice(let notice):
            io.append(.notice(notice))
        }
        if !io.handToWaitingStep() { runSteps(context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputEnded(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        closeDeadline?.cancel()
        io.endInput()
        if !stepsRunning { endSession() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { runSteps(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        io.read()
    }

    /// Answers the inputs waiting, in order, in one task: steps that never wait all end inside
    /// this call; one that waits suspends the task, and what arrives meanwhile joins the queue
    /// it takes from. The task also pauses while the client is not reading its replies.
    private func runSteps(context: ChannelHandlerContext) {
        guard state == .open, !stepsRunning else { return }
        guard io.hasInput, context.channel.isWritable else {
            stepsEnded(context: context)
            return
        }
        stepsRunning = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let task = Task.immediate(executorPreference: executor) {
            await bound.value.answerWaitingInputs()
        }
        if stepsRunning { steps = task }
    }

    private func answerWaitingInputs() async {
        var next = ConnectionSession<Responder>.Next.goOn
        while next == .goOn, state == .open, io.context?.channel.isWritable == true, let input = io.take() {
            next = await session.handle(input)
        }
        stepsRunning = false
        steps = nil
        guard let context = io.context, state != .closed else {
            endSession()
            return
        }
        switch next {
        case .goOn: stepsEnded(context: context)
        case .close: closeAfterReply(context: context)
        }
    }

    /// No step runs: the replies go out, and once the input has ended, the connection closes.
    private func stepsEnded(context: ChannelHandlerContext) {
        guard state == .open else { return }
        if io.isDrained {
            session.inputEnded()
            finish(context: context)
        } else {
            io.flush()
        }
    }

    private func inputEnded(context: ChannelHandlerContext) {
        io.endInput()
        switch state {
        case .open: runSteps(context: context)
        case .closing: context.close(promise: nil)
        case .closed: break
        }
    }

    /// Tells the connection the server is shutting down: it stops reading, which wakes it if it
    /// waits for input; one busy with a command finishes it first.
    private func beginShutdown() {
        shutdownFlag.set()
        guard let context = io.context else { return }
        let closed = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .input, promise: closed)
        // TLS cannot close its input alone (NIOSSL refuses): the connection reads no more all the same.
        closed.futureResult.assumeIsolated().whenFailure { [self] _ in
            if !io.inputHasEnded { inputEnded(context: context) }
        }
    }

    /// The shutdown grace is over: the command still running is cancelled, and a connection
    /// that runs none is closed.
    private func cancel() {
        if let steps {
            steps.cancel()
        } else {
            io.context?.close(promise: nil)
        }
    }

    /// Sends what is queued, then closes.
    private func finish(context: ChannelHandlerContext) {
        state = .closing
        io.flushed().assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Sends what is queued and half-closes our side, then drops what the peer still sends (for
    /// at most two seconds): closing with unread input would make the kernel send a reset, which
    /// can destroy the reply before the peer reads it.
    private func closeAfterReply(context: ChannelHandlerContext) {
        state = .closing
        io.discardInput()
        if io.inputHasEnded {
            finish(context: context)
            return
        }
        io.flushed().assumeIsolated().whenComplete { _ in context.close(mode: .output, promise: nil) }
        closeDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
    }

    /// Once the channel is gone and no step runs: the responder releases what the session held,
    /// then the server stops counting the connection.
    private func endSession() {
        guard !sessionEnded else { return }
        sessionEnded = true
        let bound = NIOLoopBound(self, eventLoop: executor.eventLoop)
        Task.immediate(executorPreference: executor) {
            let handler = bound.value
            await handler.session.end()
            handler.connections.remove(handler.id)
            handler.logger.debug("disconnected")
        }
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}

/// A connection's input, frame by frame, shared by the handler that receives it and the command
/// that reads a data block from it; and its output, with the replies to the lines of one read
/// gathered into one write. It lives on the channel's event loop, as does everything that uses it.
final class ConnectionIO {
    /// Replies held back beyond this are written at once, so a connection's memory stays bounded;
    /// a write this large costs as little per byte as a larger one would.
    static let gatherLimit = 64 * 1024
    /// With this many inputs waiting for their step, the channel reads no more until they are
    /// taken: a client cannot make the server hold more of its input than this.
    static let inputLimit = 4_096

    var context: ChannelHandlerContext?
    private let eventLoop: any EventLoop
    private var inputs = CircularBuffer<ConnectionInput>()
    private(set) var inputHasEnded = false
    private var discarding = false
    /// A step waiting for the next input (a data block's line).
    private var waiter: CheckedContinuation<ConnectionInput?, Never>?
    private var readHeld = false
    private var gathered = ByteBuffer()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The input has ended, and every input before the end has been taken.
    var isDrained: Bool { inputHasEnded && inputs.isEmpty }

    var hasInput: Bool { !inputs.isEmpty }

    func append(_ input: ConnectionInput) {
        guard !discarding, !inputHasEnded else { return }
        inputs.append(input)
    }

    func take() -> ConnectionInput? {
        guard let input = inputs.popFirst() else { return nil }
        if readHeld && inputs.count < Self.inputLimit / 2 {
            readHeld = false
            context?.read()
        }
        return input
    }

    /// Gives the next input to the step waiting for one; false when no step waits.
    func handToWaitingStep() -> Bool {
        guard let waiter else { return false }
        if let input = take() {
            self.waiter = nil
            waiter.resume(returning: input)
        }
        return true
    }

    func endInput() {
        inputHasEnded = true
        if let waiter, inputs.isEmpty {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// From now on, what arrives is dropped.
    func discardInput() {
        discarding = true
        inputs.removeAll()
        if readHeld {
            readHeld = false
            context?.read()
        }
    }

    /// The channel asks for more input.
    func read() {
        if inputs.count >= Self.inputLimit {
            readHeld = true
        } else {
            context?.read()
        }
    }

    /// The next input, for a step that reads on (a data block); nil once the input has ended. The
    /// replies gathered so far go out before it waits for the socket: they are then the answers
    /// to every line the server had, and none waits for input that may never come.
    func next() async -> ConnectionInput? {
        if let input = take() { return input }
        if inputHasEnded { return nil }
        flush()
        return await withCheckedContinuation { waiter = $0 }
    }

    /// Queues a reply behind the ones before it, written in the session's format.
    func send(_ reply: Reply, as format: OutputFormat) {
        gathered.writeString(reply.rendered(as: format))
        if gathered.readableBytes >= Self.gatherLimit { flush() }
    }

    func flush() {
        guard let context, gathered.readableBytes > 0 else { return }
        let replies = gathered
        // The bytes in flight keep their storage; the next replies get their own.
        gathered.clear()
        context.writeAndFlush(NIOAny(replies), promise: nil)
    }

    /// Writes what is queued; the future completes once it is written. (The replies of every
    /// step go out without one: a future a reply costs more than the reply's own write.)
    func flushed() -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        if let context, gathered.readableBytes > 0 {
            let replies = gathered
            gathered.clear()
            context.writeAndFlush(NIOAny(replies), promise: promise)
        } else {
            // Writes complete in order: this one once those still pending have.
            context?.writeAndFlush(NIOAny(ByteBuffer()), promise: promise) ?? promise.succeed()
        }
        return promise.futureResult
    }
}

@available(*, unavailable)
extension ConnectionIO: Sendable {}

/// Runs a connection's steps on its channel's event loop: a step that waits resumes there, and
/// its reply is written there, without handing the connection to another thread and back. What
/// blocks for long leaves it: statements run on the pool's threads, a matching run's arithmetic
/// on Dispatch's.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
