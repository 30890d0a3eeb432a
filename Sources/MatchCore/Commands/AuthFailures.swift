import Synchronization

/// Failed AUTHs per client address, across all of its connections: a guesser that opens many
/// connections, or signs in with a good token in between, is still counted. Each address gets
/// `limit` failures per `window`; past them its AUTHs are refused unchecked until the window ends.
final class AuthFailures: Sendable {
    private struct Count {
        var failures: Int
        var since: ContinuousClock.Instant
    }

    let limit: Int
    let window: Duration
    private let counts = Mutex<[String: Count]>([:])
    /// Addresses remembered at most; past it, expired counts are dropped first.
    private static let capacity = 65_536

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Whether the address has used up its failures for now.
    func isBlocked(_ address: String, now: ContinuousClock.Instant = .now) -> Bool {
        counts.withLock { counts in
            guard let count = counts[address], now - count.since < window else { return false }
            return count.failures >= limit
        }
    }

    /// Counts one failure; returns the address's failures in the current window.
    func record(_ address: String, now: ContinuousClock.Instant = .now) -> Int {
        counts.withLock { counts in
            if counts.count >= Self.capacity {
                counts = counts.filter { now - $0.value.since < window }
                if counts.count >= Self.capacity { counts.removeAll() }
            }
            var count = counts[address].flatMap { now - $0.since < window ? $0 : nil } ?? Count(failures: 0, since: now)
            count.failures += 1
            counts[address] = count
            return count.failures
        }
    }
}
