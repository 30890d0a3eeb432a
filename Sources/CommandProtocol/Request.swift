/// One parsed request line: `VERB word… key=value…`.
public struct Request: Sendable, Equatable {
    /// Upper-cased, so verbs are case-insensitive.
    public var verb: String
    /// Positional words after the verb, in order, unquoted.
    public var words: [String]
    /// `key=value` options in the order given; keys are lower-cased and unique.
    public var options: [RequestOption]

    public init(verb: String, words: [String] = [], options: [RequestOption] = []) {
        self.verb = verb
        self.words = words
        self.options = options
    }

    public func option(_ key: String) -> String? {
        options.first { $0.key == key }?.value
    }
}

public struct RequestOption: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
