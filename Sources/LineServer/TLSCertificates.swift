import NIOSSL
import Synchronization

/// The server's certificate chain and private key, read from PEM files, and read again by
/// `reload()` (on SIGHUP): every new connection gets the context current when it connects,
/// while open connections keep the one they began with.
public final class TLSCertificates: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<NIOSSLContext>

    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reads both files again; when either cannot be used, the context in use stays.
    public func reload() throws {
        let context = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        current.withLock { $0 = context }
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    private static func load(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map(NIOSSLCertificateSource.certificate)
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
