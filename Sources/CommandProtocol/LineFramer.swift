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
/// the command is then refused and its rows can never run as commands.
public struct LineFramer: Sendable {
    public enum Frame: Sendable, Equatable {
        /// A request line; `announcesDataBlock` says the lines after it, up to `.dataEnd`, are its data.
        case line([UInt8], announcesDataBlock: Bool)
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
    private var discarding: Int? = nil
    private var inDataBlock = false

    /// - Parameter dataBlockCommands: upper-cased `"VERB SUBVERB"` pairs that announce a data block.
    public init(maximumLineLength: Int = 65_536, dataBlockCommands: Set<String> = []) {
        precondition(maximumLineLength > 0)
        self.maximumLineLength = maximumLineLength
        self.dataBlockCommands = dataBlockCommands
    }

    public var isInDataBlock: Bool { inDataBlock }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

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
        while true {
            if let newline = buffer[scanIndex...].firstIndex(of: UInt8(ascii: "\n")) {
                if let skipped = discarding {
                    let length = skipped + (newline - readIndex)
                    discarding = nil
                    consume(through: newline)
                    return inDataBlock ? .dataLineTooLong(length: length) : .lineTooLong(length: length)
                }
                var end = newline
                if end > readIndex && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end - readIndex > maximumLineLength {
                    let length = end - readIndex
                    consume(through: newline)
                    return inDataBlock ? .dataLineTooLong(length: length) : .lineTooLong(length: length)
                }
                let line = Array(buffer[readIndex..<end])
                consume(through: newline)
                return frame(for: line)
            }
            scanIndex = buffer.count
            let pending = buffer.count - readIndex
            // One `\r` may still be followed by `\n`, so allow one byte of slack before discarding.
            if pending > maximumLineLength + 1 {
                discarding = (discarding ?? 0) + pending
                buffer.removeAll(keepingCapacity: true)
                readIndex = 0
                scanIndex = 0
            }
            return nil
        }
    }

    /// At end of input: the last line, if it had no newline, as a frame of its own.
    public mutating func finish() -> Frame? {
        if let skipped = discarding {
            discarding = nil
            let length = skipped + bufferedByteCount
            buffer.removeAll()
            readIndex = 0
            scanIndex = 0
            return inDataBlock ? .dataLineTooLong(length: length) : .lineTooLong(length: length)
        }
        guard bufferedByteCount > 0 else { return nil }
        var line = Array(buffer[readIndex...])
        buffer.removeAll()
        readIndex = 0
        scanIndex = 0
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > maximumLineLength {
            return inDataBlock ? .dataLineTooLong(length: line.count) : .lineTooLong(length: line.count)
        }
        return frame(for: line)
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
        if !dataBlockCommands.isEmpty, let (verb, subverb) = CommandParser.leadingWords(line), let subverb,
            dataBlockCommands.contains("\(verb) \(subverb)")
        {
            inDataBlock = true
        }
        return .line(line, announcesDataBlock: inDataBlock)
    }
}
