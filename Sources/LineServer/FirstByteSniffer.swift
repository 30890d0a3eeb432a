import CommandProtocol
import Logging
import NIOCore

/// Tells TLS from plain text by a connection's first byte, so that a client on the wrong kind of
/// port gets a clear refusal instead of a hang: a TLS client opens with a handshake record
/// (0x16), which no request line can start with (it is a control character). On a TLS port
/// plain text gets one `ERR TLS_REQUIRED` line, unencrypted, which `nc` shows; on a plain port a
/// handshake gets `ERR TLS_NOT_ENABLED`, which ends the client's wait for the server's hello.
/// Either way the connection closes. Once the first byte fits, the handler leaves the pipeline.
///
/// A TLS client speaks first, at once; a plain client (the CLI without `--tls`) waits for the
/// greeting, which on a TLS port only goes out encrypted. So on a TLS port silence for
/// `tlsClientHelloWait` also gets the plain refusal, rather than a wait until the sign-in deadline.
final class FirstByteSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let tlsHandshakeRecord: UInt8 = 0x16
    static let tlsClientHelloWait = TimeAmount.seconds(2)
    static let tlsRequiredText = "this port speaks TLS: connect with openssl s_client, ncat --ssl or ewmatch --tls; closing"

    private let expectsTLS: Bool
    private let logger: Logger
    private var refused = false
    private var silenceCheck: Scheduled<Void>?

    init(expectsTLS: Bool, logger: Logger) {
        self.expectsTLS = expectsTLS
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startSilenceCheck(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startSilenceCheck(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        silenceCheck?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard let first = unwrapInboundIn(data).readableBytesView.first else { return }
        silenceCheck?.cancel()
        switch (expectsTLS, first == Self.tlsHandshakeRecord) {
        case (true, true), (false, false):
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case (true, false):
            refuse(.tlsRequired, Self.tlsRequiredText, context: context)
        case (false, true):
            refuse(.tlsNotEnabled, "this port speaks plain text, not TLS: connect without TLS; closing", context: context)
        }
    }

    private func startSilenceCheck(context: ChannelHandlerContext) {
        guard expectsTLS, silenceCheck == nil else { return }
        silenceCheck = context.eventLoop.assumeIsolated().scheduleTask(in: Self.tlsClientHelloWait) { [self] in
            guard !refused else { return }
            refuse(.tlsRequired, Self.tlsRequiredText, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if refused, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Writes the refusal below any TLS handler, half-closes, and drops what the peer still sends
    /// until it closes too (for at most two seconds): closing with unread input would make the
    /// kernel reset the connection, which can destroy the line before the peer reads it.
    private func refuse(_ code: ErrorCode, _ text: String, context: ChannelHandlerContext) {
        refused = true
        silenceCheck?.cancel()
        let peer = context.remoteAddress.map { "\($0)" } ?? ""
        logger.info("refused: the first bytes were of the other protocol", metadata: ["code": "\(code.rawValue)", "peer": "\(peer)"])
        let line = context.channel.allocator.buffer(string: Reply.error(code, text).rendered(as: .text))
        let loop = context.eventLoop.assumeIsolated()
        context.writeAndFlush(NIOAny(line)).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
        loop.scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension FirstByteSniffer: Sendable {}
