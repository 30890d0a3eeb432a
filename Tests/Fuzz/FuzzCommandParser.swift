// libFuzzer harness for CommandProtocol; built and run by Tests/Fuzz/run.sh, outside the manifest
// (SwiftPM cannot link a libFuzzer executable target). It is compiled into the same module as the
// sources, so it also checks internal invariants. Any broken invariant traps, which libFuzzer
// reports with the input that caused it.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandProtocol(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    checkParser(input)
    _ = CommandParser.looksLikeHTTP(input)
    checkFramer(input)
    checkReplies(input)
    checkReplyReader(input)
    return 0
}

/// A parsed request, written back with `Field.quoted`, must parse to the same request.
private func checkParser(_ line: [UInt8]) {
    let leading = CommandParser.leadingWords(line)
    guard case .success(.request(let request)) = CommandParser.parse(line) else { return }
    precondition(CommandParser.isVerb(request.verb) && request.verb == asciiUppercased(request.verb))
    precondition(leading?.0 == request.verb, "leadingWords disagrees with parse on the verb")
    var written = [request.verb]
    written += request.words.map(Field.quoted)
    written += request.options.map { "\($0.key)=\(Field.quoted($0.value))" }
    let again = CommandParser.parse(Array(written.joined(separator: " ").utf8))
    precondition(again == .success(.request(request)), "a request written back with Field.quoted parses differently")
}

/// Every chunking of the same stream must give the same frames, with the buffer bounded.
private func checkFramer(_ input: [UInt8]) {
    guard let control = input.first else { return }
    let stream = Array(input.dropFirst())
    // Small limits put every path (too long, data lines too long, limits inside blocks) within
    // reach of short inputs; the high bit scales them so long inputs reach long-line paths too.
    let limit = (1 + Int(control & 0x3F)) * (control & 0x80 == 0 ? 1 : 97)
    let blockCommands: Set<String> = control & 0x40 == 0 ? [] : ["NEED IMPORT", "X Y"]
    let whole = frames(of: stream, limit: limit, blockCommands: blockCommands, chunkSizes: [stream.count])
    var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: stream.reduce(5381) { $0 &* 33 &+ Int($1) }))
    let random = (0..<stream.count).map { _ in 1 + Int(generator.next() % 9) }
    precondition(frames(of: stream, limit: limit, blockCommands: blockCommands, chunkSizes: random) == whole)
    precondition(frames(of: stream, limit: limit, blockCommands: blockCommands, chunkSizes: [1]) == whole)
}

private func frames(of stream: [UInt8], limit: Int, blockCommands: Set<String>, chunkSizes: [Int]) -> [LineFramer.Frame] {
    var framer = LineFramer(maximumLineLength: limit, dataBlockCommands: blockCommands)
    var out: [LineFramer.Frame] = []
    var offset = 0
    var chunk = 0
    while offset < stream.count {
        let size = max(1, chunkSizes[chunk % chunkSizes.count])
        chunk += 1
        framer.append(stream[offset..<min(stream.count, offset + size)])
        offset += size
        while let frame = framer.next() {
            check(frame, limit: limit)
            out.append(frame)
        }
        precondition(framer.bufferedByteCount <= limit + 1, "a pending line is held beyond the limit")
    }
    if let last = framer.finish() {
        check(last, limit: limit)
        out.append(last)
    }
    precondition(framer.bufferedByteCount == 0)
    return out
}

private func check(_ frame: LineFramer.Frame, limit: Int) {
    switch frame {
    case .line(let bytes, _):
        precondition(bytes.count <= limit && !bytes.contains(UInt8(ascii: "\n")))
    case .dataLine(let bytes):
        precondition(bytes.count <= limit && !bytes.contains(UInt8(ascii: "\n")))
    case .lineTooLong(let length), .dataLineTooLong(let length):
        precondition(length > limit)
    case .dataEnd:
        break
    }
}

/// Whatever the texts hold, a reply re-splits into exactly its expected lines in both formats
/// (JSON lines being objects free of control characters), and a record built with `Field.line`
/// reads back as the same options.
private func checkReplies(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    let records = text.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
    let record = Record(records.enumerated().map { ("k\($0.offset)", .numeric($0.element)) })
    let replies: [(Reply, Int)] = [
        (.ok(text), 1), (.error(.badArg, text), 1), (.lines(header: Reply.Header(text), records), records.count + 2),
        (.record(record), 1), (.records(header: Reply.Header(text, record), [record, Record([("s", .spelled(.null, text: text))])]), 4),
    ]
    for (reply, expectedLines) in replies {
        let json = reply.rendered(as: .json).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        let framed = expectedLines > 1 ? expectedLines - 1 : expectedLines
        precondition(json.count == framed, "a JSON reply re-splits into the wrong number of lines")
        precondition(json.allSatisfy { $0.first == UInt8(ascii: "{") && $0.last == UInt8(ascii: "}") && !$0.contains { $0 < 0x20 || $0 == 0x7F } })
        let rendered = reply.rendered(as: .text)
        precondition(rendered.last == "\n" && !rendered.utf8.contains(UInt8(ascii: "\r")))
        let lines = rendered.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        precondition(lines.count == expectedLines, "a reply re-splits into the wrong number of lines")
        precondition(lines.allSatisfy { !$0.contains { Reply.isEscapedControl($0) } })
        if case .lines = reply {
            precondition(lines.last.map(Array.init) == [UInt8(ascii: ".")])
            for (record, original) in zip(lines.dropFirst().dropLast(), records) {
                let unstuffed = record.first == UInt8(ascii: ".") ? Array(record.dropFirst()) : Array(record)
                precondition(Array(record) != [UInt8(ascii: ".")], "a record reads as the end of the list")
                precondition(unstuffed == Array(Reply.singleLine(original).utf8))
            }
        }
    }
    for value in records where !value.unicodeScalars.contains("\0") {
        let line = Array("R a=\(Field.quoted(value)) \(Field.quoted(value))".utf8)
        let expected = Request(verb: "R", words: [value], options: [RequestOption("a", value)])
        precondition(CommandParser.parse(line) == .success(.request(expected)), "Field.quoted does not read back")
    }
}

/// What the server renders, the client's `ReplyReader` reads back as the same replies, in both
/// formats and however the bytes are split; arbitrary bytes make it throw or wait, never trap.
private func checkReplyReader(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    let records = text.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
    // A message never starts with a number: `OK <n> …` is how a multi-line reply begins, and the
    // server's messages are words ("PONG", "imported 3 needs").
    let startsWithCount = text.split(separator: " ", maxSplits: 1).first.map { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) } ?? false
    let replies: [Reply] = (startsWithCount ? [] : [.ok(text)]) + [.error(.busy, text), .lines(header: Reply.Header(text), records)]
    for format in OutputFormat.allCases {
        let wire = replies.flatMap { Array($0.rendered(as: format).utf8) }
        var whole = ReplyReader()
        whole.append(wire)
        var first: [ReceivedReply] = []
        while let reply = try? whole.next() { first.append(reply) }
        precondition(first.count == replies.count, "the reader did not read back every rendered reply")
        var split = ReplyReader()
        var again: [ReceivedReply] = []
        var offset = 0
        var step = 1
        while offset < wire.count {
            split.append(wire[offset..<min(wire.count, offset + step)])
            offset += step
            step = step % 7 + 1
            while let reply = try? split.next() { again.append(reply) }
        }
        precondition(again == first, "the reader depends on how the bytes are split")
    }
    var raw = ReplyReader()
    raw.append(input)
    while true {
        guard let reply = try? raw.next() else { break }
        _ = reply.firstLine
    }
}

private struct SplitMix64 {
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

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
