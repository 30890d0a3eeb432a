/// What a line server serves. The server frames the input, enforces the limits and keeps the
/// replies in order; the responder turns each request line into its one reply. With this seam the
/// transport runs, and is tested, without any command logic or database behind it.
public protocol LineResponder: Sendable {
    /// What one connection carries from line to line (its sign-in, an open batch).
    associatedtype Session

    var limits: LineLimits { get }
    /// The line a connection gets before anything else.
    var greeting: Reply { get }
    /// `peer` is the client's address as text (its IP), or "" when unknown.
    func makeSession(peer: String) -> Session
    /// The reply to one request line, or nil for a line that gets none (blank, comment).
    /// `dataBlock` carries the lines after a line that announced a block; what the responder
    /// leaves unread of it, the server discards.
    func respond(line: [UInt8], session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply?
    /// Called once when the connection is gone, however it ended, to release what the session held.
    func endSession(_ session: Session) async
    /// Whether the connection is closed once the reply just sent has gone out (QUIT, too many
    /// failed sign-ins).
    func shouldClose(_ session: Session) -> Bool
    /// Whether the session has signed in; one that has not within `limits.authenticationTimeout`
    /// of connecting is closed.
    func isAuthenticated(_ session: Session) -> Bool
    /// How the session's replies are written (FORMAT).
    func format(_ session: Session) -> OutputFormat
}

/// The limits a line server enforces for its responder, which announces them (CAPA).
public struct LineLimits: Sendable {
    public var maximumLineLength: Int
    /// Upper-cased `"VERB SUBVERB"` pairs whose request line is followed by a data block.
    public var dataBlockCommands: Set<String>
    /// A connection without a request or a reply for this long is closed. A request line must
    /// also end within this time of its first byte, so bytes trickling in cannot hold a
    /// connection open.
    public var idleTimeout: Duration
    public var maximumConnections: Int
    /// How soon after connecting a session must have signed in; nil when it need not.
    public var authenticationTimeout: Duration?
    /// A data block must end within this time after its command line, extended by one second
    /// for every `dataBlockMinimumBytesPerSecond` bytes of it received: an upload may pause, but
    /// one that falls behind that rate on average is cut off.
    public var dataBlockTimeout: Duration
    public var dataBlockMinimumBytesPerSecond: Int

    public init(
        maximumLineLength: Int, dataBlockCommands: Set<String>, idleTimeout: Duration, maximumConnections: Int,
        authenticationTimeout: Duration?, dataBlockTimeout: Duration, dataBlockMinimumBytesPerSecond: Int
    ) {
        self.maximumLineLength = maximumLineLength
        self.dataBlockCommands = dataBlockCommands
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
        self.authenticationTimeout = authenticationTimeout
        self.dataBlockTimeout = dataBlockTimeout
        self.dataBlockMinimumBytesPerSecond = dataBlockMinimumBytesPerSecond
    }
}
