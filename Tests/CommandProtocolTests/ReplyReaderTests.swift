import CommandProtocol
import Testing

@Suite("ReplyReader")
struct ReplyReaderTests {
    /// Replies whose texts need no escaping, so reading gives back exactly what was rendered.
    static let replies: [(Reply, ReceivedReply)] = [
        (.ok("PONG"), .ok("PONG")),
        (.ok(""), .ok("")),
        (.ok("ewmatch 0.1.0 protocol=1 ready; HELP lists commands"), .ok("ewmatch 0.1.0 protocol=1 ready; HELP lists commands")),
        (.ok("两个 words\t"), .ok("两个 words\t")),
        (.ok(" \u{301}mark"), .ok(" \u{301}mark")),
        (.ok("12abc is no count"), .ok("12abc is no count")),
        (.error(.badArg, "limit: must be 1 to 500"), .error(code: "BAD_ARG", text: "limit: must be 1 to 500")),
        (.error(.internal, ""), .error(code: "INTERNAL", text: "")),
        (.lines(header: "needs", []), .records(header: "needs", [])),
        (.lines(header: "", ["a"]), .records(header: "", ["a"])),
        (.lines(header: "h next=5", [".", "..", ".x", "x.", "", " .", "OK 3", "ERR X"]),
         .records(header: "h next=5", [".", "..", ".x", "x.", "", " .", "OK 3", "ERR X"])),
        (.lines(header: "h", [".\u{301}x"]), .records(header: "h", [".\u{301}x"])),
        // Found by the fuzzer: a text record that looks like a JSON header is still a record.
        (.lines(header: "notes csv", [#"{"ok":true,"records":2"#, "x"]), .records(header: "notes csv", [#"{"ok":true,"records":2"#, "x"])),
    ]

    @Test("reads back what Reply renders, however the bytes are split", arguments: 0..<40)
    func roundTrip(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let wire = Self.replies.flatMap { Array($0.0.rendered(as: .text).utf8) }
        var reader = ReplyReader()
        var read: [ReceivedReply] = []
        var offset = 0
        while offset < wire.count {
            let size = Int.random(in: 1...max(1, seed), using: &random)
            reader.append(wire[offset..<min(wire.count, offset + size)])
            offset += size
            while let reply = try reader.next() { read.append(reply) }
        }
        #expect(read == Self.replies.map(\.1))
        #expect(!reader.isInsideReply)
    }

    @Test("reads FORMAT json replies: one object, or a header counting the objects after it")
    func json() throws {
        let replies: [Reply] = [
            .ok("PONG"), .error(.busy, "later"), .lines(header: "needs csv", ["a", "b"]), .lines(header: "none", []),
            .record(Record([("id", .integer(3))])),
        ]
        var reader = ReplyReader()
        reader.append(replies.flatMap { Array($0.rendered(as: .json).utf8) })
        var read: [ReceivedReply] = []
        while let reply = try reader.next() { read.append(reply) }
        #expect(read.count == replies.count)
        guard read.count == 5 else { return }
        #expect(read[1].errorCode == .busy)
        guard case .json(let header, let lines) = read[2] else {
            Issue.record("not a JSON multi-line reply: \(read[2])")
            return
        }
        #expect(header.hasPrefix(#"{"ok":true,"records":2"#) && lines == [#"{"line":"a"}"#, #"{"line":"b"}"#])
        #expect(read[3] == .json(replies[3].rendered(as: .json).split(separator: "\n").map(String.init)[0], []))
        #expect(!reader.isInsideReply)
    }

    @Test("the first line is the one sent")
    func firstLine() {
        for (reply, received) in Self.replies {
            #expect(received.firstLine + "\n" == reply.rendered(as: .text).split(separator: "\n", omittingEmptySubsequences: false)[0] + "\n")
        }
    }

    @Test("escapes stay as sent: a reply is one line")
    func escapes() throws {
        var reader = ReplyReader()
        reader.append(Reply.error(.badSyntax, "two\nlines").rendered(as: .text).utf8)
        #expect(try reader.next() == .error(code: "BAD_SYNTAX", text: "two\\nlines"))
    }

    @Test("a code this client does not know is kept")
    func unknownCode() throws {
        var reader = ReplyReader()
        reader.append("ERR FROM_THE_FUTURE later\nERR BUSY now\n".utf8)
        let future = try #require(try reader.next())
        #expect(future == .error(code: "FROM_THE_FUTURE", text: "later") && future.errorCode == nil)
        #expect(try reader.next()?.errorCode == .busy)
    }

    @Test("lines one at a time", arguments: [["OK 2 h", "a", "..b"], ["OK 0 h"]])
    func lines(_ lines: [String]) throws {
        var reader = ReplyReader()
        for line in lines { #expect(try reader.take(line: line.utf8) == nil) }
        #expect(reader.isInsideReply)
        let reply = try reader.take(line: ".".utf8)
        #expect(reply == .records(header: "h", lines.dropFirst().map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }))
    }

    @Test("what no server sends is refused", arguments: ["HELLO\n", "ok PONG\n", "ERR \n", "OK 1 h\na\nb\n", "OK 0\nx\n"])
    func malformed(_ wire: String) {
        var reader = ReplyReader()
        reader.append(wire.utf8)
        #expect(throws: ReplyReader.Malformed.self) {
            while try reader.next() != nil {}
        }
    }

    @Test("a reply cut short is still open")
    func cutShort() throws {
        var reader = ReplyReader()
        reader.append("OK 2 h\na\n".utf8)
        #expect(try reader.next() == nil)
        #expect(reader.isInsideReply)
    }
}
