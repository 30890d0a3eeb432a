import MetricsTestKit
import PostgresStore
import ServiceLifecycle
import Testing
import TestSupport

/// What the pool records, read back through swift-metrics' own test factory.
@Suite("Pool metrics", .timeLimit(.minutes(1)))
struct PoolMetricsTests {
    /// Waits (polling) until the gauge has a value, for at most 30 s.
    static func value(of label: String, in metrics: TestMetrics) async throws -> Double? {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let value = try? metrics.expectGauge(label).lastValue { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test func theRunningPoolsProbeTellsWhetherPostgreSQLAnswersWithoutAnyWork() async throws {
        try await TestDatabase.with { database in
            let upMetrics = TestMetrics()
            let downMetrics = TestMetrics()
            let up = ConnectionPool(
                conninfo: database.conninfo, size: 1, logger: testLogger, metrics: upMetrics, probeInterval: .milliseconds(50))
            let down = ConnectionPool(
                conninfo: "host=/nonexistent-ewmatch-socket-directory", size: 1, logger: testLogger, metrics: downMetrics,
                probeInterval: .milliseconds(50))
            let group = ServiceGroup(configuration: .init(services: [up, down], gracefulShutdownSignals: [], logger: testLogger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await Self.value(of: "ewmatch_postgres_reachable", in: upMetrics) == 1)
                #expect(try await Self.value(of: "ewmatch_postgres_reachable", in: downMetrics) == 0)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func leasesAndWaitersAreGauged() async throws {
        let metrics = TestMetrics()
        try await TestDatabase.with(poolSize: 1, metrics: metrics) { database in
            let pool = database.pool
            let held = try await pool.lease(long: false)
            #expect(try metrics.expectGauge("ewmatch_pool_connections_in_use").lastValue == 1)
            let waiter = Task { try await pool.withConnection { _ in () } }
            while try metrics.expectGauge("ewmatch_pool_waiting").lastValue != 1 { try await Task.sleep(for: .milliseconds(10)) }
            pool.release(held)
            try await waiter.value
            #expect(try metrics.expectGauge("ewmatch_pool_waiting").lastValue == 0)
            #expect(try metrics.expectGauge("ewmatch_pool_connections_in_use").lastValue == 0)
        }
    }
}
