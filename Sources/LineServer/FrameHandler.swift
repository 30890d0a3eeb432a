import CommandProtocol
import NIOCore

/// What a connection's task reads: a frame of the line protocol, or word that input has been
/// idle for the configured time.
enum ConnectionEvent: Sendable {
    case frame(LineFramer.Frame)
    /// Every frame one socket read completed, in order: a pipelined script or an import block
    /// crosses into the connection's task once per read, not once per line.
    case frames([LineFramer.Frame])
    case idle
}

/// Feeds socket bytes to the pure `LineFramer`, which owns every framing rule, and passes on
/// every frame a read completes. (A `ByteToMessageDecoder` would stop calling back once the
/// buffer is drained into the framer, stranding the frames still inside it.) It also reports
/// input that has been idle for `idleTimeout`.
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ConnectionEvent

    private var framer: LineFramer
    private let idleTimeout: TimeAmount
    private var lastRead = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(framer: LineFramer, idleTimeout: TimeAmount) {
        self.framer = framer
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        scheduleIdleCheck(context: context, at: .now() + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        let buffer = unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        var frames: [LineFramer.Frame] = []
        while let frame = framer.next() {
            frames.append(frame)
        }
        if frames.count == 1 {
            context.fireChannelRead(wrapInboundOut(.frame(frames[0])))
        } else if !frames.isEmpty {
            context.fireChannelRead(wrapInboundOut(.frames(frames)))
        }
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            let due = lastRead + idleTimeout
            if NIODeadline.now() >= due {
                // Outside a socket read, so end the "read" too: NIOAsyncChannel delivers what it
                // was given only on read-complete.
                context.fireChannelRead(wrapInboundOut(.idle))
                context.fireChannelReadComplete()
                scheduleIdleCheck(context: context, at: .now() + idleTimeout)
            } else {
                scheduleIdleCheck(context: context, at: due)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // A last line without a newline still counts (`printf 'PING' | nc -N`).
            flushLastLine(context: context)
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        flushLastLine(context: context)
        context.fireChannelInactive()
    }

    private func flushLastLine(context: ChannelHandlerContext) {
        if let last = framer.finish() {
            context.fireChannelRead(wrapInboundOut(.frame(last)))
            context.fireChannelReadComplete()
        }
    }
}

@available(*, unavailable)
extension FrameHandler: Sendable {}
