/// The lines of a data block that follows a command line (see `LineFramer`), read one at a time
/// so a million-row import never sits whole in memory.
public protocol DataBlockSource: AnyObject, Sendable {
    /// The next raw line, or nil once the block's closing `.` has been read. Throws a
    /// `ProtocolError` when the block cannot be read to its end (it arrived too slowly, the input
    /// ended inside it, the server is shutting down): a command then stores nothing of it, and
    /// the error can be its reply.
    func nextLine() async throws -> DataBlockLine?
}

public enum DataBlockLine: Sendable {
    case line([UInt8])
    /// A line over the limit, discarded by the framer.
    case tooLong(length: Int)
}
