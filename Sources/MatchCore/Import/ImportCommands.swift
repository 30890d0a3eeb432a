import CommandProtocol
import MatchingEngine

/// Bulk import (CSV in a data block, streamed into PostgreSQL with COPY, all or nothing) and
/// export (CSV back, a page at a time).
enum ImportCommands {
    static let all: [CommandSpec] = [needImport, offerImport, needExport, offerExport]

    static let needImport = CommandSpec(
        "NEED IMPORT", usage: "NEED IMPORT [encoding=utf-8|gb18030]",
        summary: "import needs from CSV lines that follow, header first, up to a line holding only . (all or nothing)",
        takesDataBlock: true
    ) { request, session, context in
        try await importRows(.needs, request, &session, context)
    }

    static let offerImport = CommandSpec(
        "OFFER IMPORT", usage: "OFFER IMPORT [encoding=utf-8|gb18030]",
        summary: "import offers from CSV lines that follow, header first, up to a line holding only . (all or nothing)",
        takesDataBlock: true
    ) { request, session, context in
        try await importRows(.offers, request, &session, context)
    }

    /// Rows are checked and sent to COPY in chunks as they arrive; the first bad row (or a bad
    /// line, or the block ending inside a quoted field) cancels the COPY, so nothing is stored.
    static func importRows(
        _ target: ImportConverter.Target, _ request: Request, _ session: inout Session, _ context: CommandContext
    ) async throws -> Reply {
        try context.validate(request, words: 0...0, options: ["encoding"])
        guard let block = context.dataBlock else {
            throw ProtocolError(.badArg, "\(context.spec.name) needs its CSV lines after it, ended by a line holding only .")
        }
        let principal = try context.principal(session)
        let scope = try context.scope(session)
        switch target {
        case .needs: guard scope == .everything || scope.isWest else { throw ProtocolError(.denied, "needs are imported by the west side") }
        case .offers: guard scope == .everything || scope.isEast else { throw ProtocolError(.denied, "offers are imported by the east side") }
        }
        let encoding = try request.choice("encoding", ImportEncoding.self) ?? .utf8
        let reference = try await context.repository.importReference()

        var reader = CSVReader()
        var converter: ImportConverter?
        var writer: (any CopyWriter)?
        var chunk: [UInt8] = []
        chunk.reserveCapacity(300_000)
        var lineNumber = 0
        var row = 0
        do {
            while let line = try await block.nextLine() {
                lineNumber += 1
                guard case .line(let raw) = line else {
                    throw refusal("block line \(lineNumber) is longer than \(context.settings.maximumLineLength) bytes")
                }
                guard let bytes = encoding.decode(raw, first: lineNumber == 1) else {
                    let hint = encoding == .utf8 ? " (files saved by Chinese spreadsheet software: encoding=gb18030)" : ""
                    throw refusal("block line \(lineNumber) is not valid \(encoding.rawValue)\(hint)")
                }
                guard let fields = reader.feed(bytes) else { continue }
                guard let current = converter else {
                    let header = fields.map { String(decoding: $0, as: UTF8.self) }
                    let made = try ImportConverter(
                        target: target, header: header, counties: reference.counties, occupations: reference.occupations,
                        organisations: reference.organisations, scope: scope)
                    converter = made
                    writer = try await context.repository.beginCopy(made.copyStatement)
                    continue
                }
                if fields.count == 1 && fields[0].isEmpty { continue }
                row += 1
                do {
                    try current.convert(fields, row: row, into: &chunk)
                } catch {
                    throw refusal("row \(error.row) (block line \(lineNumber)), column \(error.column): \(error.message)", code: error.code)
                }
                if chunk.count >= 256 * 1024 {
                    try await writer!.write(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if reader.isIncomplete { throw refusal("the block ended inside a quoted field") }
            guard let writer else { throw refusal("the block is empty: a header line is needed") }
            if !chunk.isEmpty { try await writer.write(chunk) }
            let stored = try await writer.finish(
                audit: context.audit(principal, target: target == .needs ? "need" : "offer", changes: [("encoding", encoding.rawValue)]))
            return .ok("imported \(stored) \(target == .needs ? "needs" : "offers")")
        } catch {
            // Whatever stopped the import, the COPY and its transaction end storing nothing.
            if let writer { await writer.cancel(reason: "import refused") }
            throw error
        }
    }

    static func refusal(_ message: String, code: ErrorCode = .badArg) -> ProtocolError {
        ProtocolError(code, "\(message); nothing was stored")
    }

    static let needExport = CommandSpec(
        "NEED EXPORT",
        usage: "NEED EXPORT [county=<code>] [province=<province>] [kind=…] [status=…] [limit=N] [after=<id>]",
        summary: "needs as CSV records, header first, in the import's columns (plus id and status)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["county", "province", "kind", "status", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "a need id")
        let needs = try await SubmissionCommands.visibleNeeds(request, scope, context, page: page)
        let own = !scope.isEast
        var lines = ["id,county,kind,occupations,qty,from,to,priority,poverty,status,note" + (own ? ",private_note" : "")]
        for need in needs {
            var fields = [
                "\(need.id)", need.county, need.kind.rawValue, need.occupations.joined(separator: ";"), "\(need.quantity)",
                need.from.description, need.to.description, "\(need.priority)", need.povertyFocus ? "yes" : "no",
                need.status.rawValue, need.note,
            ]
            if own { fields.append(need.privateNote) }
            lines.append(fields.map(CSVReader.field).joined(separator: ","))
        }
        return csvReply("needs", lines, page: page, last: needs.last.map { "\($0.id)" })
    }

    static let offerExport = CommandSpec(
        "OFFER EXPORT",
        usage: "OFFER EXPORT [org=<id>] [province=<province>] [kind=…] [status=…] [limit=N] [after=<id>]",
        summary: "offers as CSV records, header first, in the import's columns (plus id and status)"
    ) { request, session, context in
        try context.validate(request, words: 0...0, options: ["org", "province", "kind", "status", "limit", "after"])
        let scope = try context.scope(session)
        let page = try Page.from(request, settings: context.settings, idCursor: "an offer id")
        let offers = try await SubmissionCommands.visibleOffers(request, scope, context, page: page)
        let own = !scope.isWest
        var lines = ["id,org,kind,occupations,capacity,from,to,place,conditions,status,note" + (own ? ",private_note" : "")]
        for offer in offers {
            var fields = [
                "\(offer.id)", "\(offer.organisation)", offer.kind.rawValue, offer.occupations.joined(separator: ";"),
                "\(offer.capacity)", offer.from.description, offer.to.description, offer.place, offer.conditions,
                offer.status.rawValue, offer.note,
            ]
            if own { fields.append(offer.privateNote) }
            lines.append(fields.map(CSVReader.field).joined(separator: ","))
        }
        return csvReply("offers", lines, page: page, last: offers.last.map { "\($0.id)" })
    }

    /// CSV lines are the records whatever the connection's FORMAT: they are a file's lines.
    static func csvReply(_ noun: String, _ lines: [String], page: Page, last: String?) -> Reply {
        var header = "\(noun) csv"
        if lines.count - 1 == page.limit, let last { header += " next=\(last)" }
        return .records(header: header, lines)
    }
}
