import CommandProtocol

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func parsed(_ line: [UInt8]) -> Result<CommandParser.Parsed, ProtocolError> { CommandParser.parse(line) }

func parsed(_ line: String) -> Result<CommandParser.Parsed, ProtocolError> { CommandParser.parse(bytes(line)) }

func request(_ line: String) -> Request? {
    guard case .success(.request(let request)) = parsed(line) else { return nil }
    return request
}

func errorCode(_ line: [UInt8]) -> ErrorCode? {
    guard case .failure(let error) = parsed(line) else { return nil }
    return error.code
}

func errorCode(_ line: String) -> ErrorCode? { errorCode(bytes(line)) }

/// Reproducible randomness, so a failing property names its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Feeds `stream` in chunks of the given sizes (cycled), draining frames after every chunk.
func frames(
    of stream: [UInt8], limit: Int = 65_536, blocks: Set<String> = [], chunkSizes: [Int]
) -> [LineFramer.Frame] {
    var framer = LineFramer(maximumLineLength: limit, dataBlockCommands: blocks)
    var out: [LineFramer.Frame] = []
    var offset = 0
    var chunk = 0
    while offset < stream.count {
        let size = max(1, chunkSizes[chunk % chunkSizes.count])
        chunk += 1
        framer.append(stream[offset..<min(stream.count, offset + size)])
        offset += size
        while let frame = framer.next() { out.append(frame) }
    }
    if let last = framer.finish() { out.append(last) }
    return out
}

func frames(of stream: [UInt8], limit: Int = 65_536, blocks: Set<String> = []) -> [LineFramer.Frame] {
    frames(of: stream, limit: limit, blocks: blocks, chunkSizes: [max(1, stream.count)])
}

func line(_ text: String, announces: Bool = false) -> LineFramer.Frame { .line(bytes(text), announcesDataBlock: announces) }

func data(_ text: String) -> LineFramer.Frame { .dataLine(bytes(text)) }
