/// The stable error codes of protocol v1. Scripts branch on the code, never on the text after it,
/// so a code is never renamed or reused; new failures get new codes.
public enum ErrorCode: String, CaseIterable, Sendable {
    case badSyntax = "BAD_SYNTAX"
    case badEncoding = "BAD_ENCODING"
    case lineTooLong = "LINE_TOO_LONG"
    case unknownCommand = "UNKNOWN_COMMAND"
    case badArg = "BAD_ARG"
    case unauthenticated = "UNAUTHENTICATED"
    case authFailed = "AUTH_FAILED"
    case denied = "DENIED"
    case notFound = "NOT_FOUND"
    case conflict = "CONFLICT"
    case busy = "BUSY"
    case unavailable = "UNAVAILABLE"
    case outcomeUnknown = "OUTCOME_UNKNOWN"
    case idleTimeout = "IDLE_TIMEOUT"
    case tooSlow = "TOO_SLOW"
    case shuttingDown = "SHUTTING_DOWN"
    case notThisProtocol = "NOT_THIS_PROTOCOL"
    case tlsRequired = "TLS_REQUIRED"
    case tlsNotEnabled = "TLS_NOT_ENABLED"
    case `internal` = "INTERNAL"

    /// Whether sending the same request again later can succeed without changing it.
    public var isRetryable: Bool {
        switch self {
        case .busy, .unavailable, .shuttingDown, .internal, .idleTimeout, .tooSlow: true
        default: false
        }
    }

    /// One line for the README's table and for `HELP`.
    public var meaning: String {
        switch self {
        case .badSyntax: "the line could not be read as a command: no command word first, an unbalanced or misplaced quote, a bad escape, a repeated option"
        case .badEncoding: "the line is not valid UTF-8 or holds a NUL, a bare carriage return or another control character"
        case .lineTooLong: "the line was longer than the limit announced by CAPA; it was discarded up to its newline"
        case .unknownCommand: "no such command or subcommand; HELP lists them"
        case .badArg: "an argument is missing, unknown or out of range; the text names it"
        case .unauthenticated: "this command needs AUTH first"
        case .authFailed: "the token is unknown, revoked or expired"
        case .denied: "the authenticated role or scope may not do this"
        case .notFound: "the id names no record"
        case .conflict: "the record's state does not allow this change"
        case .busy: "the server or the resource is busy (connection limit, a run in progress)"
        case .unavailable: "the database cannot be reached at the moment; the request was not carried out"
        case .outcomeUnknown: "the database connection broke while a write was committing: it may or may not be stored; look before sending it again"
        case .idleTimeout: "the connection was idle too long and is being closed"
        case .tooSlow: "a request line or data block did not arrive within its time limit, or AUTH did not come within its time after connecting (limits in CAPA); nothing of it was stored and the connection is closed"
        case .shuttingDown: "the server is shutting down and closes the connection"
        case .notThisProtocol: "the first line looked like HTTP; the connection is closed"
        case .tlsRequired: "plain text arrived on a port that speaks TLS, or no TLS handshake within 2 s of connecting; connect with TLS (openssl s_client, ncat --ssl, --tls); the connection is closed"
        case .tlsNotEnabled: "a TLS handshake arrived on a port that speaks plain text; connect without TLS, or to the server's TLS port; the connection is closed"
        case .internal: "an unexpected server-side failure; it is logged"
        }
    }
}
