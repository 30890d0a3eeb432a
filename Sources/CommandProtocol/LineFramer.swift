/// Splits an inbound byte stream into frames: request lines, and the raw lines of a data block.
///
/// One rule everywhere: a line ends at `\n`, and one `\r` right before it is dropped. A line over
/// `maximumLineLength` is discarded up to its newline and reported once, so a pipelined stream
/// stays in step (NIO's `maximumBufferSize` would leave its handler in an error state instead).
///
/// A request line whose first words are in `dataBlockCommands` (e.g. `NEED IMPORT`) switches the
/// framer to data mode: the following lines are delivered raw, with no comment skipping and no
/// UTF-8 check, up to a line holding only `.`; a data line starting with `.` is sent dot-stuffed
/// (`..x` for `.x`). The switch depends on those words alone, so the block is consumed even when
/// the command is then refused, or its line is too long, and its rows can never run as commands.
public struct LineFramer: Sendable {
    public enum Frame: Sendable, Equatable {
        /// A request line; `announcesDataBlock` says the lines after it, up to `.dataEnd`, are its data.
        case line([UInt8], announcesDataBlock: Bool)
        /// A request line over the limit, discarded; `length` excludes the line ending. When its
        /// first words announce a data block, the block follows as for `.line`.
        case lineTooLong(length: Int)
        case dataLine([UInt8])
        case dataLineTooLong(length: Int)
        case dataEnd
    }

    public let maximumLineLength: Int
    public let dataBlockCommands: Set<String>
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var scanIndex = 0
    /// Set while the rest of an over-long line is thrown away.
    private var discarding: (length: Int, announcesDataBlock: Bool)? = nil
    private var inDataBlock = false

    /// - Parameter dataBlockCommands: upper-cased `"VERB SUBVERB"` pairs that announce a data block.
    public init(maximumLineLength: Int = 65_536, dataBlockCommands: Set<String> = []) {
        // Below Int.max, so the one byte of slack for a `\r` cannot overflow.
        precondition(maximumLineLength > 0 && maximumLineLength < Int.max)
        self.maximumLineLength = maximumLineLength
        self.dataBlockCommands = dataBlockCommands
    }

    public var isInDataBlock: Bool { inDataBlock }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Whether a line has begun and not yet ended (an over-long one's bytes may be gone already).
    public var isInsideLine: Bool { bufferedByteCount > 0 || discarding != nil }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> Frame? {
        guard let newline = buffer[scanIndex...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanIndex = buffer.count
            discardIfOverlong()
            return nil
        }
        var end = newline
        if end > readIndex && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let length = end - readIndex
        if let skipped = discarding {
            discarding = nil
            consume(through: newline)
            return tooLong(length: skipped.length + length, announcesDataBlock: skipped.announcesDataBlock)
        }
        if length > maximumLineLength {
            let announces = overlongLineAnnouncesDataBlock()
            consume(through: newline)
            return tooLong(length: length, announcesDataBlock: announces)
        }
        let line = Array(buffer[readIndex..<end])
        consume(through: newline)
        return frame(for: line)
    }

    /// At end of input: the last line, if it had no newline, as a frame of its own.
    public mutating func finish() -> Frame? {
        defer {
            buffer.removeAll()
            readIndex = 0
            scanIndex = 0
            discarding = nil
        }
        var end = buffer.count
        if end > readIndex && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let length = end - readIndex
        if let skipped = discarding {
            return tooLong(length: skipped.length + length, announcesDataBlock: skipped.announcesDataBlock)
        }
        guard bufferedByteCount > 0 else { return nil }
        if length > maximumLineLength {
            return tooLong(length: length, announcesDataBlock: overlongLineAnnouncesDataBlock())
        }
        return frame(for: Array(buffer[readIndex..<end]))
    }

    /// Keeps the buffer bounded while a line without a newline grows past the limit.
    private mutating func discardIfOverlong() {
        // One `\r` may still be followed by `\n`, so allow one byte of slack before discarding.
        guard bufferedByteCount > maximumLineLength + 1 else { return }
        var skipped = discarding ?? (0, overlongLineAnnouncesDataBlock())
        // A last `\r` may turn out to be the line ending, which no reported length includes.
        let keepsCarriageReturn = buffer.last == UInt8(ascii: "\r")
        skipped.length += bufferedByteCount - (keepsCarriageReturn ? 1 : 0)
        discarding = skipped
        buffer.removeAll(keepingCapacity: true)
        if keepsCarriageReturn { buffer.append(UInt8(ascii: "\r")) }
        readIndex = 0
        scanIndex = buffer.count
    }

    /// Whether the over-long line starting at `readIndex` announces a data block. Its block must
    /// still be consumed, or the rows would run as commands. Only the first `maximumLineLength + 1`
    /// bytes count, and a word cut at that point is not read: those bytes are always there,
    /// however the line arrived, so every chunking gives the same answer.
    private func overlongLineAnnouncesDataBlock() -> Bool {
        guard !inDataBlock, !dataBlockCommands.isEmpty else { return false }
        let head = buffer[readIndex..<(readIndex + maximumLineLength + 1)]
        guard let lastBlank = head.lastIndex(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else {
            return false
        }
        return announcesDataBlock(head[..<lastBlank])
    }

    private func announcesDataBlock(_ line: some Collection<UInt8>) -> Bool {
        guard !dataBlockCommands.isEmpty, let (verb, subverb) = CommandParser.leadingWords(line), let subverb else {
            return false
        }
        return dataBlockCommands.contains("\(verb) \(subverb)")
    }

    private mutating func tooLong(length: Int, announcesDataBlock: Bool) -> Frame {
        if inDataBlock { return .dataLineTooLong(length: length) }
        if announcesDataBlock { inDataBlock = true }
        return .lineTooLong(length: length)
    }

    private mutating func consume(through newline: Int) {
        readIndex = newline + 1
        scanIndex = readIndex
    }

    private mutating func frame(for line: [UInt8]) -> Frame {
        if inDataBlock {
            if line == [UInt8(ascii: ".")] {
                inDataBlock = false
                return .dataEnd
            }
            if line.first == UInt8(ascii: ".") { return .dataLine(Array(line.dropFirst())) }
            return .dataLine(line)
        }
        if announcesDataBlock(line) { inDataBlock = true }
        return .line(line, announcesDataBlock: inDataBlock)
    }
}
