import EWMatchService
import Foundation
import Testing
import TestSupport

/// The metrics endpoint over real HTTP: after a client's commands, a scrape counts exactly those
/// commands. Each test's server records into a registry of its own, so parallel tests do not mix.
@Suite("Prometheus metrics")
struct MetricsTests {
    @Test func aScrapeCountsTheCommandsJustSent() async throws {
        let metrics = ServiceMetrics()
        try await TestDatabase.with(metrics: metrics.factory) { database in
            let admin = try await database.adminToken()
            try await TestServer.withMetrics(pool: database.pool, metrics: metrics) { port, metricsPort in
                let client = try await LineClient.signedIn(port: port, token: admin)
                for _ in 0..<3 { #expect(try await client.request("PING") == "OK PONG") }
                #expect(try await client.request("NEED SHOW 99").hasPrefix("ERR NOT_FOUND "))
                #expect(try await client.request("FROBNICATE now").hasPrefix("ERR UNKNOWN_COMMAND "))
                #expect(try await client.request("ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市").hasPrefix("OK "))
                #expect(try await client.request("OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31").hasPrefix("OK "))
                #expect(
                    try await client.request("NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30")
                        .hasPrefix("OK "))
                #expect(try await client.request("MATCH RUN").hasPrefix("OK run=1 "))

                let (status, headers, samples) = try await MetricsScrape.get(port: metricsPort)
                #expect(status == "HTTP/1.1 200 OK")
                #expect(headers.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "\(headers)")
                let expected: [String: Double] = [
                    #"ewmatch_commands_total{verb="AUTH",code="OK"}"#: 1,
                    #"ewmatch_commands_total{verb="PING",code="OK"}"#: 3,
                    #"ewmatch_commands_total{verb="NEED SHOW",code="NOT_FOUND"}"#: 1,
                    #"ewmatch_commands_total{verb="-",code="UNKNOWN_COMMAND"}"#: 1,
                    #"ewmatch_commands_total{verb="NEED ADD",code="OK"}"#: 1,
                    #"ewmatch_commands_total{verb="MATCH RUN",code="OK"}"#: 1,
                    #"ewmatch_command_duration_seconds_count{verb="PING"}"#: 3,
                    #"ewmatch_command_duration_seconds_count{verb="MATCH RUN"}"#: 1,
                    #"ewmatch_run_phase_duration_seconds_count{phase="load"}"#: 1,
                    #"ewmatch_run_phase_duration_seconds_count{phase="solve"}"#: 1,
                    #"ewmatch_run_phase_duration_seconds_count{phase="store"}"#: 1,
                    "ewmatch_group_commit_size_count": 1,
                    "ewmatch_group_commit_size_sum": 1,
                    "ewmatch_connections_open": 1,
                    "ewmatch_pool_connections_in_use": 0,
                    "ewmatch_pool_waiting": 0,
                    "ewmatch_postgres_reachable": 1,
                ]
                for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
                    #expect(samples[series] == value, "\(series)")
                }
                #expect(!samples.keys.contains { $0.contains("NEED LIST") }, "a verb never sent has no series")

                await client.close()
                let (notFound, _, _) = try await MetricsScrape.get(port: metricsPort, path: "/")
                #expect(notFound == "HTTP/1.1 404 Not Found")
                let (_, _, after) = try await MetricsScrape.get(port: metricsPort)
                #expect(after[#"ewmatch_commands_total{verb="PING",code="OK"}"#] == 3)
            }
        }
    }
}
