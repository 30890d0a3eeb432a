import CommandProtocol
import Logging
import NIOCore
import Synchronization

/// What one connection says and does, one input at a time: lines are answered strictly in order,
/// one reply each. `ConnectionHandler` hands it each input and runs what it decides; a step that
/// never waits (PING, a read the server remembers) is answered inside the socket read.
struct ConnectionSession<Responder: LineResponder> {
    /// What the connection does once a step is done.
    enum Next {
        case goOn
        /// The reply just queued is the last: the connection closes once it has gone out.
        case close
    }

    let io: ConnectionIO
    let responder: Responder
    let limits: LineLimits
    let logger: Logger
    let shutdownFlag: SharedFlag
    /// Whether the session has signed in, as the server sees it when it must make room.
    let signedIn: SharedFlag
    private var session: Responder.Session
    /// When a request was last read or answered: an idle notice raised while a long command ran
    /// is stale once its reply has gone out, and the client gets the full time from there.
    private var lastActivity = ContinuousClock.now
    private var readFirstLine = false

    init(
        io: ConnectionIO, responder: Responder, limits: LineLimits, logger: Logger, shutdownFlag: SharedFlag, signedIn: SharedFlag,
        peer: String
    ) {
        self.io = io
        self.responder = responder
        self.limits = limits
        self.logger = logger
        self.shutdownFlag = shutdownFlag
        self.signedIn = signedIn
        self.session = responder.makeSession(peer: peer)
    }

    func greet() {
        send(responder.greeting)
    }

    /// The reply of a connection over the limit, before it closes.
    func refuse(_ reply: Reply) {
        send(reply)
    }

    /// The input has ended; a shutdown is the reason the client is told.
    func inputEnded() {
        if shutdownFlag.isSet {
            send(.error(.shuttingDown, "the server is shutting down; reconnect later"))
        }
    }

    /// Gives the responder the chance to release what the session held, once the connection is gone.
    func end() async {
        await responder.endSession(session)
    }

    mutating func handle(_ input: ConnectionInput) async -> Next {
        defer { lastActivity = .now }
        switch input {
        case .frame(.line(let bytes, let announcesDataBlock)):
            return await answer(bytes, announcesDataBlock: announcesDataBlock)
        case .frame(.lineTooLong(let length)):
            send(.error(.lineTooLong, "a line of \(length) bytes exceeds the limit of \(limits.maximumLineLength); it was discarded"))
            return .goOn
        case .frame(.dataLine), .frame(.dataLineTooLong), .frame(.dataEnd):
            // The block of an announcing line that was itself too long: its command was never
            // read, so its data is dropped with it.
            return .goOn
        case .notice(.idle):
            // The 10 % slack absorbs the gap between our reply and the write the idle clock saw.
            guard ContinuousClock.now - lastActivity >= limits.idleTimeout * 0.9 else { return .goOn }
            send(.error(.idleTimeout, "no request for \(seconds(limits.idleTimeout)) s; closing"))
            return .close
        case .notice(.authenticationDue):
            guard !responder.isAuthenticated(session) else { return .goOn }
            send(Deadlines.notAuthenticatedInTime(limits).reply)
            return .close
        case .notice(.tooSlow(let input)):
            send(Deadlines.tooSlow(input, limits).reply)
            return .close
        }
    }

    /// Answers one request line (and reads its data block).
    private mutating func answer(_ bytes: [UInt8], announcesDataBlock: Bool) async -> Next {
        var line = bytes
        if !readFirstLine {
            readFirstLine = true
            line = FirstLine.withoutByteOrderMark(line)
            if let refusal = FirstLine.refusal(for: line) {
                send(refusal)
                return .close
            }
        }
        defer { signedIn.store(responder.isAuthenticated(session)) }
        guard announcesDataBlock else {
            if let reply = await responder.respond(line: line, session: &session, dataBlock: nil) {
                send(reply)
            }
            return responder.shouldClose(session) ? .close : .goOn
        }
        let block = FramedDataBlock(
            io, limits: limits, closesAtAuthenticationDeadline: !responder.isAuthenticated(session), shutdownFlag: shutdownFlag)
        var reply = await responder.respond(line: line, session: &session, dataBlock: block)
        // The block belongs to its command even when the command was refused or stopped early.
        if let cut = await block.drain() { reply = cut.reply }
        if let reply { send(reply) }
        switch block.failure {
        case nil, .shuttingDown:
            return responder.shouldClose(session) ? .close : .goOn
        case .inputEnded:
            logger.info(
                "the input ended inside a data block; nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return responder.shouldClose(session) ? .close : .goOn
        case .tooSlow:
            logger.info(
                "a data block arrived too slowly; refused, nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return .close
        case .notAuthenticatedInTime:
            logger.info(
                "no AUTH in time, inside a data block; closing, nothing of it was stored",
                metadata: ["command": "\(Self.command(line))", "lines": "\(block.linesRead)"])
            return .close
        }
    }

    /// Every reply, the transport's own included, is written in the format the session chose.
    private func send(_ reply: Reply) {
        io.send(reply, as: responder.format(session))
    }

    private static func command(_ line: [UInt8]) -> String {
        guard let (verb, subverb) = CommandParser.leadingWords(line) else { return "" }
        return subverb.map { "\(verb) \($0)" } ?? verb
    }
}

/// The refusals for input that did not arrive in time, as replies of the transport's own or as the
/// data block's error, which the command meets.
enum Deadlines {
    static func notAuthenticatedInTime(_ limits: LineLimits) -> ProtocolError {
        ProtocolError(.tooSlow, "no AUTH within \(seconds(limits.authenticationTimeout ?? .zero)) s of connecting; closing")
    }

    static func tooSlow(_ input: SlowInput, _ limits: LineLimits) -> ProtocolError {
        switch input {
        case .line:
            ProtocolError(.tooSlow, "a request line must end within \(seconds(limits.idleTimeout)) s of its first byte; closing")
        case .dataBlock:
            ProtocolError(
                .tooSlow,
                "a data block must end within \(seconds(limits.dataBlockTimeout)) s of its command line plus 1 s per \(limits.dataBlockMinimumBytesPerSecond) bytes received; nothing was stored; closing"
            )
        }
    }
}

/// Whole seconds as an integer, shorter times (tests) as a decimal.
func seconds(_ duration: Duration) -> String {
    let (whole, fraction) = duration.components
    return fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
}

/// The lines of one data block, up to its closing `.`.
/// Read only by the step of its command, on the connection's event loop, as its `ConnectionIO` is.
final class FramedDataBlock: DataBlockSource, @unchecked Sendable {
    /// Why the block ended before its closing `.`.
    enum Failure {
        case tooSlow
        /// The session had not signed in when its authentication deadline passed.
        case notAuthenticatedInTime
        case inputEnded
        case shuttingDown
    }

    private let io: ConnectionIO
    private let limits: LineLimits
    /// Nobody signs in inside a block, so a session anonymous at its start stays so to its end.
    private let closesAtAuthenticationDeadline: Bool
    private let shutdownFlag: SharedFlag
    private(set) var failure: Failure?
    private(set) var linesRead = 0
    private var finished = false

    init(_ io: ConnectionIO, limits: LineLimits, closesAtAuthenticationDeadline: Bool, shutdownFlag: SharedFlag) {
        self.io = io
        self.limits = limits
        self.closesAtAuthenticationDeadline = closesAtAuthenticationDeadline
        self.shutdownFlag = shutdownFlag
    }

    func nextLine() async throws -> DataBlockLine? {
        if let failure { throw error(for: failure) }
        guard !finished else { return nil }
        while let input = await io.next() {
            switch input {
            case .frame(.dataLine(let bytes)):
                linesRead += 1
                return .line(bytes)
            case .frame(.dataLineTooLong(let length)):
                linesRead += 1
                return .tooLong(length: length)
            case .frame(.dataEnd):
                finished = true
                return nil
            case .frame(.line), .frame(.lineTooLong):
                // The framer is in data mode until the block ends.
                continue
            case .notice(.idle), .notice(.tooSlow(.line)):
                // An upload is not idle, and has no request line; the block's deadline bounds it.
                continue
            case .notice(.authenticationDue):
                if closesAtAuthenticationDeadline { throw fail(.notAuthenticatedInTime) }
            case .notice(.tooSlow(.dataBlock)):
                throw fail(.tooSlow)
            }
        }
        throw fail(shutdownFlag.isSet ? .shuttingDown : .inputEnded)
    }

    /// Reads what the command left of the block. Returns the error that cut the block short when
    /// the command did not meet it itself: the line's reply must then say so.
    func drain() async -> ProtocolError? {
        let commandMetFailure = failure != nil
        do {
            while try await nextLine() != nil {}
            return nil
        } catch {
            // nextLine throws only the block's own ProtocolError.
            return commandMetFailure ? nil : error as? ProtocolError
        }
    }

    private func fail(_ failure: Failure) -> ProtocolError {
        self.failure = failure
        return error(for: failure)
    }

    private func error(for failure: Failure) -> ProtocolError {
        switch failure {
        case .tooSlow:
            return Deadlines.tooSlow(.dataBlock, limits)
        case .notAuthenticatedInTime:
            return Deadlines.notAuthenticatedInTime(limits)
        case .inputEnded:
            return ProtocolError(.badSyntax, "the input ended inside the data block, before its closing '.'; nothing was stored")
        case .shuttingDown:
            return ProtocolError(.shuttingDown, "the server is shutting down; the data block was cut short and nothing of it was stored")
        }
    }
}

/// Set on one thread, read on another: shutdown begun (the server → the connection), signed in
/// (the connection → the server making room at the connection limit).
final class SharedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
    func store(_ newValue: Bool) { value.store(newValue, ordering: .relaxed) }
}
