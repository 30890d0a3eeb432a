import CommandProtocol

/// `req=<key>` on NEED ADD, OFFER ADD and the imports: a client that got no answer (a broken
/// connection, `OUTCOME_UNKNOWN`) sends the same line again, and within the window the retry is
/// answered with what the first one stored instead of storing it twice.
enum ClientRequests {
    static let windowHours = 24
    static let option = "req"

    /// The key, if the request has one: 1 to 64 letters, digits and `.`, `_`, `:`, `-`.
    static func key(_ request: Request) throws(ProtocolError) -> String? {
        guard let key = request.option(option) else { return nil }
        let allowed = key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || ".:_-".utf8.contains(byte)
        }
        guard (1...64).contains(key.utf8.count), allowed else {
            throw ProtocolError(.badArg, "req: give 1 to 64 letters, digits or . _ : - (a key of your own for this request)")
        }
        return key
    }

    /// The id an earlier request with the key stored under `noun` (`need`, `offer`); a key used
    /// for something else is a conflict.
    static func storedID(_ earlier: EarlierRequest, noun: String, key: String) throws(ProtocolError) -> Int64 {
        guard earlier.target.hasPrefix(noun + ":"), let id = Int64(earlier.target.dropFirst(noun.count + 1)) else {
            throw ProtocolError(.conflict, "req=\(key) was used for \(earlier.target) within \(windowHours) h; choose another key")
        }
        return id
    }

    static func remember(_ stored: EarlierRequest, token: Int64, key: String, in db: Gateways) throws {
        guard try db.requests.remember(token: token, key: key, stored, withinHours: windowHours) else {
            throw ProtocolError(.conflict, "req=\(key) is being carried out by another connection; send it again to get its answer")
        }
    }
}
