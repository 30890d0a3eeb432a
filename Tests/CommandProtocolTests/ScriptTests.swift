import CommandProtocol
import Testing

/// The framer and the parser together, as a server sees a piped script.
@Suite("Framer and parser together")
struct ScriptTests {
    enum Outcome: Equatable {
        case request(String, [String], [RequestOption])
        case ignored
        case error(ErrorCode)
        case data(String)
        case dataEnd
    }

    @Test("a CRLF script with comments, an over-long line and a data block")
    func script() {
        let script = [
            "# setup script, saved on Windows",
            "",
            "auth \"tok en\"",
            "NEED note=\"两个 words\" qty=3",
            "SAY " + String(repeating: "x", count: 100),
            "PING",
            "NEED IMPORT \"oops",
            "PING",
            "# still data",
            "..dotted",
            ".",
            "QUIT",
        ].joined(separator: "\r\n") + "\r\n"
        let expected: [Outcome] = [
            .ignored, .ignored,
            .request("AUTH", ["tok en"], []),
            .request("NEED", [], [RequestOption("note", "两个 words"), RequestOption("qty", "3")]),
            .error(.lineTooLong),
            .request("PING", [], []),
            .error(.badSyntax), .data("PING"), .data("# still data"), .data(".dotted"), .dataEnd,
            .request("QUIT", [], []),
        ]
        var random = SplitMix64(seed: 42)
        for chunking in [[script.utf8.count], [1], (0..<16).map { _ in Int.random(in: 1...40, using: &random) }] {
            let outcomes = frames(of: bytes(script), limit: 64, blocks: ["NEED IMPORT"], chunkSizes: chunking).map(outcome)
            #expect(outcomes == expected, "chunks \(chunking)")
        }
    }

    private func outcome(_ frame: LineFramer.Frame) -> Outcome {
        switch frame {
        case .line(let line, _):
            switch CommandParser.parse(line) {
            case .success(.ignored): return .ignored
            case .success(.request(let request)): return .request(request.verb, request.words, request.options)
            case .failure(let error): return .error(error.code)
            }
        case .lineTooLong: return .error(.lineTooLong)
        case .dataLine(let data): return .data(String(decoding: data, as: UTF8.self))
        case .dataLineTooLong: return .error(.lineTooLong)
        case .dataEnd: return .dataEnd
        }
    }
}
