import CommandProtocol
import Logging
import NIOCore
import Synchronization

/// One connection's read–answer loop. Lines are answered strictly in order, one reply each.
struct ConnectionSession<Responder: LineResponder> {
    let connection: Connection
    let responder: Responder
    let limits: LineLimits
    let logger: Logger
    let shutdownFlag: SharedFlag
    /// Whether the session has signed in, as the server sees it when it must make room.
    let signedIn: SharedFlag
    private var session: Responder.Session
    /// When a request was last read or answered: an idle notice raised while a long command ran
    /// is stale once its reply has gone out, and the client gets the full time from there.
    private var lastActivity = ContinuousClock.now
    private var readFirstLine = false

    init(
        connection: Connection, responder: Responder, limits: LineLimits, logger: Logger, shutdownFlag: SharedFlag,
        signedIn: SharedFlag
    ) {
        self.connection = connection
        self.signedIn = signedIn
        self.responder = responder
        self.limits = limits
        self.logger = logger
        self.shutdownFlag = shutdownFlag
        self.session = responder.makeSession(peer: connection.channel.remoteAddress?.ipAddress ?? "")
    }

    /// Runs the loop, then gives the responder the chance to release what the session held.
    mutating func run() async throws {
        do {
            try await loop()
        } catch {
            await responder.endSession(session)
            throw error
        }
        await responder.endSession(session)
    }

    private mutating func loop() async throws {
        try await send(responder.greeting)
        while let input = try await connection.next() {
            switch input {
            case .frame(.line(let bytes, let announcesDataBlock)):
                guard try await answer(bytes, announcesDataBlock: announcesDataBlock) else {
                    try await connection.closeAfterReply()
                    return
                }
            case .frame(.lineTooLong(let length)):
                try await send(
                    .error(.lineTooLong, "a line of \(length) bytes exceeds the limit of \(limits.maximumLineLength); it was discarded"))
            case .frame(.dataLine), .frame(.dataLineTooLong), .frame(.dataEnd):
                // The block of an announcing line that was itself too long: its command was never
                // read, so its data is dropped with it.
                continue
            case .notice(.idle):
                // The 10 % slack absorbs the gap between our reply and the write the idle clock saw.
                guard ContinuousClock.now - lastActivity >= limits.idleTimeout * 0.9 else { continue }
                try await send(.error(.idleTimeout, "no request for \(seconds(limits.idleTimeout)) s; closing"))
                try await connection.closeAfterReply()
                return
            case .notice(.authenticationDue):
                guard !responder.isAuthenticated(session) else { continue }
                try await send(Deadlines.notAuthenticatedInTime(limits).reply)
                try await connection.closeAfterReply()
                return
            case .notice(.tooSlow(let input)):
                try await send(Deadlines.tooSlow(input, limits).reply)
                try await connection.closeAfterReply()
                return
            }
            lastActivity = .now
        }
        if shutdownFlag.isSet {
            try await send(.error(.shuttingDown, "the server is shutting down; reconnect later"))
        }
        try await connection.finish()
    }

    /// Answers one request line (and reads its data block); false when the connection is to close.
    private mutating func answer(_ bytes: [UInt8], announcesDataBlock: Bool) async throws -> Bool {
        var line = bytes
        if !readFirstLine {
            readFirstLine = true
            line = FirstLine.withoutByteOrderMark(line)
            if let refusal = FirstLine.refusal(for: line) {
                try await send(refusal)
                return false
            }
        }
        defer { signedIn.store(responder.isAuthenticated(session)) }
        guard announcesDataBlock else {
            if let reply = await responder.respond(line: line, session: &session, dataBlock: nil) {
                try await send(reply)
            }
            return !responder.shouldClose(session)
        }
        let block = FramedDataBlock(
            connection, limits: limits, closesAtAuthenticationDeadline: !responder.isAuthenticated(session),
            shutdownFlag: shutdownFlag)
        var reply = await responder.respond(line: line, session: &session, dataBlock: block)
        // The block belongs to its command even when the command was refused or stopped early.
        if let cut = try await block.drain() { reply = cut.reply }
        if let reply { try await send(reply) }
        switch block.failure {
        case nil, .shuttingDown:
            return !responder.shouldClose(session)
        case .inputEnded:
            logger.info(
                "the input ended inside a data block; nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return !responder.shouldClose(session)
        case .tooSlow:
            logger.info(
                "a data block arrived too slowly; refused, nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return false
        case .notAuthenticatedInTime:
            logger.info(
                "no AUTH in time, inside a data block; closing, nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return false
        }
    }

    /// Answers a connection over the limit and closes it without resetting it.
    /// Every reply, the transport's own included, is written in the format the session chose.
    private func send(_ reply: Reply) async throws {
        try await connection.send(reply, as: responder.format(session))
    }

    func refuse(_ reply: Reply) async throws {
        try await send(reply)
        try await connection.closeAfterReply()
    }

    private static func command(_ line: [UInt8]) -> String {
        guard let (verb, subverb) = CommandParser.leadingWords(line) else { return "" }
        return subverb.map { "\(verb) \($0)" } ?? verb
    }
}

/// The refusals for input that did not arrive in time, as replies of the transport's own or as the
/// data block's error, which the command meets.
enum Deadlines {
    static func notAuthenticatedInTime(_ limits: LineLimits) -> ProtocolError {
        ProtocolError(.tooSlow, "no AUTH within \(seconds(limits.authenticationTimeout ?? .zero)) s of connecting; closing")
    }

    static func tooSlow(_ input: SlowInput, _ limits: LineLimits) -> ProtocolError {
        switch input {
        case .line:
            ProtocolError(.tooSlow, "a request line must end within \(seconds(limits.idleTimeout)) s of its first byte; closing")
        case .dataBlock:
            ProtocolError(
                .tooSlow,
                "a data block must end within \(seconds(limits.dataBlockTimeout)) s of its command line plus 1 s per \(limits.dataBlockMinimumBytesPerSecond) bytes received; nothing was stored; closing"
            )
        }
    }
}

/// Whole seconds as an integer, shorter times (tests) as a decimal.
func seconds(_ duration: Duration) -> String {
    let (whole, fraction) = duration.components
    return fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
}

/// The connection's input, frame by frame, shared by the loop and the data block of the command it
/// runs, and its output, with the replies to the lines of one read gathered into one write.
/// Only the connection's own task uses it.
final class Connection: @unchecked Sendable {
    /// Replies held back beyond this are written at once, so a connection's memory stays bounded;
    /// a write this large costs as little per byte as a larger one would.
    static let gatherLimit = 64 * 1024

    let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// The rest of the frames of the last read, handed out one by one.
    private var frames: [LineFramer.Frame] = []
    private var frameIndex = 0
    private var gathered = ByteBuffer()

    init(
        channel: any Channel, inbound: NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
    }

    /// The next frame or notice. The replies gathered so far go out before it waits for the socket:
    /// they are then the answers to every line the server had, and none waits for input that may
    /// never come.
    func next() async throws -> ConnectionInput? {
        while true {
            if frameIndex < frames.count {
                defer { frameIndex += 1 }
                return .frame(frames[frameIndex])
            }
            try await flush()
            guard let event = try await inbound.next() else { return nil }
            switch event {
            case .frames(let read):
                frames = read
                frameIndex = 0
            case .notice(let notice):
                return .notice(notice)
            }
        }
    }

    /// Queues a reply behind the ones before it, written in the session's format.
    func send(_ reply: Reply, as format: OutputFormat) async throws {
        gathered.writeString(reply.rendered(as: format))
        if gathered.readableBytes >= Self.gatherLimit { try await flush() }
    }

    private func flush() async throws {
        guard gathered.readableBytes > 0 else { return }
        let replies = gathered
        // The bytes in flight keep their storage; the next replies get their own.
        gathered.clear()
        guard !Task.isCancelled else {
            // The shutdown grace is over and this connection's task was cancelled: the async
            // writer refuses cancelled writers, but the client still gets its last answers.
            try await channel.writeAndFlush(replies).get()
            return
        }
        try await outbound.write(replies)
    }

    /// Sends what is queued and half-closes our side.
    func finish() async throws {
        try await flush()
        outbound.finish()
    }

    /// Half-closes our side, then reads what the peer still sends (for at most two seconds):
    /// closing with unread input would make the kernel send a reset, which can destroy the reply
    /// before the peer reads it.
    func closeAfterReply() async throws {
        try await finish()
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        while try await next() != nil {}
    }
}

/// What the connection's loop reads: one frame at a time, or a notice.
enum ConnectionInput {
    case frame(LineFramer.Frame)
    case notice(ConnectionNotice)
}

/// The lines of one data block, up to its closing `.`.
final class FramedDataBlock: DataBlockSource, @unchecked Sendable {
    /// Why the block ended before its closing `.`.
    enum Failure {
        case tooSlow
        /// The session had not signed in when its authentication deadline passed.
        case notAuthenticatedInTime
        case inputEnded
        case shuttingDown
    }

    private let connection: Connection
    private let limits: LineLimits
    /// Nobody signs in inside a block, so a session anonymous at its start stays so to its end.
    private let closesAtAuthenticationDeadline: Bool
    private let shutdownFlag: SharedFlag
    private(set) var failure: Failure?
    private(set) var linesRead = 0
    private var finished = false

    init(_ connection: Connection, limits: LineLimits, closesAtAuthenticationDeadline: Bool, shutdownFlag: SharedFlag) {
        self.connection = connection
        self.limits = limits
        self.closesAtAuthenticationDeadline = closesAtAuthenticationDeadline
        self.shutdownFlag = shutdownFlag
    }

    func nextLine() async throws -> DataBlockLine? {
        if let failure { throw error(for: failure) }
        guard !finished else { return nil }
        while let input = try await connection.next() {
            switch input {
            case .frame(.dataLine(let bytes)):
                linesRead += 1
                return .line(bytes)
            case .frame(.dataLineTooLong(let length)):
                linesRead += 1
                return .tooLong(length: length)
            case .frame(.dataEnd):
                finished = true
                return nil
            case .frame(.line), .frame(.lineTooLong):
                // The framer is in data mode until the block ends.
                continue
            case .notice(.idle), .notice(.tooSlow(.line)):
                // An upload is not idle, and has no request line; the block's deadline bounds it.
                continue
            case .notice(.authenticationDue):
                if closesAtAuthenticationDeadline { throw fail(.notAuthenticatedInTime) }
            case .notice(.tooSlow(.dataBlock)):
                throw fail(.tooSlow)
            }
        }
        throw fail(shutdownFlag.isSet ? .shuttingDown : .inputEnded)
    }

    /// Reads what the command left of the block. Returns the error that cut the block short when
    /// the command did not meet it itself: the line's reply must then say so.
    func drain() async throws -> ProtocolError? {
        let commandMetFailure = failure != nil
        do {
            while try await nextLine() != nil {}
            return nil
        } catch let error as ProtocolError {
            return commandMetFailure ? nil : error
        }
    }

    private func fail(_ failure: Failure) -> ProtocolError {
        self.failure = failure
        return error(for: failure)
    }

    private func error(for failure: Failure) -> ProtocolError {
        switch failure {
        case .tooSlow:
            return Deadlines.tooSlow(.dataBlock, limits)
        case .notAuthenticatedInTime:
            return Deadlines.notAuthenticatedInTime(limits)
        case .inputEnded:
            return ProtocolError(.badSyntax, "the input ended inside the data block, before its closing '.'; nothing was stored")
        case .shuttingDown:
            return ProtocolError(.shuttingDown, "the server is shutting down; the data block was cut short and nothing of it was stored")
        }
    }
}

/// Set from one task, read by another: shutdown begun (graceful-shutdown handler → connection
/// loop), signed in (connection loop → the server making room at the connection limit).
final class SharedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
    func store(_ newValue: Bool) { value.store(newValue, ordering: .relaxed) }
}
