import Foundation
import PostgresStore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Two `ewmatch serve` processes on one database, and HAProxy in front of them with the
/// configuration `deploy/haproxy.cfg` ships (its ports replaced by free loopback ones).
@Suite("Several instances on one database, behind HAProxy")
struct InstancesTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "deploy/haproxy.cfg")

    /// A loopback port nobody listens on now: bound to port 0, then released for HAProxy.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestEnvironmentError("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                bind(descriptor, sockaddr, length) == 0 && getsockname(descriptor, sockaddr, &length) == 0
            }
        }
        guard bound else { throw TestEnvironmentError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func serve(_ conninfo: String) async throws -> (ChildProcess, Int) {
        let server = try ChildProcess(BinaryTests.binary, ["serve", "--port", "0", "--database-url", conninfo])
        return (server, try BinaryTests.listeningPort(in: try await server.waitForOutput(containing: "listening")))
    }

    static func field(_ name: String, in line: String) throws -> String {
        try #require(line.split(separator: " ").first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) }, "\(line)")
    }

    @Test func twoInstancesActAsOneServiceDirectlyAndThroughHAProxy() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.adminToken()
            // Named, so PostgreSQL's pg_stat_activity tells whose connection is whose.
            let (a, portA) = try await Self.serve(database.conninfo + " application_name=ewmatch-a")
            let (b, portB) = try await Self.serve(database.conninfo + " application_name=ewmatch-b")

            let setup = try await LineClient.signedIn(port: portA, token: admin)
            for line in [
                "ORG ADD kind=enterprise name=无锡精工 province=江苏省 city=无锡市",
                "NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30",
                "OFFER ADD org=1 kind=labor occupations=6-01 capacity=20 from=2027-01-01 to=2027-12-31",
            ] {
                #expect(try await setup.request(line).hasPrefix("OK "), "\(line)")
            }

            // One run at a time across instances: a run held open in a batch on A makes B busy.
            let onA = try await LineClient.signedIn(port: portA, token: admin)
            let onB = try await LineClient.signedIn(port: portB, token: admin)
            #expect(try await onA.request("BEGIN").hasPrefix("OK "))
            #expect(try await onA.request("MATCH RUN").hasPrefix("OK run=1 "))
            #expect(try await onB.request("MATCH RUN").hasPrefix("ERR BUSY another matching run"))
            #expect(try await onA.request("COMMIT").hasPrefix("OK committed"))
            let second = try await onB.request("MATCH RUN")
            #expect(second.hasPrefix("OK run=2 "), "\(second)")

            // A token revoked on A stops on A before the reply, and on B once the revoke's NOTIFY
            // arrives, on connections already signed in, although both had it in memory.
            let issued = try await setup.request("TOKEN ISSUE role=west scope=county:520204 label=twice")
            let (id, secret) = (try Self.field("token", in: issued), try Self.field("secret", in: issued))
            let westA = try await LineClient.signedIn(port: portA, token: secret)
            let westB = try await LineClient.signedIn(port: portB, token: secret)
            #expect(try await westB.readRecords(after: try await westB.request("NEED LIST")).count == 1)
            #expect(try await westA.request("NEED SHOW 1").hasPrefix("OK "))
            #expect(try await setup.request("TOKEN REVOKE \(id)").hasPrefix("OK revoked"))
            #expect(try await westA.request("NEED SHOW 1").hasPrefix("ERR AUTH_FAILED "))
            #expect(try await westB.requestUntilRefused("NEED SHOW 1").hasPrefix("ERR AUTH_FAILED "))
            // So is a county changed on A, although B answers COUNTY SHOW from memory.
            #expect(try await onB.request("COUNTY SHOW 520204").contains(" name=水城区 "))
            #expect(try await onA.request("COUNTY UPDATE 520204 name=水城新区").hasPrefix("OK "))
            #expect(try await onA.request("COUNTY SHOW 520204").contains(" name=水城新区 "))
            #expect(try await onB.request("COUNTY SHOW 520204", until: { $0.contains(" name=水城新区 ") }).contains(" name=水城新区 "))
            for client in [setup, onA, onB, westA, westB] { await client.close() }

            // Through HAProxy: the shipped configuration, on ports of this test.
            let proxyPort = try Self.freePort()
            let configuration = try String(contentsOf: Self.example, encoding: .utf8)
                .replacingOccurrences(of: "127.0.0.1:7400", with: "127.0.0.1:\(proxyPort)")
                .replacingOccurrences(of: "127.0.0.1:7411", with: "127.0.0.1:\(portA)")
                .replacingOccurrences(of: "127.0.0.1:7412", with: "127.0.0.1:\(portB)")
            let path = NSTemporaryDirectory() + "ewmatch-haproxy-\(UInt64.random(in: 0 ... .max)).cfg"
            try configuration.write(toFile: path, atomically: true, encoding: .utf8)
            defer { unlink(path) }
            let proxy = try ChildProcess("/usr/sbin/haproxy", ["-db", "-f", path])
            var greeting = ""
            for _ in 0..<100 where !greeting.hasPrefix("OK ewmatch") {
                if let (probe, hello) = try? await LineClient.connectReady(port: proxyPort) {
                    greeting = hello
                    await probe.close()
                }
                if !greeting.hasPrefix("OK ewmatch") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(greeting.hasPrefix("OK ewmatch"), "HAProxy did not forward: \(proxy.output)")

            // Held connections spread over both instances (leastconn), as the two batches' open
            // transactions show; the run lock still lets one run at a time.
            let first = try await LineClient.signedIn(port: proxyPort, token: admin)
            let other = try await LineClient.signedIn(port: proxyPort, token: admin)
            #expect(try await first.request("BEGIN").hasPrefix("OK "))
            #expect(try await other.request("BEGIN").hasPrefix("OK "))
            let holders = try await database.pool.withConnection { connection in
                try connection.query(
                    "SELECT application_name FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()"
                ).rows.map { try $0.string(0) }
            }
            #expect(holders.sorted() == ["ewmatch-a", "ewmatch-b"], "\(holders)")
            #expect(try await first.request("MATCH RUN").hasPrefix("OK run=3 "))
            #expect(try await other.request("MATCH RUN").hasPrefix("ERR BUSY another matching run"))
            for client in [first, other] { #expect(try await client.request("ABORT").hasPrefix("OK aborted")) }
            let again = try await LineClient.signedIn(port: proxyPort, token: admin)
            let reissued = try await again.request("TOKEN ISSUE role=west scope=county:520204 label=proxied")
            let westProxied = try await LineClient.signedIn(port: proxyPort, token: try Self.field("secret", in: reissued))
            #expect(try await other.request("TOKEN REVOKE \(try Self.field("token", in: reissued))").hasPrefix("OK revoked"))
            #expect(try await westProxied.request("NEED LIST").hasPrefix("ERR AUTH_FAILED "))
            for client in [first, other, again, westProxied] { await client.close() }

            // One instance stops: the proxy sends new connections to the other.
            a.signal(SIGTERM)
            #expect(try await a.wait() == 0)
            for _ in 0..<4 {
                let client = try await LineClient.signedIn(port: proxyPort, token: admin)
                #expect(try await client.request("WHOAMI").hasPrefix("OK token="))
                await client.close()
            }

            proxy.signal(SIGTERM)
            _ = try await proxy.wait()
            b.signal(SIGTERM)
            #expect(try await b.wait() == 0)
        }
    }
}
