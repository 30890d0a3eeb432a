/// New access-token secrets: 160 random bits from the system's CSPRNG (getrandom on Linux),
/// hex-encoded behind a prefix that makes a leaked token easy to recognise in logs and scans.
public enum TokenSecret {
    public static let prefix = "ewm_"

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = prefix
        for _ in 0..<20 {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return text
    }

    /// A cheap shape check before any database work: malformed secrets fail fast.
    public static func isWellFormed(_ text: String) -> Bool {
        text.hasPrefix(prefix) && text.utf8.count == prefix.utf8.count + 40
            && text.utf8.dropFirst(prefix.utf8.count).allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }
}
