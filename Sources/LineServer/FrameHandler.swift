import CommandProtocol
import NIOCore

/// What a connection's handler receives from the framing handler before it.
enum ConnectionEvent: Sendable {
    /// The frames one socket read completed, in order: the replies to them all leave in one
    /// write, once they are answered.
    case frames([LineFramer.Frame])
    case notice(ConnectionNotice)
}

/// Word from the channel's clocks, delivered in order with the frames.
enum ConnectionNotice: Sendable, Equatable {
    /// Neither a read nor a write for the idle timeout (`IdleStateHandler`). It may have been
    /// raised while a long command ran, so the task checks it against its own last activity.
    case idle
    /// A request line begun, or a data block, did not arrive in time; the channel reads no more.
    case tooSlow(SlowInput)
    /// The authentication timeout has passed since the connection opened.
    case authenticationDue
}

enum SlowInput: Sendable, Equatable {
    case line
    case dataBlock
}

/// Feeds socket bytes to the pure `LineFramer`, which owns every framing rule, and passes on
/// every frame a read completes. (A `ByteToMessageDecoder` would stop calling back once the
/// buffer is drained into the framer, stranding the frames still inside it.)
///
/// It also keeps the deadlines of input, which bytes trickling in cannot push back: a request
/// line must end within the line timeout of its first byte, and a data block within its timeout
/// plus a second per `dataBlockMinimumBytesPerSecond` bytes received. Both count only the
/// client's time (see `ClientClock`). The authentication deadline is plain time since connecting.
final class FrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ConnectionEvent
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Deadline {
        /// A request line begun when the client's clock read `start`.
        case line(start: TimeAmount)
        /// A data block begun when the client's clock read `start`, with `bytes` of it received.
        case dataBlock(start: TimeAmount, bytes: Int)
    }

    private var framer: LineFramer
    private let lineTimeout: TimeAmount
    private let dataBlockTimeout: TimeAmount
    private let dataBlockMinimumBytesPerSecond: Int
    private let authenticationTimeout: TimeAmount?
    private var clientClock = ClientClock()
    private var deadline: Deadline?
    private var deadlineCheck: Scheduled<Void>?
    private var authenticationCheck: Scheduled<Void>?
    /// Set once a deadline has passed: the connection is being closed, and what still arrives is dropped.
    private var expired = false

    init(framer: LineFramer, limits: LineLimits) {
        self.framer = framer
        self.lineTimeout = TimeAmount(limits.idleTimeout)
        self.dataBlockTimeout = TimeAmount(limits.dataBlockTimeout)
        self.dataBlockMinimumBytesPerSecond = limits.dataBlockMinimumBytesPerSecond
        self.authenticationTimeout = limits.authenticationTimeout.map(TimeAmount.init)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startAuthenticationClock(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startAuthenticationClock(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelClocks()
    }

    func read(context: ChannelHandlerContext) {
        clientClock.readRequested(at: .now())
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        clientClock.bytesArrived(at: now)
        guard !expired else { return }
        framer.append(unwrapInboundIn(data).readableBytesView)
        var frames: [LineFramer.Frame] = []
        while let frame = framer.next() {
            frames.append(frame)
            track(frame, at: now)
        }
        trackPartialLine(linesEnded: !frames.isEmpty, at: now)
        scheduleDeadlineCheck(context: context, now: now)
        if !frames.isEmpty {
            context.fireChannelRead(wrapInboundOut(.frames(frames)))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case IdleStateHandler.IdleStateEvent.all:
            fire(.idle, context: context)
        case ChannelEvent.inputClosed:
            // A last line without a newline still counts (`printf 'PING' | nc -N`).
            flushLastLine(context: context)
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelClocks()
        flushLastLine(context: context)
        context.fireChannelInactive()
    }

    /// A line that announces a data block starts the block's clock, any other ends its own; the
    /// block's lines extend its time.
    private func track(_ frame: LineFramer.Frame, at now: NIODeadline) {
        switch frame {
        case .line, .lineTooLong:
            deadline = framer.isInDataBlock ? .dataBlock(start: clientClock.reading(at: now), bytes: 0) : nil
        case .dataLine(let bytes):
            received(bytes.count + 1)
        case .dataLineTooLong(let length):
            received(length + 1)
        case .dataEnd:
            deadline = nil
        }
    }

    private func received(_ count: Int) {
        if case .dataBlock(let start, let bytes) = deadline {
            deadline = .dataBlock(start: start, bytes: bytes + count)
        }
    }

    /// Outside a data block, bytes after the last newline are a line begun: it began in this read
    /// if a line ended in it, otherwise it is the line already being timed.
    private func trackPartialLine(linesEnded: Bool, at now: NIODeadline) {
        guard !framer.isInDataBlock else { return }
        if !framer.isInsideLine {
            deadline = nil
        } else if case .line = deadline, !linesEnded {
            return
        } else {
            deadline = .line(start: clientClock.reading(at: now))
        }
    }

    /// The client's time left before the deadline.
    private func remaining(of deadline: Deadline, at now: NIODeadline) -> TimeAmount {
        switch deadline {
        case .line(let start):
            return lineTimeout - (clientClock.reading(at: now) - start)
        case .dataBlock(let start, let bytes):
            let earned = TimeAmount.nanoseconds(Int64(Double(bytes) / Double(dataBlockMinimumBytesPerSecond) * 1e9))
            return dataBlockTimeout + earned - (clientClock.reading(at: now) - start)
        }
    }

    /// One check is pending at a time, at the earliest moment the deadline could pass (the
    /// client's clock never runs faster than the wall clock); when it finds time left, because
    /// the client's clock stood still or the deadline moved, it checks again later.
    private func scheduleDeadlineCheck(context: ChannelHandlerContext, now: NIODeadline) {
        guard deadlineCheck == nil, let deadline, !expired else { return }
        let wait = max(remaining(of: deadline, at: now), .zero)
        deadlineCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: now + wait) { [self] in
            deadlineCheck = nil
            guard let current = self.deadline else { return }
            let now = NIODeadline.now()
            if remaining(of: current, at: now) > .zero {
                scheduleDeadlineCheck(context: context, now: now)
                return
            }
            expired = true
            self.deadline = nil
            switch current {
            case .line: fire(.tooSlow(.line), context: context)
            case .dataBlock: fire(.tooSlow(.dataBlock), context: context)
            }
        }
    }

    private func startAuthenticationClock(context: ChannelHandlerContext) {
        guard authenticationCheck == nil, let authenticationTimeout else { return }
        authenticationCheck = context.eventLoop.assumeIsolated().scheduleTask(in: authenticationTimeout) { [self] in
            fire(.authenticationDue, context: context)
        }
    }

    private func cancelClocks() {
        deadlineCheck?.cancel()
        deadlineCheck = nil
        authenticationCheck?.cancel()
    }

    private func fire(_ notice: ConnectionNotice, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(.notice(notice)))
    }

    private func flushLastLine(context: ChannelHandlerContext) {
        // No more input can come, so nothing is waited for any longer.
        deadline = nil
        if !expired, let last = framer.finish() {
            context.fireChannelRead(wrapInboundOut(.frames([last])))
        }
    }
}

@available(*, unavailable)
extension FrameHandler: Sendable {}

/// How long the connection has waited for its client: the time from each read the channel asks
/// for to the arrival of its bytes. While the server works, or holds input back because the
/// connection's steps are behind (`ConnectionIO` asks for no reads then), the clock stands
/// still, so a busy server never makes its client too slow.
struct ClientClock {
    private var counted = TimeAmount.zero
    private var waitingSince: NIODeadline?

    mutating func readRequested(at now: NIODeadline) {
        if waitingSince == nil { waitingSince = now }
    }

    mutating func bytesArrived(at now: NIODeadline) {
        if let since = waitingSince {
            counted = counted + (now - since)
            waitingSince = nil
        }
    }

    func reading(at now: NIODeadline) -> TimeAmount {
        counted + (waitingSince.map { now - $0 } ?? .zero)
    }
}
