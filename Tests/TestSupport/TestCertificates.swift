import Foundation
import LineServer
import NIOSSL

/// A throwaway self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI in a
/// directory of its own when a test asks for one, so that no key is ever committed.
public struct TestCertificates: Sendable {
    public static let openssl = "/usr/bin/openssl"

    public let directory: String
    public let certificatePath: String
    public let keyPath: String

    /// Makes a new key and certificate (a P-256 key: quick to make) named `commonName` in a new
    /// directory, or in `directory` when given, replacing the files there.
    public static func make(commonName: String = "ewmatch test", in directory: String? = nil) async throws -> TestCertificates {
        let directory = directory ?? NSTemporaryDirectory() + "ewmatch-tls-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory, certificatePath: directory + "/cert.pem", keyPath: directory + "/key.pem")
        let (code, output) = try await ChildProcess.run(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", certificates.keyPath, "-out", certificates.certificatePath,
            ])
        guard code == 0 else { throw TestEnvironmentError("openssl req failed (\(code)):\n\(output)") }
        return certificates
    }

    /// Puts this key and certificate in place of `target`'s, as a renewal does.
    public func copy(over target: TestCertificates) throws {
        for (from, to) in [(certificatePath, target.certificatePath), (keyPath, target.keyPath)] {
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What a server with this certificate is configured with.
    public func server() throws -> TLSCertificates {
        try TLSCertificates(certificatePath: certificatePath, keyPath: keyPath)
    }

    /// A client context that trusts this certificate alone.
    public func client() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(certificatePath)
        return try NIOSSLContext(configuration: configuration)
    }

    /// Runs `body` with a new certificate, removing its directory afterwards.
    public static func with<T>(_ body: (TestCertificates) async throws -> T) async throws -> T {
        let certificates = try await make()
        defer { certificates.remove() }
        return try await body(certificates)
    }
}
