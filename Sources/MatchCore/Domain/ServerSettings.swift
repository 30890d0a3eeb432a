/// Limits and identity that the protocol announces (greeting, CAPA) and the server enforces.
public struct ServerSettings: Sendable {
    public static let protocolVersion = 1
    public static let version = "0.1.0"

    public var maximumLineLength: Int
    public var idleTimeoutSeconds: Int
    public var maximumConnections: Int
    public var defaultPageSize: Int
    public var maximumPageSize: Int
    /// Failed AUTH attempts allowed on one connection before it is closed; from the third on each
    /// failure is answered only after a delay that grows by a second per attempt.
    public var maximumFailedAuth: Int
    /// Failed AUTH attempts allowed from one client address per minute, over all its connections.
    public var maximumFailedAuthPerAddress: Int
    /// Days after which an unanswered proposal expires.
    public var proposalLifetimeDays: Int
    /// A connection that has not authenticated this long after connecting is closed, so
    /// anonymous clients cannot hold the connection slots.
    public var authenticationTimeoutSeconds: Int
    /// A data block must end this long after its command line, plus a second for every
    /// `dataBlockMinimumBytesPerSecond` bytes of it received (see `LineLimits`).
    public var dataBlockTimeoutSeconds: Int
    public var dataBlockMinimumBytesPerSecond: Int

    public init(
        maximumLineLength: Int = 65_536,
        idleTimeoutSeconds: Int = 300,
        maximumConnections: Int = 1_024,
        defaultPageSize: Int = 100,
        maximumPageSize: Int = 1_000,
        maximumFailedAuth: Int = 10,
        maximumFailedAuthPerAddress: Int = 30,
        proposalLifetimeDays: Int = 14,
        authenticationTimeoutSeconds: Int = 30,
        dataBlockTimeoutSeconds: Int = 60,
        dataBlockMinimumBytesPerSecond: Int = 16_384
    ) {
        self.maximumLineLength = maximumLineLength
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maximumConnections = maximumConnections
        self.defaultPageSize = defaultPageSize
        self.maximumPageSize = maximumPageSize
        self.maximumFailedAuth = maximumFailedAuth
        self.maximumFailedAuthPerAddress = maximumFailedAuthPerAddress
        self.proposalLifetimeDays = proposalLifetimeDays
        self.authenticationTimeoutSeconds = authenticationTimeoutSeconds
        self.dataBlockTimeoutSeconds = dataBlockTimeoutSeconds
        self.dataBlockMinimumBytesPerSecond = dataBlockMinimumBytesPerSecond
    }

    public var greeting: String {
        "ewmatch \(Self.version) protocol=\(Self.protocolVersion) ready; HELP lists commands"
    }
}
