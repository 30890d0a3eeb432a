import CommandProtocol
import MatchingEngine

/// Bulk import (CSV in a data block, streamed into PostgreSQL with COPY, all or nothing) and
/// export (CSV back, a page at a time).
enum ImportCommands {
    static let all: [CommandSpec] = [needImport, offerImport, needExport, offerExport]

    static let needImport = CommandSpec(
        "NEED IMPORT", usage: "NEED IMPORT [encoding=utf-8|gb18030] [req=<key>]",
        summary: "import needs from CSV lines that follow, header first, up to a line holding only . (all or nothing)",
        access: .west, takesDataBlock: true
    ) { request, session, context in
        try await importRows(.needs, request, &session, context)
    }

    static let offerImport = CommandSpec(
        "OFFER IMPORT", usage: "OFFER IMPORT [encoding=utf-8|gb18030] [req=<key>]",
        summary: "import offers from CSV lines that follow, header first, up to a line holding only . (all or nothing)",
        access: .east, takesDataBlock: true
    ) { request, session, context in
        try await importRows(.offers, request, &session, context)
    }

    /// Rows are checked and sent to COPY in chunks as they arrive; the first bad row (or a bad
    /// line, or the block ending inside a quoted field) cancels the COPY, so nothing is stored.
    static func importRows(
        _ target: ImportConverter.Target, _ request: Request, _ session: inout Session, _ context: CommandContext
    ) async throws -> Reply {
        try context.validate(request, words: 0...0, options: ["encoding", ClientRequests.option])
        let key = try ClientRequests.key(request)
        guard let block = context.dataBlock else {
            throw ProtocolError(.badArg, "\(context.spec.name) needs its CSV lines after it, ended by a line holding only .")
        }
        let principal = try context.principal(session)
        let scope = try context.scope(session)
        let encoding = try request.choice("encoding", ImportEncoding.self) ?? .utf8
        let audit = AuditEntry(
            actor: principal, command: context.spec.name, target: target == .needs ? "need" : "offer",
            changes: [("encoding", encoding.rawValue)] + (key.map { [("req", $0)] } ?? []))
        let stored = try await context.withLongUnit { unit in
            try await streamRows(
                target, from: block, encoding: encoding, scope: scope, key: key, into: unit, audit: audit, context: context)
        }
        return .ok("imported \(stored) \(target == .needs ? "needs" : "offers")")
    }

    /// The rows go to the store in chunks as they arrive; whatever stops the import leaves the
    /// unit to be rolled back, so nothing is stored.
    static func streamRows(
        _ target: ImportConverter.Target, from block: any DataBlockSource, encoding: ImportEncoding, scope: Scope, key: String?,
        into unit: any LongUnit, audit: AuditEntry, context: CommandContext
    ) async throws -> Int {
        let token = audit.actor.tokenID
        let noun = target == .needs ? "need" : "offer"
        // A retry of an import that was stored is answered with what it stored; its block is
        // read and dropped.
        let start = try await unit.read(token: token) { db -> ImportStart in
            if let key, let earlier = try db.requests.earlier(token: token, key: key, withinHours: ClientRequests.windowHours) {
                guard earlier.target == noun else {
                    throw ProtocolError(
                        .conflict, "req=\(key) was used for \(earlier.target) within \(ClientRequests.windowHours) h; choose another key")
                }
                return .replay(rows: earlier.rows)
            }
            let reference = try db.registry.importReference()
            switch target {
            case .needs: try db.needs.beginImport()
            case .offers: try db.offers.beginImport()
            }
            return .fresh(reference)
        }
        let reference: ImportReference
        switch start {
        case .replay(let rows): return rows
        case .fresh(let fresh): reference = fresh
        }
        var reader = CSVReader()
        var converter: ImportConverter?
        var chunk: [ImportConverter.Row] = []
        chunk.reserveCapacity(chunkRows)
        var lineNumber = 0
        var row = 0
        // One chunk is on its way to the store while the next is read and checked: the checks
        // here and PostgreSQL's work on the rows run side by side.
        return try await withThrowingTaskGroup(of: Void.self) { sending in
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
                    converter = try ImportConverter(
                        target: target, header: header, counties: reference.counties, occupations: reference.occupations,
                        organisations: reference.organisations, scope: scope)
                    continue
                }
                if fields.count == 1 && fields[0].isEmpty { continue }
                row += 1
                do throws(ImportConverter.RowError) {
                    chunk.append(try current.convert(fields, row: row))
                } catch {
                    throw refusal("row \(error.row) (block line \(lineNumber)), column \(error.column): \(error.message)", code: error.code)
                }
                if chunk.count >= chunkRows {
                    try await sending.next()
                    let full = chunk
                    sending.addTask { try await send(full, into: unit) }
                    chunk = []
                    chunk.reserveCapacity(chunkRows)
                }
            }
            if reader.isIncomplete { throw refusal("the block ended inside a quoted field") }
            guard converter != nil else { throw refusal("the block is empty: a header line is needed") }
            try await sending.waitForAll()
            let last = chunk
            return try await unit.write(audit: audit) { db, audit in
                try store(last, in: db)
                let stored =
                    switch target {
                    case .needs: try db.needs.endImport()
                    case .offers: try db.offers.endImport()
                    }
                audit.changes.append(("rows", "\(stored)"))
                if let key {
                    try ClientRequests.remember(EarlierRequest(target: noun, rows: stored), token: token, key: key, in: db)
                }
                return stored
            }
        }
    }

    /// How an import begins: with the codes to check its rows against, or as the retry of one
    /// that was stored.
    enum ImportStart: Sendable {
        case fresh(ImportReference)
        case replay(rows: Int)
    }

    /// Rows per trip to the store: large enough that the trips cost little, small enough that a
    /// million-row file never sits whole in memory.
    static let chunkRows = 2_000

    static func send(_ rows: [ImportConverter.Row], into unit: any LongUnit) async throws {
        try await unit.read(token: nil) { db in try store(rows, in: db) }
    }

    static func store(_ rows: [ImportConverter.Row], in db: Gateways) throws {
        var needs: [Need] = []
        var offers: [Offer] = []
        for row in rows {
            switch row {
            case .need(let need): needs.append(need)
            case .offer(let offer): offers.append(offer)
            }
        }
        if !needs.isEmpty { try db.needs.importRows(needs) }
        if !offers.isEmpty { try db.offers.importRows(offers) }
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
        var lines = [
            "id,county,kind,occupations,qty,from,to,priority,poverty,monitored,conditions,years,months,school,partnership,direction,status,note"
                + (own ? ",private_note" : "")
        ]
        for need in needs {
            var fields = [
                "\(need.id)", need.county, need.kind.rawValue, need.occupations.joined(separator: ";"), "\(need.quantity)",
                need.from.description, need.to.description, "\(need.priority)", "\(need.poverty)", "\(need.monitored)",
                need.conditions.joined(separator: ";"),
            ] + detailColumns(need.details, kind: need.kind) + [need.status.rawValue, need.note]
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
        var lines = [
            "id,org,kind,occupations,capacity,from,to,place,conditions,quality,years,months,school,partnership,direction,employer,status,note"
                + (own ? ",private_note" : "")
        ]
        for offer in offers {
            var fields = [
                "\(offer.id)", "\(offer.organisation)", offer.kind.rawValue, offer.occupations.joined(separator: ";"),
                "\(offer.capacity)", offer.from.description, offer.to.description, offer.place, offer.conditions, "\(offer.quality)",
            ] + detailColumns(offer.details, kind: offer.kind) + [
                offer.employer.map(String.init) ?? "", offer.status.rawValue, offer.note,
            ]
            if own { fields.append(offer.privateNote) }
            lines.append(fields.map(CSVReader.field).joined(separator: ","))
        }
        return csvReply("offers", lines, page: page, last: offers.last.map { "\($0.id)" })
    }

    /// years, months, school, partnership, direction: as the import reads them back.
    static func detailColumns(_ details: KindDetails, kind: Kind) -> [String] {
        [
            kind == .enrolment ? details.termMonths.map { "\($0 / 12)" } ?? "" : "",
            kind == .enrolment ? "" : details.termMonths.map(String.init) ?? "", details.westSchool,
            details.partnership?.rawValue ?? "", details.direction?.rawValue ?? "",
        ]
    }

    /// CSV lines are the records whatever the connection's FORMAT: they are a file's lines.
    static func csvReply(_ noun: String, _ lines: [String], page: Page, last: String?) -> Reply {
        var header = Reply.Header("\(noun) csv")
        if lines.count - 1 == page.limit, let last { header.fields.fields.append(("next", .text(last))) }
        return .lines(header: header, lines)
    }
}
