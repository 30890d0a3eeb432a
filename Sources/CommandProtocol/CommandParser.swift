/// Turns one request line (its bytes, without the line ending) into a `Request`.
///
/// Pure and total: every input either parses or yields a `ProtocolError`; nothing traps. That is
/// what lets libFuzzer hammer it (see Tests/Fuzz).
///
/// Grammar (v1):
/// - words are separated by spaces or tabs; the first word is the verb (case-insensitive);
/// - `key=value` is an option (key: a letter or `_`, then letters, digits, `_`, `-`, `.`;
///   case-insensitive); any other word is positional;
/// - `"…"` quotes a positional word or, right after `key=`, an option value; inside quotes
///   `\"` `\\` `\n` `\t` `\r` and `\xHH` (an ASCII character 01–7F by its hex code, so that
///   every storable text has a written form) are the only escapes; a closing quote ends the word;
/// - blank lines and lines whose first non-blank character is `#` are ignored.
public enum CommandParser {
    public enum Parsed: Sendable, Equatable {
        case ignored
        case request(Request)
    }

    public static func parse(_ line: some Collection<UInt8>) -> Result<Parsed, ProtocolError> {
        let bytes = Array(line)
        if let problem = encodingProblem(bytes) {
            return .failure(problem)
        }
        var scanner = Scanner(bytes: bytes)
        scanner.skipBlanks()
        if scanner.atEnd || scanner.peek == UInt8(ascii: "#") {
            return .success(.ignored)
        }
        do throws(ProtocolError) {
            guard let verbWord = try scanner.nextWord() else { return .success(.ignored) }
            guard case .bare(let verb) = verbWord, isVerb(verb) else {
                return .failure(ProtocolError(.badSyntax, "a line must start with a command word; HELP lists them"))
            }
            var request = Request(verb: asciiUppercased(verb))
            while let word = try scanner.nextWord() {
                switch word {
                case .quoted(let value):
                    request.words.append(value)
                case .bare(let text):
                    if let (key, value) = splitOption(text) {
                        try request.addOption(key, value)
                    } else {
                        request.words.append(text)
                    }
                case .option(let key, let value):
                    try request.addOption(key, value)
                }
            }
            return .success(.request(request))
        } catch {
            return .failure(error)
        }
    }

    /// The first two words, upper-cased, when they are plain words: enough to know whether a
    /// line announces a data block even when the rest of it is malformed.
    public static func leadingWords(_ line: some Collection<UInt8>) -> (String, String?)? {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in line {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                if !current.isEmpty {
                    words.append(String(decoding: current, as: UTF8.self))
                    current = []
                    if words.count == 2 { break }
                }
                continue
            }
            current.append(byte)
        }
        if !current.isEmpty && words.count < 2 { words.append(String(decoding: current, as: UTF8.self)) }
        guard let first = words.first, isVerb(first) else { return nil }
        let second = words.count > 1 && isVerb(words[1]) ? asciiUppercased(words[1]) : nil
        return (asciiUppercased(first), second)
    }

    /// A first line like `GET / HTTP/1.1` or `Host: …` means a browser or an SSRF is talking to us.
    /// Compared as ASCII bytes: `String` would merge a following combining mark into the last
    /// character and miss the match.
    public static func looksLikeHTTP(_ line: some Collection<UInt8>) -> Bool {
        let upper = line.prefix(256).map { isLetter($0) ? $0 & ~0x20 : $0 }
        if upper.starts(with: "HOST:".utf8) { return true }
        guard let space = upper.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let methods = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PRI"]
        guard methods.contains(where: { upper[..<space].elementsEqual($0.utf8) }) else { return false }
        let rest = upper[(space + 1)...]
        return rest.starts(with: "/".utf8) || rest.starts(with: "HTTP".utf8) || rest.starts(with: "*".utf8)
            || rest.indices.contains { rest[$0...].starts(with: " HTTP/".utf8) }
    }

    static func encodingProblem(_ bytes: [UInt8]) -> ProtocolError? {
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case 0:
                return ProtocolError(.badEncoding, "NUL byte at column \(offset + 1)")
            case UInt8(ascii: "\r"):
                return ProtocolError(.badEncoding, "bare carriage return at column \(offset + 1); lines end with \\n or \\r\\n")
            case UInt8(ascii: "\t"):
                continue
            case 1..<32, 127:
                return ProtocolError(.badEncoding, "control character 0x\(hex(byte)) at column \(offset + 1)")
            default:
                continue
            }
        }
        if String(validating: bytes, as: UTF8.self) == nil {
            return ProtocolError(.badEncoding, "the line is not valid UTF-8")
        }
        return nil
    }

    static func isVerb(_ word: String) -> Bool {
        guard let first = word.utf8.first, isLetter(first) else { return false }
        return word.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isOptionKey<C: Collection<UInt8>>(_ key: C) -> Bool {
        guard let first = key.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return key.allSatisfy {
            isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    private static func splitOption(_ word: String) -> (String, String)? {
        let utf8 = Array(word.utf8)
        guard let equals = utf8.firstIndex(of: UInt8(ascii: "=")), equals > 0 else { return nil }
        let key = utf8[..<equals]
        guard isOptionKey(key) else { return nil }
        return (asciiLowercased(String(decoding: key, as: UTF8.self)), String(decoding: utf8[(equals + 1)...], as: UTF8.self))
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}

@inlinable public func asciiUppercased(_ text: some StringProtocol) -> String {
    asciiCaseToggled(text, UInt8(ascii: "a")...UInt8(ascii: "z"))
}

@inlinable public func asciiLowercased(_ text: some StringProtocol) -> String {
    asciiCaseToggled(text, UInt8(ascii: "A")...UInt8(ascii: "Z"))
}

/// `text` with its `letters` in the other case (ASCII letters differ by one bit). Most words are
/// already in the case asked for (an import lowercases a kind every row): those are returned
/// without building a new string.
@inlinable func asciiCaseToggled(_ text: some StringProtocol, _ letters: ClosedRange<UInt8>) -> String {
    guard text.utf8.contains(where: letters.contains) else { return String(text) }
    return String(decoding: text.utf8.map { letters.contains($0) ? $0 ^ 0x20 : $0 }, as: UTF8.self)
}

extension Request {
    fileprivate mutating func addOption(_ key: String, _ value: String) throws(ProtocolError) {
        if options.contains(where: { $0.key == key }) {
            throw ProtocolError(.badSyntax, "option '\(key)' given twice")
        }
        options.append(RequestOption(key, value))
    }
}

private struct Scanner {
    enum Word {
        case bare(String)
        case quoted(String)
        case option(key: String, value: String)
    }

    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8 { bytes[index] }

    mutating func skipBlanks() {
        while !atEnd, peek == UInt8(ascii: " ") || peek == UInt8(ascii: "\t") { index += 1 }
    }

    mutating func nextWord() throws(ProtocolError) -> Word? {
        skipBlanks()
        guard !atEnd else { return nil }
        if peek == UInt8(ascii: "\"") {
            return .quoted(try quoted())
        }
        let start = index
        while !atEnd, peek != UInt8(ascii: " "), peek != UInt8(ascii: "\t") {
            if peek == UInt8(ascii: "\"") {
                let prefix = bytes[start..<index]
                guard prefix.last == UInt8(ascii: "="), prefix.dropLast().firstIndex(of: UInt8(ascii: "=")) == nil,
                    CommandParser.isOptionKey(prefix.dropLast())
                else {
                    throw ProtocolError(.badSyntax, "unexpected quote at column \(index + 1); quote a whole word or a value after key=")
                }
                let key = asciiLowercased(String(decoding: prefix.dropLast(), as: UTF8.self))
                return .option(key: key, value: try quoted())
            }
            index += 1
        }
        return .bare(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    /// Reads `"…"` starting at the opening quote; the closing quote must end the word.
    private mutating func quoted() throws(ProtocolError) -> String {
        let opening = index
        index += 1
        var value: [UInt8] = []
        while !atEnd {
            let byte = peek
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                if !atEnd, peek != UInt8(ascii: " "), peek != UInt8(ascii: "\t") {
                    throw ProtocolError(.badSyntax, "a closing quote must be followed by a space or the end of the line (column \(index + 1))")
                }
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard !atEnd else { break }
                let escaped = peek
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "x"): value.append(try hexEscape())
                default:
                    throw ProtocolError(
                        .badSyntax,
                        "unknown escape \\\(String(decoding: [escaped], as: UTF8.self)) at column \(index - 1); use \\\" \\\\ \\n \\t \\r \\xHH")
                }
            default:
                value.append(byte)
            }
        }
        throw ProtocolError(.badSyntax, "unterminated quote starting at column \(opening + 1)")
    }

    /// The two hex digits after `\x`. NUL is refused because no stored text can hold it, and bytes
    /// over 7F because they would not be UTF-8 on their own; such characters are written as UTF-8.
    private mutating func hexEscape() throws(ProtocolError) -> UInt8 {
        let column = index - 1
        guard index + 2 <= bytes.count, let high = Self.hexValue(bytes[index]), let low = Self.hexValue(bytes[index + 1]),
            case let code = high << 4 | low, code > 0, code < 0x80
        else {
            throw ProtocolError(.badSyntax, "\\x at column \(column) needs two hex digits from 01 to 7F")
        }
        index += 2
        return code
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
