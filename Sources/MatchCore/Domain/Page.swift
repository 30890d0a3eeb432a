import CommandProtocol

/// `limit=` and `after=` of a list command: at most `limit` records whose key sorts after
/// `after`, so a long list is read page by page and no reply is held whole in memory.
public struct Page: Sendable, Equatable {
    public var limit: Int
    public var after: String?

    public init(limit: Int, after: String? = nil) {
        self.limit = limit
        self.after = after
    }

    /// - Parameter idCursor: for lists keyed by numeric ids, what the id is ("a need id"), so a
    ///   cursor that is not a number is refused naming it.
    static func from(_ request: Request, settings: ServerSettings, idCursor: String? = nil) throws(ProtocolError) -> Page {
        var limit = settings.defaultPageSize
        if let text = request.option("limit") {
            guard let value = Int(wholeNumber: text), (1...settings.maximumPageSize).contains(value) else {
                throw ProtocolError(.badArg, "limit must be a whole number from 1 to \(settings.maximumPageSize)")
            }
            limit = value
        }
        let after = request.option("after")
        if let after, after.isEmpty { throw ProtocolError(.badArg, "after must not be empty") }
        if let after, let idCursor, Int64(wholeNumber: after) == nil { throw ProtocolError(.badArg, "after must be \(idCursor)") }
        return Page(limit: limit, after: after)
    }
}

extension Reply {
    /// A page of records; the header says `next=<cursor>` when a full page suggests more remain.
    static func page(_ header: Header, _ records: [Record], page: Page, cursor: (Record) -> String?) -> Reply {
        var header = header
        if records.count == page.limit, let last = records.last, let next = cursor(last) {
            header.fields.fields.append(("next", .text(next)))
        }
        return .records(header: header, records)
    }
}
