/// What the protocol does with a connection's first request line before any command sees it.
public enum FirstLine {
    /// A script saved by an editor that writes a UTF-8 byte-order mark still starts with a command.
    public static func withoutByteOrderMark(_ line: [UInt8]) -> [UInt8] {
        line.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(line.dropFirst(3)) : line
    }

    /// The one reply to a first line that looks like HTTP, after which the connection is closed:
    /// browsers and request-forgery attacks must not be able to drive the service.
    public static func refusal(for line: [UInt8]) -> Reply? {
        guard CommandParser.looksLikeHTTP(line) else { return nil }
        return .error(.notThisProtocol, "this is the ewmatch line protocol, not HTTP; connect with nc")
    }
}
