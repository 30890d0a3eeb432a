import Metrics
import Synchronization

/// Group commit for small writes from many connections: concurrent submissions are written
/// together, one transaction and a handful of round trips per group instead of per write, and
/// each caller is answered only after its group has committed.
///
/// While a group is being written, the next one gathers; up to `concurrentGroups` groups are in
/// flight at once.
final class WriteCombiner<Item: Sendable, Output: Sendable>: Sendable {
    typealias WriteGroup = @Sendable ([Item]) async throws -> [Result<Output, any Error>]

    private struct Pending {
        var item: Item
        var continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var running = 0
    }

    private let state = Mutex(State())
    private let write: WriteGroup
    private let concurrentGroups: Int
    private let maximumGroup: Int
    private let groupSizes: Recorder?

    /// `write` gets a group and returns one result per item, in order; if it throws, every item of
    /// the group fails with that error (the group's transaction stored nothing). `groupSizes`
    /// records how many items each group wrote.
    init(concurrentGroups: Int = 4, maximumGroup: Int = 256, groupSizes: Recorder? = nil, write: @escaping WriteGroup) {
        self.concurrentGroups = concurrentGroups
        self.maximumGroup = maximumGroup
        self.groupSizes = groupSizes
        self.write = write
    }

    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.queue.append(Pending(item: item, continuation: continuation))
                guard state.running < concurrentGroups else { return false }
                state.running += 1
                return true
            }
            if start {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let group = state.withLock { state -> [Pending] in
                let taken = Array(state.queue.prefix(maximumGroup))
                state.queue.removeFirst(taken.count)
                if taken.isEmpty { state.running -= 1 }
                return taken
            }
            guard !group.isEmpty else { return }
            groupSizes?.record(group.count)
            do {
                let results = try await write(group.map(\.item))
                for (pending, result) in zip(group, results) { pending.continuation.resume(with: result) }
            } catch {
                for pending in group { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
