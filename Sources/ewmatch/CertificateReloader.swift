import LineServer
import Logging
import ServiceLifecycle
import UnixSignals

/// Reads the TLS certificate and key again on every SIGHUP, so a renewed certificate is used
/// without a restart: new connections get it, open ones keep theirs. Files that cannot be
/// used leave the certificate in use in place.
struct CertificateReloader: Service {
    let certificates: TLSCertificates
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                try certificates.reload()
                logger.notice("SIGHUP: reloaded the TLS certificate", metadata: ["certificate": "\(certificates.certificatePath)"])
            } catch {
                logger.error(
                    "SIGHUP: cannot reload the TLS certificate; keeping the one in use",
                    metadata: ["certificate": "\(certificates.certificatePath)", "error": "\(error)"])
            }
        }
    }
}
