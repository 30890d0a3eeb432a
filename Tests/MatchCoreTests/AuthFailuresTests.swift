@testable import MatchCore
import Testing

@Suite("Failed AUTHs per client address")
struct AuthFailuresTests {
    @Test func anAddressIsBlockedAfterItsFailuresUntilTheWindowEnds() {
        let failures = AuthFailures(limit: 2, window: .seconds(60))
        let start = ContinuousClock.now
        #expect(failures.record("10.0.0.1", now: start) == 1)
        #expect(!failures.isBlocked("10.0.0.1", now: start))
        #expect(failures.record("10.0.0.1", now: start + .seconds(1)) == 2)
        #expect(failures.isBlocked("10.0.0.1", now: start + .seconds(2)))
        #expect(!failures.isBlocked("10.0.0.2", now: start + .seconds(2)))
        #expect(!failures.isBlocked("10.0.0.1", now: start + .seconds(61)))
        #expect(failures.record("10.0.0.1", now: start + .seconds(61)) == 1)
    }
}
