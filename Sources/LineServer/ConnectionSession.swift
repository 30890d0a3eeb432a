import CommandProtocol
import Logging
import NIOCore
import Synchronization

/// One connection's read–answer loop. Lines are answered strictly in order, one reply each.
struct ConnectionSession<Responder: LineResponder> {
    typealias Inbound = NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator
    typealias Outbound = NIOAsyncChannelOutboundWriter<ByteBuffer>

    let channel: any Channel
    let inbound: InboundReader
    let outbound: Outbound
    let responder: Responder
    let limits: LineLimits
    let logger: Logger
    let shutdownFlag: SharedFlag
    private var session: Responder.Session
    /// When a request was last read or answered: an idle notice raised while a long command ran
    /// is stale once its reply has gone out, and the client gets the full time from there.
    private var lastActivity = ContinuousClock.now
    private var readFirstLine = false

    init(
        channel: any Channel, inbound: Inbound, outbound: Outbound, responder: Responder, limits: LineLimits,
        logger: Logger, shutdownFlag: SharedFlag
    ) {
        self.shutdownFlag = shutdownFlag
        self.channel = channel
        self.inbound = InboundReader(inbound)
        self.outbound = outbound
        self.responder = responder
        self.limits = limits
        self.logger = logger
        self.session = responder.makeSession()
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
        while let event = try await inbound.next() {
            switch event {
            case .frame(.line(var line, let announcesDataBlock)):
                if !readFirstLine {
                    readFirstLine = true
                    line = FirstLine.withoutByteOrderMark(line)
                    if let refusal = FirstLine.refusal(for: line) {
                        try await send(refusal)
                        try await closeAfterReply()
                        return
                    }
                }
                let block = announcesDataBlock ? FramedDataBlock(inbound) : nil
                let reply = await responder.respond(line: line, session: &session, dataBlock: block)
                // The block belongs to its command even when the command was refused or stopped early.
                if let block { try await block.skipRest() }
                if let reply { try await send(reply) }
                if responder.shouldClose(session) {
                    try await closeAfterReply()
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
                try await closeAfterReply()
                return
            }
            lastActivity = .now
        }
        if shutdownFlag.isSet {
            try await send(.error(.shuttingDown, "the server is shutting down; reconnect later"))
        }
        outbound.finish()
    }

    /// Answers a connection over the limit and closes it without resetting it.
    mutating func refuse(_ reply: Reply) async throws {
        try await send(reply)
        try await closeAfterReply()
    }

    /// Half-closes our side, then reads what the peer still sends (for at most two seconds):
    /// closing with unread input would make the kernel send a reset, which can destroy the reply
    /// before the peer reads it.
    private mutating func closeAfterReply() async throws {
        outbound.finish()
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        while try await inbound.next() != nil {}
    }

    private func send(_ reply: Reply) async throws {
        try await outbound.write(ByteBuffer(string: reply.rendered()))
    }
}

/// Whole seconds as an integer, shorter times (tests) as a decimal.
func seconds(_ duration: Duration) -> String {
    let (whole, fraction) = duration.components
    return fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
}

/// The connection's inbound stream, frame by frame, shared by the loop and the data block of the
/// command it runs. Only the connection's own task uses it.
final class InboundReader: @unchecked Sendable {
    private var iterator: NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator
    /// The rest of the frames of the last read, handed out one by one.
    private var frames: [LineFramer.Frame] = []
    private var frameIndex = 0

    init(_ iterator: NIOAsyncChannelInboundStream<ConnectionEvent>.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> ConnectionInput? {
        while true {
            if frameIndex < frames.count {
                defer { frameIndex += 1 }
                return .frame(frames[frameIndex])
            }
            guard let event = try await iterator.next() else { return nil }
            switch event {
            case .frames(let read):
                frames = read
                frameIndex = 0
            case .notice(let notice):
                return .notice(notice)
            }
        }
    }
}

/// What the connection's loop reads: one frame at a time, or a notice.
enum ConnectionInput {
    case frame(LineFramer.Frame)
    case notice(ConnectionNotice)
}

/// The lines of one data block, up to its closing `.`.
final class FramedDataBlock: DataBlockSource, @unchecked Sendable {
    private let inbound: InboundReader
    private var finished = false

    init(_ inbound: InboundReader) {
        self.inbound = inbound
    }

    func nextLine() async throws -> DataBlockLine? {
        guard !finished else { return nil }
        while let event = try await inbound.next() {
            switch event {
            case .frame(.dataLine(let bytes)): return .line(bytes)
            case .frame(.dataLineTooLong(let length)): return .tooLong(length: length)
            case .frame(.dataEnd):
                finished = true
                return nil
            case .frame(.line), .frame(.lineTooLong), .notice(.idle):
                // The framer is in data mode until the block ends, and a client uploading is not idle.
                continue
            }
        }
        finished = true
        throw DataBlockTruncated()
    }

    func skipRest() async throws {
        while try await nextLine() != nil {}
    }
}

struct DataBlockTruncated: Error, CustomStringConvertible {
    var description: String { "the connection ended inside a data block" }
}

/// Set from the graceful-shutdown handler, read by the connection loop.
final class SharedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
