/// The lines of a data block that follows a command line (see `LineFramer`), read one at a time
/// so a million-row import never sits whole in memory.
public protocol DataBlockSource: AnyObject, Sendable {
    /// The next raw line, or nil once the block's closing `.` has been read.
    func nextLine() async throws -> DataBlockLine?
}

public enum DataBlockLine: Sendable {
    case line([UInt8])
    /// A line over the limit, discarded by the framer.
    case tooLong(length: Int)
}
