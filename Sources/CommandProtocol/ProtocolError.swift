/// An error that becomes exactly one `ERR <CODE> <text>` reply.
public struct ProtocolError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var reply: Reply { .error(code, message) }
}
