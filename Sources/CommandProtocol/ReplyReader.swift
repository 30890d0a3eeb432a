/// A reply as a client reads it: the shape of `Reply`, with the error code kept as the word the
/// server sent, so a client can still branch on a code newer than itself.
public enum ReceivedReply: Sendable, Equatable {
    /// `OK <text>`; the text is empty for a bare `OK`.
    case ok(String)
    /// `ERR <CODE> <text>`
    case error(code: String, text: String)
    /// `OK <n> <header>`, then the n records (dot-stuffing undone), then `.`.
    case records(header: String, [String])
    /// A reply in `FORMAT json`: its first line (one JSON object) and, when that line counts
    /// `"records":n`, the n object lines after it.
    case json(String, [String])

    /// The code as this client knows it, nil for a reply that is no error or a code it does not know.
    public var errorCode: ErrorCode? {
        switch self {
        case .error(let code, _): return ErrorCode(rawValue: code)
        case .json(let line, _):
            guard line.hasPrefix(ReplyReader.jsonError), let end = line.dropFirst(ReplyReader.jsonError.count).firstIndex(of: "\"")
            else { return nil }
            return ErrorCode(rawValue: String(line[line.index(line.startIndex, offsetBy: ReplyReader.jsonError.count)..<end]))
        default: return nil
        }
    }

    /// The reply's first line as it was sent, without its `\n`.
    public var firstLine: String {
        switch self {
        case .ok(let text): text.isEmpty ? "OK" : "OK \(text)"
        case .error(let code, let text): text.isEmpty ? "ERR \(code)" : "ERR \(code) \(text)"
        case .records(let header, let records): header.isEmpty ? "OK \(records.count)" : "OK \(records.count) \(header)"
        case .json(let line, _): line
        }
    }
}

/// Reads the server's reply bytes back into replies, the client's side of `Reply.rendered()`:
/// pure and incremental, so any chunking of the same bytes gives the same replies. Feed it
/// bytes (`append`, then `next`) or whole lines (`take(line:)`).
public struct ReplyReader: Sendable {
    /// Bytes that cannot be a reply of protocol v1.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// The header and the records so far of a multi-line reply.
    private var open: (header: String, count: Int, records: [String])?
    /// The header line and the records so far of a multi-line JSON reply.
    private var openJSON: (header: String, count: Int, records: [String])?

    /// How the renderer begins a JSON error and a JSON multi-line header (Reply.rendered(as: .json)).
    static let jsonError = #"{"ok":false,"code":""#
    static let jsonRecords = #"{"ok":true,"records":"#

    public init() {}

    /// Whether the bytes or lines given so far end inside a reply: at the end of input that reply
    /// was cut short.
    public var isInsideReply: Bool { open != nil || openJSON != nil || readIndex < buffer.count }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply from the bytes appended, or nil until more arrive.
    public mutating func next() throws(Malformed) -> ReceivedReply? {
        while let newline = buffer[readIndex...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer[readIndex..<newline]
            readIndex = newline + 1
            if let reply = try take(line: line) { return reply }
        }
        return nil
    }

    /// Reads one line (without its `\n`): the reply it completes, or nil when the reply goes on.
    /// Compared as bytes: as a `String`, a space before a combining mark would be one character.
    public mutating func take(line bytes: some Collection<UInt8>) throws(Malformed) -> ReceivedReply? {
        let line = Array(bytes)
        if var reply = openJSON {
            reply.records.append(text(line[...]))
            guard reply.records.count == reply.count else {
                openJSON = reply
                return nil
            }
            openJSON = nil
            return .json(reply.header, reply.records)
        }
        if var reply = open {
            guard reply.records.count < reply.count else {
                open = nil
                guard line == [UInt8(ascii: ".")] else {
                    throw Malformed(description: "a reply of \(reply.count) records did not end with '.': \(text(line[...]))")
                }
                return .records(header: reply.header, reply.records)
            }
            // A record starting with "." was sent with one more.
            reply.records.append(text(line.first == UInt8(ascii: ".") ? line.dropFirst() : line[...]))
            open = reply
            return nil
        }
        // Only between replies: a record of a text reply may start with "{" too.
        if line.first == UInt8(ascii: "{") {
            let first = text(line[...])
            guard first.hasPrefix(Self.jsonRecords) else { return .json(first, []) }
            let digits = first.utf8.dropFirst(Self.jsonRecords.utf8.count).prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard let count = Int(String(decoding: digits, as: UTF8.self)) else {
                throw Malformed(description: "a JSON header without its count: \(first)")
            }
            if count == 0 { return .json(first, []) }
            openJSON = (first, count, [])
            return nil
        }
        if line == Array("OK".utf8) { return .ok("") }
        if line.starts(with: "OK ".utf8) {
            let rest = line.dropFirst(3)
            let (word, after) = Self.firstWord(rest)
            guard !word.isEmpty, word.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let count = Int(text(word)) else {
                return .ok(text(rest))
            }
            open = (text(after), count, [])
            return nil
        }
        if line.starts(with: "ERR ".utf8) {
            let (code, after) = Self.firstWord(line.dropFirst(4))
            guard !code.isEmpty else { throw Malformed(description: "an error reply without a code: \(text(line[...]))") }
            return .error(code: text(code), text: text(after))
        }
        throw Malformed(description: "not a reply: \(text(line[...]))")
    }

    /// The bytes up to the first space, and those after that space.
    private static func firstWord(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return (bytes, []) }
        return (bytes[..<space], bytes[(space + 1)...])
    }

    private func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
