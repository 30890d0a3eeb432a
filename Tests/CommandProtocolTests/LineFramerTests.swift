import CommandProtocol
import Testing

struct FramingCase: Sendable, CustomTestStringConvertible {
    var stream: [UInt8]
    var limit = 65_536
    var blocks: Set<String> = []
    var expected: [LineFramer.Frame]

    init(_ stream: String, limit: Int = 65_536, blocks: Set<String> = [], _ expected: [LineFramer.Frame]) {
        self.init(bytes(stream), limit: limit, blocks: blocks, expected)
    }

    init(_ stream: [UInt8], limit: Int = 65_536, blocks: Set<String> = [], _ expected: [LineFramer.Frame]) {
        self.stream = stream
        self.limit = limit
        self.blocks = blocks
        self.expected = expected
    }

    var testDescription: String { String(decoding: stream.prefix(60), as: UTF8.self).debugDescription }
}

private let needImport: Set<String> = ["NEED IMPORT"]

@Suite("LineFramer")
struct LineFramerTests {
    static let endings: [FramingCase] = [
        FramingCase("", []),
        FramingCase("PING\n", [line("PING")]),
        FramingCase("PING\r\n", [line("PING")]),
        FramingCase("A\nB\r\nC", [line("A"), line("B"), line("C")]),
        FramingCase("A\nB\r\nC\r", [line("A"), line("B"), line("C")]),
        FramingCase("\n\r\n", [line(""), line("")]),
        FramingCase("\r", [line("")]),
        FramingCase("A\r\r\n", [line("A\r")]),
        FramingCase("A\rB\n", [line("A\rB")]),
        FramingCase("\rA\n", [line("\rA")]),
        FramingCase([0x41, 0xFF, 0x00, 0x0A], [.line([0x41, 0xFF, 0x00], announcesDataBlock: false)]),
        FramingCase("# c\n\nPING\n", [line("# c"), line(""), line("PING")]),
    ]

    static let limits: [FramingCase] = [
        FramingCase("ABCD\n", limit: 4, [line("ABCD")]),
        FramingCase("ABCD\r\n", limit: 4, [line("ABCD")]),
        FramingCase("ABCD", limit: 4, [line("ABCD")]),
        FramingCase("ABCD\r", limit: 4, [line("ABCD")]),
        FramingCase("ABCDE\n", limit: 4, [.lineTooLong(length: 5)]),
        FramingCase("ABCDE\r\n", limit: 4, [.lineTooLong(length: 5)]),
        FramingCase("ABCDE", limit: 4, [.lineTooLong(length: 5)]),
        FramingCase("ABCDE\r", limit: 4, [.lineTooLong(length: 5)]),
        FramingCase("ABCDEFGHIJKLMNOP\nPING\n", limit: 4, [.lineTooLong(length: 16), line("PING")]),
        FramingCase("ABCDEFGHIJKLMNOP\r\nPING\r\n", limit: 4, [.lineTooLong(length: 16), line("PING")]),
        FramingCase("ABCDEFGH\rX\n", limit: 4, [.lineTooLong(length: 10)]),
        FramingCase("ABCDEFGH\r\r\n", limit: 4, [.lineTooLong(length: 9)]),
        FramingCase("ABCDEFGH\r", limit: 4, [.lineTooLong(length: 8)]),
        FramingCase("ABCDEFGH\r\r", limit: 4, [.lineTooLong(length: 9)]),
        FramingCase("ABCDE\nABCDE\nAB\n", limit: 4, [.lineTooLong(length: 5), .lineTooLong(length: 5), line("AB")]),
        FramingCase("PING\nABCDEFGHIJ", limit: 4, [line("PING"), .lineTooLong(length: 10)]),
    ]

    static let dataBlocks: [FramingCase] = [
        FramingCase(
            "NEED IMPORT\nrow 1\n# not a comment\n\nPING\n..x\n.\nPING\n", blocks: needImport,
            [line("NEED IMPORT", announces: true), data("row 1"), data("# not a comment"), data(""), data("PING"), data(".x"), .dataEnd, line("PING")]),
        FramingCase(
            "need Import x=1\r\nrow\r\n.\r\nPING\r\n", blocks: needImport,
            [line("need Import x=1", announces: true), data("row"), .dataEnd, line("PING")]),
        FramingCase(
            "  NEED\tIMPORT \"unterminated a=1 a=1\nrow\n.\n", blocks: needImport,
            [line("  NEED\tIMPORT \"unterminated a=1 a=1", announces: true), data("row"), .dataEnd]),
        FramingCase("NEED IMPORTS\nrow\n.\n", blocks: needImport, [line("NEED IMPORTS"), line("row"), line(".")]),
        FramingCase("IMPORT NEED\nNEED\n# NEED IMPORT\n", blocks: needImport, [line("IMPORT NEED"), line("NEED"), line("# NEED IMPORT")]),
        FramingCase("NEED IMPORT\nrow\n.\n", [line("NEED IMPORT"), line("row"), line(".")]),
        FramingCase(
            bytes("NEED IMPORT\n") + [0xFF, 0x00, 0x0D, 0x41, 0x0A] + bytes(".\n"), blocks: needImport,
            [line("NEED IMPORT", announces: true), .dataLine([0xFF, 0x00, 0x0D, 0x41]), .dataEnd]),
        FramingCase(
            "NEED IMPORT\n.\n..\n...\n. \n.x\n x\n.\n", blocks: needImport,
            [line("NEED IMPORT", announces: true), .dataEnd, line(".."), line("..."), line(". "), line(".x"), line(" x"), line(".")]),
        FramingCase(
            "NEED IMPORT\n..\n...\n. \n.\r\n", blocks: needImport,
            [line("NEED IMPORT", announces: true), data("."), data(".."), data(" "), .dataEnd]),
        FramingCase("NEED IMPORT\nrow", blocks: needImport, [line("NEED IMPORT", announces: true), data("row")]),
        FramingCase("NEED IMPORT\nrow\n.", blocks: needImport, [line("NEED IMPORT", announces: true), data("row"), .dataEnd]),
        FramingCase(
            "NEED IMPORT\n.\nNEED IMPORT\nA\n.\n", blocks: needImport,
            [line("NEED IMPORT", announces: true), .dataEnd, line("NEED IMPORT", announces: true), data("A"), .dataEnd]),
        FramingCase(
            "X Y\n123456789\r\nok\n12345678\n.\n", limit: 8, blocks: ["X Y"],
            [line("X Y", announces: true), .dataLineTooLong(length: 9), data("ok"), data("12345678"), .dataEnd]),
        FramingCase("X Y\n123456789", limit: 8, blocks: ["X Y"], [line("X Y", announces: true), .dataLineTooLong(length: 9)]),
        // An announcing line that is too long still owns its block, or the rows would run as commands.
        FramingCase(
            "NEED IMPORT xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nPING\n.\nPING\n", limit: 16, blocks: needImport,
            [.lineTooLong(length: 42), data("PING"), .dataEnd, line("PING")]),
        FramingCase(
            "NEED IMPORT xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", limit: 16, blocks: needImport, [.lineTooLong(length: 42)]),
        // Only the first limit+1 bytes are read for the words, whatever the chunking.
        FramingCase("NEED IMPORT xxxxx\nPING\n", limit: 11, blocks: needImport, [.lineTooLong(length: 17), data("PING")]),
        FramingCase("NEED IMPORTxxxxxx\nPING\n", limit: 11, blocks: needImport, [.lineTooLong(length: 17), line("PING")]),
        FramingCase("NEED IMPORT xxxxx\nPING\n", limit: 10, blocks: needImport, [.lineTooLong(length: 17), line("PING")]),
    ]

    @Test("line endings", arguments: endings)
    func lineEndings(_ example: FramingCase) { expectSameFramesInEveryChunking(example) }

    @Test("line limit", arguments: limits)
    func lineLimit(_ example: FramingCase) { expectSameFramesInEveryChunking(example) }

    @Test("data blocks", arguments: dataBlocks)
    func dataBlock(_ example: FramingCase) { expectSameFramesInEveryChunking(example) }

    /// Whole, byte by byte, split at every point, and in seeded random chunkings.
    private func expectSameFramesInEveryChunking(_ example: FramingCase) {
        let stream = example.stream
        let expect = { (chunkSizes: [Int]) in
            let actual = frames(of: stream, limit: example.limit, blocks: example.blocks, chunkSizes: chunkSizes)
            #expect(actual == example.expected, "chunks \(chunkSizes.prefix(12))")
        }
        expect([max(1, stream.count)])
        expect([1])
        for split in 1..<max(1, stream.count) { expect([split, stream.count]) }
        var random = SplitMix64(seed: UInt64(stream.count))
        for _ in 0..<20 { expect((0..<8).map { _ in Int.random(in: 1...7, using: &random) }) }
    }

    @Test("a very long line across many chunks is discarded with bounded memory")
    func veryLongLine() {
        var framer = LineFramer(maximumLineLength: 1024)
        var random = SplitMix64(seed: 7)
        var sent = 0
        while sent < 1_000_000 {
            let size = Int.random(in: 1...5000, using: &random)
            framer.append(repeatElement(UInt8(ascii: "x"), count: size))
            sent += size
            #expect(framer.next() == nil)
            #expect(framer.bufferedByteCount <= 1025)
        }
        framer.append(bytes("\r\nPING\n"))
        #expect(framer.next() == .lineTooLong(length: sent))
        #expect(framer.next() == line("PING"))
        #expect(framer.next() == nil)
        #expect(framer.finish() == nil)
    }

    @Test("10,000 pipelined lines in one write")
    func pipelined() {
        var framer = LineFramer(dataBlockCommands: needImport)
        let stream = (0..<10_000).map { "PING \($0)\r\n" }.joined()
        framer.append(bytes(stream))
        var count = 0
        while let frame = framer.next() {
            #expect(frame == line("PING \(count)"))
            count += 1
        }
        #expect(count == 10_000)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("a limit near Int.max frames normally")
    func hugeLimit() {
        #expect(frames(of: bytes("PING\r\nX"), limit: Int.max - 1, chunkSizes: [1]) == [line("PING"), line("X")])
    }

        @Test("state: isInDataBlock and bufferedByteCount")
    func state() {
        var framer = LineFramer(maximumLineLength: 8, dataBlockCommands: ["X Y"])
        framer.append(bytes("X Y\nro"))
        #expect(!framer.isInDataBlock)
        #expect(framer.next() == line("X Y", announces: true))
        #expect(framer.isInDataBlock)
        #expect(framer.bufferedByteCount == 2)
        #expect(framer.next() == nil)
        framer.append(bytes("w\n.\n"))
        #expect(framer.next() == data("row"))
        #expect(framer.isInDataBlock)
        #expect(framer.next() == .dataEnd)
        #expect(!framer.isInDataBlock)
        #expect(framer.bufferedByteCount == 0)
    }

    /// Random streams over the tokens that matter, against a line-at-a-time model of the rules.
    @Test("random streams match the model in random chunkings", arguments: 0..<40)
    func randomStreams(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let tokens = ["\n", "\r", "\r\n", ".", "..", " ", "\t", "x", "#", "NEED", "IMPORT", "need import", "NEED IMPORT ", "xxxxxxxxxxxxxxxx", "\u{0}", "é"]
        let stream = bytes((0..<Int.random(in: 0...120, using: &random)).map { _ in tokens.randomElement(using: &random)! }.joined())
        let limit = Int.random(in: 1...24, using: &random)
        let expected = model(stream, limit: limit, blocks: needImport)
        #expect(frames(of: stream, limit: limit, blocks: needImport) == expected)
        #expect(frames(of: stream, limit: limit, blocks: needImport, chunkSizes: [1]) == expected)
        for _ in 0..<5 {
            let sizes = (0..<10).map { _ in Int.random(in: 1...30, using: &random) }
            #expect(frames(of: stream, limit: limit, blocks: needImport, chunkSizes: sizes) == expected)
        }
    }

    /// The framing rules, one whole line at a time.
    private func model(_ stream: [UInt8], limit: Int, blocks: Set<String>) -> [LineFramer.Frame] {
        var pieces = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        if pieces.last == [] { pieces.removeLast() }
        var inBlock = false
        var out: [LineFramer.Frame] = []
        for var piece in pieces {
            if piece.last == UInt8(ascii: "\r") { piece.removeLast() }
            let announces = { (text: ArraySlice<UInt8>) -> Bool in
                guard let (verb, subverb) = CommandParser.leadingWords(text), let subverb else { return false }
                return blocks.contains("\(verb) \(subverb)")
            }
            if piece.count > limit {
                if inBlock {
                    out.append(.dataLineTooLong(length: piece.count))
                } else {
                    let head = piece.prefix(limit + 1)
                    let lastBlank = head.lastIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                    inBlock = lastBlank.map { announces(head[..<$0]) } ?? false
                    out.append(.lineTooLong(length: piece.count))
                }
            } else if inBlock {
                if piece == [UInt8(ascii: ".")] {
                    inBlock = false
                    out.append(.dataEnd)
                } else {
                    out.append(.dataLine(piece.first == UInt8(ascii: ".") ? Array(piece.dropFirst()) : piece))
                }
            } else {
                inBlock = announces(piece[...])
                out.append(.line(piece, announcesDataBlock: inBlock))
            }
        }
        return out
    }
}
