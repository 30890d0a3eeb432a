import CommandProtocol
import NIOCore

/// What a connection's task receives from its channel.
enum ConnectionEvent: Sendable {
    /// The frames one socket read completed, in order. A pipelined script crosses into the task
    /// once per read, not once per line.
    case frames([LineFramer.Frame])
    case notice(ConnectionNotice)
}

/// Word from the channel's clocks, delivered in order with the frames.
enum ConnectionNotice: Sendable, Equatable {
    /// Neither a read nor a write for the idle timeout (`IdleStateHandler`). It may have been
    /// raised while a long command ran, so the task checks it against its own last activity.
    case idle
}

/// Feeds socket bytes to the pure `LineFramer`, which owns every framing rule, and passes on
/// every frame a read completes. (A `ByteToMessageDecoder` would stop calling back once the
/// buffer is drained into the framer, stranding the frames still inside it.)
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ConnectionEvent

    private var framer: LineFramer

    init(framer: LineFramer) {
        self.framer = framer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data).readableBytesView)
        var frames: [LineFramer.Frame] = []
        while let frame = framer.next() {
            frames.append(frame)
        }
        if !frames.isEmpty {
            context.fireChannelRead(wrapInboundOut(.frames(frames)))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case IdleStateHandler.IdleStateEvent.all:
            // Outside a socket read, so end the "read" too: NIOAsyncChannel delivers what it was
            // given only on read-complete.
            context.fireChannelRead(wrapInboundOut(.notice(.idle)))
            context.fireChannelReadComplete()
        case ChannelEvent.inputClosed:
            // A last line without a newline still counts (`printf 'PING' | nc -N`).
            flushLastLine(context: context)
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        flushLastLine(context: context)
        context.fireChannelInactive()
    }

    private func flushLastLine(context: ChannelHandlerContext) {
        if let last = framer.finish() {
            context.fireChannelRead(wrapInboundOut(.frames([last])))
            context.fireChannelReadComplete()
        }
    }
}

@available(*, unavailable)
extension FrameHandler: Sendable {}
