import CommandProtocol
import Synchronization

/// Just enough of a service to drive the transport: `PING`, `ECHO <text>`, `AUTH`, `QUIT`,
/// `WAIT` (answers once the test opens its gate) and `BLOCK SEND`, which takes a data block and
/// stores its lines once the block has ended; a data line `STOP` makes it refuse the rest.
struct TestResponder: LineResponder {
    struct Session {
        var authenticated = false
        var quitting = false
    }

    var limits: LineLimits
    let record = Record()
    let gate = Gate()

    init(
        idleTimeout: Duration = .seconds(60), authenticationTimeout: Duration? = nil, maximumConnections: Int = 100,
        maximumLineLength: Int = 1_024, dataBlockTimeout: Duration = .seconds(60), dataBlockMinimumBytesPerSecond: Int = 1_024
    ) {
        limits = LineLimits(
            maximumLineLength: maximumLineLength, dataBlockCommands: ["BLOCK SEND"], idleTimeout: idleTimeout,
            maximumConnections: maximumConnections, authenticationTimeout: authenticationTimeout,
            dataBlockTimeout: dataBlockTimeout, dataBlockMinimumBytesPerSecond: dataBlockMinimumBytesPerSecond)
    }

    var greeting: Reply { .ok("test ready") }

    func makeSession(peer: String) -> Session { Session() }

    func respond(line: [UInt8], session: inout Session, dataBlock: (any DataBlockSource)?) async -> Reply? {
        let text = String(decoding: line, as: UTF8.self)
        let words = text.split(separator: " ", maxSplits: 1)
        guard let verb = words.first, !verb.hasPrefix("#") else { return nil }
        switch verb {
        case "PING": return .ok("PONG")
        case "ECHO": return .ok(words.count > 1 ? String(words[1]) : "")
        case "AUTH":
            session.authenticated = true
            return .ok("signed in")
        case "QUIT":
            session.quitting = true
            return .ok("bye")
        case "WAIT":
            await gate.pass()
            return .ok("waited")
        case "BLOCK":
            guard let dataBlock else { return .error(.badArg, "BLOCK SEND takes a data block") }
            return await store(dataBlock)
        default:
            return .error(.unknownCommand, text)
        }
    }

    private func store(_ block: any DataBlockSource) async -> Reply {
        var lines: [String] = []
        do {
            while let line = try await block.nextLine() {
                switch line {
                case .line(let bytes): lines.append(String(decoding: bytes, as: UTF8.self))
                case .tooLong(let length): lines.append("<\(length) bytes>")
                }
                if lines.last == "STOP" { return .error(.badArg, "stopped at block line \(lines.count)") }
            }
        } catch let error as ProtocolError {
            return error.reply
        } catch {
            return .error(.internal, "\(error)")
        }
        record.store(lines)
        return .ok("stored \(lines.count) lines")
    }

    func endSession(_ session: Session) async {
        record.endSession()
    }

    func shouldClose(_ session: Session) -> Bool { session.quitting }

    func isAuthenticated(_ session: Session) -> Bool { session.authenticated }

    func format(_ session: Session) -> OutputFormat { .text }
}

/// What the responder saw, for the tests to check.
final class Record: Sendable {
    private let state = Mutex<(blocks: [[String]], endedSessions: Int)>(([], 0))

    var blocks: [[String]] { state.withLock { $0.blocks } }
    var endedSessions: Int { state.withLock { $0.endedSessions } }

    func store(_ lines: [String]) { state.withLock { $0.blocks.append(lines) } }
    func endSession() { state.withLock { $0.endedSessions += 1 } }
}

/// Holds one `WAIT` until the test opens it, and tells the test when it has started.
final class Gate: Sendable {
    private let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
    private let (opened, openedContinuation) = AsyncStream.makeStream(of: Void.self)

    func pass() async {
        enteredContinuation.yield()
        for await _ in opened {}
    }

    func waitUntilEntered() async {
        for await _ in entered { return }
    }

    func open() {
        openedContinuation.finish()
    }
}
