import CommandProtocol

/// Typed access to a request's options and words; every refusal is a BAD_ARG naming the field.
extension Request {
    func text(_ key: String, maxLength: Int = 200) throws(ProtocolError) -> String? {
        guard let value = option(key) else { return nil }
        guard value.count <= maxLength else {
            throw ProtocolError(.badArg, "\(key) is longer than \(maxLength) characters")
        }
        return value
    }

    func requiredText(_ key: String, maxLength: Int = 200) throws(ProtocolError) -> String {
        guard let value = try text(key, maxLength: maxLength), !value.trimmingSpaces.isEmpty else {
            throw ProtocolError(.badArg, "\(key)= is required")
        }
        return value.trimmingSpaces
    }

    func flag(_ key: String) throws(ProtocolError) -> Bool? {
        guard let value = option(key) else { return nil }
        switch asciiLowercased(value) {
        case "yes", "true", "1", "y": return true
        case "no", "false", "0", "n": return false
        default: throw ProtocolError(.badArg, "\(key) must be yes or no, not '\(value)'")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ProtocolError) -> T?
    where T.RawValue == String {
        guard let value = option(key) else { return nil }
        guard let parsed = T(rawValue: asciiLowercased(value)) else {
            throw ProtocolError(
                .badArg, "\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: "|")), not '\(value)'")
        }
        return parsed
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64? {
        guard let value = option(key) else { return nil }
        guard let number = Int64(wholeNumber: value), range.contains(number) else {
            throw ProtocolError(.badArg, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
        }
        return number
    }

    /// Positional word `index` as a record id.
    func id(at index: Int, name: String) throws(ProtocolError) -> Int64 {
        guard index < words.count else { throw ProtocolError(.badArg, "missing \(name)") }
        guard let id = Int64(wholeNumber: words[index]), id > 0 else {
            throw ProtocolError(.badArg, "\(name) must be a positive whole number, not '\(words[index])'")
        }
        return id
    }

    /// The options that were given, as audit changes.
    func changes(_ keys: [String]) -> [(String, String)] {
        keys.compactMap { key in option(key).map { (key, $0) } }
    }
}

extension FixedWidthInteger {
    /// A whole number as a request or a file writes it: ASCII digits after at most a minus sign.
    /// Swift's own parser also takes a plus sign (`+3`), which no documented value has.
    init?(wholeNumber text: some StringProtocol) {
        var digits = 0
        for (index, byte) in text.utf8.enumerated() {
            if index == 0 && byte == UInt8(ascii: "-") { continue }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.init(text, radix: 10)
    }
}

extension String {
    var trimmingSpaces: String {
        // Most values have nothing to trim: skip the copy (an import does this ten times a row).
        guard let first = unicodeScalars.first, let last = unicodeScalars.last, first.isSpace || last.isSpace else { return self }
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}

extension Unicode.Scalar {
    /// Unicode's White_Space, without the property table where it cannot hold: no White_Space
    /// scalar lies above U+3000 (the ideographic space), where Chinese text is.
    fileprivate var isSpace: Bool {
        value < 0x80 ? value == 0x20 || (0x09...0x0D).contains(value) : value <= 0x3000 && properties.isWhitespace
    }
}
