import CommandProtocol
import NIOCore

/// What a connection's task reads: a frame of the line protocol, or word that input has been
/// idle for the configured time.
enum ConnectionEvent: Sendable {
    case frame(LineFramer.Frame)
    case idle
}

/// Feeds socket bytes to the pure `LineFramer`, which owns every framing rule.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ConnectionEvent

    var framer: LineFramer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            framer.append(buffer.readableBytesView)
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        guard let frame = framer.next() else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(.frame(frame)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            framer.append(buffer.readableBytesView)
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        while let frame = framer.next() {
            context.fireChannelRead(wrapInboundOut(.frame(frame)))
        }
        if let last = framer.finish() {
            context.fireChannelRead(wrapInboundOut(.frame(last)))
        }
        return .needMoreData
    }
}

/// Turns the idle-state handler's user event into an inbound message the async loop can see.
final class IdleEventForwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ConnectionEvent
    typealias InboundOut = ConnectionEvent

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireChannelRead(wrapInboundOut(.idle))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
