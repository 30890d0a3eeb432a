import CommandProtocol

/// Per-connection state, owned by the connection and passed to every command.
public struct Session: Sendable {
    public var principal: Principal?
    /// Set by `FORMAT`: how the connection writes every reply.
    public var format: OutputFormat = .text
    public var linesSeen = 0
    public var failedAuthAttempts = 0
    /// The client's address, for limits and logs across its connections ("" when unknown).
    public var peer = ""
    /// Set by a command (QUIT, a refused HTTP request, too many failed AUTHs) to end the connection
    /// once its reply is sent.
    public var shouldClose = false
    /// Between BEGIN and COMMIT/ABORT.
    public var batch: Batch?
    public var metrics = CommandMetrics.Remembered()

    public struct Batch: Sendable {
        public var unit: any LongUnit
        public var startedAtLine: Int
        public var commands = 0
        /// The line whose error aborted the batch; later commands are refused until it ends.
        public var failedAtLine: Int?
    }

    public init() {}
}
