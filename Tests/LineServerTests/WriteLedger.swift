import Foundation
import Synchronization
import Testing
import TestSupport

/// Writers that keep a ledger of what they were told while `outage` takes the database away and
/// brings it back: the outage tests prove with it that every write acknowledged `OK` is stored,
/// none answered `UNAVAILABLE` is, and the first command sent once the database is back succeeds.
struct WriteLedger: Sendable {
    var acknowledged: [String] = []
    var refused: [String] = []
    var unknown: [String] = []
    var firstAfterOutage: String?

    /// Runs `writers` clients, each adding needs one after the other, with `outage` started once
    /// all have signed in and written for a while; returns once every writer has written more
    /// than 40 needs after the outage ended (or 30 s have passed).
    static func write(
        port: Int, token: String, writers: Int, outage: @escaping @Sendable () async throws -> Void
    ) async throws -> [WriteLedger] {
        final class Phase: Sendable {
            /// 0 running, 1 in the outage, 2 back.
            let value = Atomic(0)
            let writersReady = Atomic(0)
        }
        let phase = Phase()
        return try await withThrowingTaskGroup(of: WriteLedger.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var ledger = WriteLedger()
                    let (client, _) = try await LineClient.connectReady(port: port)
                    let auth = try await client.request("AUTH \(token)")
                    phase.writersReady.add(1, ordering: .relaxed)
                    guard auth.hasPrefix("OK ") else {
                        Issue.record("AUTH before the outage: \(auth)")
                        return ledger
                    }
                    let deadline = ContinuousClock.now + .seconds(30)
                    for index in 0..<10_000 where ContinuousClock.now < deadline {
                        let sentIn = phase.value.load(ordering: .relaxed)
                        if sentIn == 2 && ledger.firstAfterOutage != nil && ledger.acknowledged.count > 40 { break }
                        let note = "w\(writer)-\(index)"
                        let reply = try await client.request(
                            "NEED ADD county=520204 kind=labor occupations=6-01 qty=1 from=2027-01-01 to=2027-02-01 note=\(note)")
                        if sentIn == 2 && ledger.firstAfterOutage == nil { ledger.firstAfterOutage = reply }
                        if reply.hasPrefix("OK id=") {
                            ledger.acknowledged.append(note)
                        } else if reply.hasPrefix("ERR UNAVAILABLE ") {
                            ledger.refused.append(note)
                        } else if reply.hasPrefix("ERR OUTCOME_UNKNOWN ") {
                            ledger.unknown.append(note)
                        } else {
                            Issue.record("unexpected reply \(reply)")
                        }
                        if sentIn == 1 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    await client.close()
                    return ledger
                }
            }
            for _ in 0..<600 where phase.writersReady.load(ordering: .relaxed) < writers {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(700))
            phase.value.store(1, ordering: .relaxed)
            try await outage()
            phase.value.store(2, ordering: .relaxed)
            var ledgers: [WriteLedger] = []
            for try await ledger in group { ledgers.append(ledger) }
            return ledgers
        }
    }

    /// The ledgers against the notes of the needs the database holds afterwards.
    static func check(_ ledgers: [WriteLedger], stored: Set<String>) {
        let acknowledged = ledgers.flatMap(\.acknowledged)
        let refused = ledgers.flatMap(\.refused)
        #expect(acknowledged.count > 100, "the writers wrote: \(acknowledged.count)")
        #expect(!refused.isEmpty, "the outage refused no write: the test did not cover it")
        #expect(acknowledged.filter { !stored.contains($0) }.isEmpty, "acknowledged but lost")
        #expect(refused.filter { stored.contains($0) }.isEmpty, "answered UNAVAILABLE but stored")
        for ledger in ledgers {
            #expect(ledger.firstAfterOutage?.hasPrefix("OK id=") == true, "first write after the outage: \(ledger.firstAfterOutage ?? "none")")
        }
    }
}
