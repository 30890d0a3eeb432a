import CommandProtocol

/// `BEGIN` … `COMMIT`/`ABORT`: the writes in between are one transaction, all or nothing.
enum BatchCommands {
    static let all: [CommandSpec] = [begin, commit, abort]

    static func endsBatch(_ spec: CommandSpec) -> Bool {
        spec.name == "COMMIT" || spec.name == "ABORT" || spec.name == "QUIT"
    }

    static let begin = CommandSpec(
        "BEGIN", usage: "BEGIN", summary: "start a batch: the commands up to COMMIT are stored together or not at all"
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        if let batch = session.batch {
            throw ProtocolError(.conflict, "a batch is already open since line \(batch.startedAtLine); COMMIT or ABORT it first")
        }
        let unit = try await context.store.openLongUnit(.readCommitted)
        do {
            try await unit.read(token: context.principal?.tokenID) { _ in }
        } catch {
            await unit.rollback()
            throw error
        }
        session.batch = Session.Batch(unit: unit, startedAtLine: session.linesSeen)
        return .ok("batch open; COMMIT stores it, ABORT drops it")
    }

    static let commit = CommandSpec(
        "COMMIT", usage: "COMMIT", summary: "store the batch's writes together"
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        guard let batch = session.batch else { throw ProtocolError(.conflict, "no batch is open; BEGIN starts one") }
        session.batch = nil
        if let failedAt = batch.failedAtLine {
            throw ProtocolError(.conflict, "the batch failed at line \(failedAt); nothing was stored")
        }
        try await batch.unit.commit()
        return .ok("committed \(batch.commands) commands")
    }

    static let abort = CommandSpec(
        "ABORT", usage: "ABORT", summary: "drop the batch's writes"
    ) { request, session, context in
        try context.validate(request, words: 0...0)
        guard let batch = session.batch else { throw ProtocolError(.conflict, "no batch is open") }
        session.batch = nil
        if batch.failedAtLine == nil { await batch.unit.rollback() }
        return .ok("aborted; nothing was stored")
    }
}
