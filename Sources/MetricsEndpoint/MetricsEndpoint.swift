import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves one registry in Prometheus' text format at `GET /metrics` over HTTP/1.1 (keep-alive
/// honoured); every other path is 404 and every other method 405. It closes its listener and its
/// connections on graceful shutdown.
public final class MetricsEndpoint: Service, Sendable {
    private let host: String
    private let port: Int
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let onRunning: @Sendable (SocketAddress) async -> Void

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.onRunning = onRunning
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        guard let address = server.channel.localAddress else { throw ChannelError.unknownLocalAddress }
        logger.info("serving metrics at GET /metrics", metadata: ["address": "\(address)"])
        await onRunning(address)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await withGracefulShutdownHandler {
                                await self.serve(connection)
                            } onGracefulShutdown: {
                                connection.channel.close(promise: nil)
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var request: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        request = head
                    case .body:
                        continue
                    case .end:
                        guard let head = request else { continue }
                        let (status, body) = response(to: head)
                        var headers = HTTPHeaders()
                        // Prometheus' text exposition format, version 0.0.4.
                        let type = status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8"
                        headers.add(name: "Content-Type", value: type)
                        headers.add(name: "Content-Length", value: "\(body.count)")
                        headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
                        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                        if head.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                        try await outbound.write(.end(nil))
                        guard head.isKeepAlive else { return }
                        request = nil
                    }
                }
            }
        } catch {
            logger.debug("metrics connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func response(to head: HTTPRequestHead) -> (HTTPResponseStatus, [UInt8]) {
        guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, Array("only GET /metrics\n".utf8)) }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else { return (.notFound, Array("only GET /metrics\n".utf8)) }
        return (.ok, registry.emitToBuffer())
    }
}
