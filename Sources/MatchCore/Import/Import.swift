import CommandProtocol
import Foundation
import MatchingEngine

/// Turns CSV rows of a data block into needs or offers, checking every value on the way: the
/// first bad one stops the import, which then stores nothing.
final class ImportConverter {
    enum Target { case needs, offers }

    struct RowError: Error {
        var row: Int
        var column: String
        var message: String
        /// DENIED for a row outside the token's scope, BAD_ARG for a bad value.
        var code: ErrorCode = .badArg
    }

    /// Header names a file may use for each column; the first is the canonical one.
    static let needColumns: [(names: [String], required: Bool)] = [
        (["county"], true), (["kind"], true), (["occupations", "occupation"], true), (["qty", "quantity"], true),
        (["from", "start", "window_start"], true), (["to", "end", "window_end"], true), (["priority"], false),
        (["poverty", "poverty_focus", "poverty_people"], false), (["note"], false), (["private_note", "private-note"], false),
        (["monitored", "monitored_people"], false), (["years"], false), (["months"], false), (["school"], false),
        (["partnership"], false), (["direction"], false), (["conditions"], false),
    ]
    static let offerColumns: [(names: [String], required: Bool)] = [
        (["org", "organisation", "organization"], true), (["kind"], true), (["occupations", "occupation"], true),
        (["capacity", "qty", "quantity"], true), (["from", "start", "window_start"], true), (["to", "end", "window_end"], true),
        (["place"], false), (["conditions"], false), (["note"], false), (["private_note", "private-note"], false),
        (["quality"], false), (["years"], false), (["months"], false), (["school"], false), (["partnership"], false),
        (["direction"], false), (["employer"], false),
    ]

    let target: Target
    /// For each canonical column, its index in the file's rows (nil when absent).
    private let positions: [Int?]
    private let columnNames: [String]
    private let columnIndex: [String: Int]
    private let headerCount: Int
    private let counties: Set<String>
    private let occupations: Set<String>
    /// By id, for offers and east scopes.
    private let organisations: [Int64: Organisation]
    private let scope: Scope

    init(
        target: Target, header: [String], counties: Set<String>, occupations: Set<String>,
        organisations: [Int64: Organisation], scope: Scope
    ) throws(ProtocolError) {
        self.target = target
        self.counties = counties
        self.occupations = occupations
        self.organisations = organisations
        self.scope = scope
        let columns = target == .needs ? Self.needColumns : Self.offerColumns
        let normalized = header.map { asciiLowercased($0.trimmingSpaces) }
        for (index, name) in normalized.enumerated() where !columns.contains(where: { $0.names.contains(name) }) {
            throw ProtocolError(
                .badArg,
                "header column \(index + 1) '\(header[index])' is not one of \(columns.map { $0.names[0] }.joined(separator: ","))")
        }
        var positions: [Int?] = []
        for column in columns {
            let found = normalized.indices.filter { column.names.contains(normalized[$0]) }
            if found.count > 1 { throw ProtocolError(.badArg, "header names column '\(column.names[0])' twice") }
            if column.required && found.isEmpty {
                throw ProtocolError(.badArg, "header lacks the required column '\(column.names[0])'")
            }
            positions.append(found.first)
        }
        self.positions = positions
        self.columnNames = columns.map { $0.names[0] }
        self.columnIndex = Dictionary(uniqueKeysWithValues: columnNames.enumerated().map { ($1, $0) })
        self.headerCount = header.count
    }

    private static let codeSeparators: [UInt8] = [UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "|"), UInt8(ascii: " ")]

    /// Whether `text` has more than `limit` characters; counting them is the dear part, and a
    /// text of at most `limit` bytes has at most `limit` characters.
    private static func longer(_ text: String, than limit: Int) -> Bool {
        text.utf8.count > limit && text.count > limit
    }

    /// One imported row: a need or an offer, as the file gives it.
    enum Row: Sendable {
        case need(Need)
        case offer(Offer)
    }

    func convert(_ fields: [[UInt8]], row: Int) throws(RowError) -> Row {
        guard fields.count == headerCount else {
            throw RowError(row: row, column: "-", message: "the row has \(fields.count) fields, the header \(headerCount)")
        }
        var values: [String] = []
        values.reserveCapacity(columnNames.count)
        for position in positions {
            values.append(position.map { String(decoding: fields[$0], as: UTF8.self).trimmingSpaces } ?? "")
        }
        func fail(_ column: Int, _ message: String) -> RowError {
            RowError(row: row, column: columnNames[column], message: message)
        }
        // Columns 0–5 are the same shape for needs and offers: owner, kind, occupations, units, from, to.
        let owner = values[0]
        var organisation: Int64 = 0
        switch target {
        case .needs:
            guard counties.contains(owner) else { throw fail(0, "no county '\(owner)'") }
            guard SubmissionCommands.contains(scope, county: owner) else {
                throw RowError(row: row, column: columnNames[0], message: "county \(owner) is outside this token's scope", code: .denied)
            }
        case .offers:
            guard let id = Int64(wholeNumber: owner), let found = organisations[id] else { throw fail(0, "no organisation '\(owner)'") }
            organisation = id
            guard SubmissionCommands.contains(scope, organisation: id, province: found.province, city: found.city) else {
                throw RowError(
                    row: row, column: columnNames[0], message: "organisation \(owner) is outside this token's scope", code: .denied)
            }
        }
        guard let kind = Kind(rawValue: asciiLowercased(values[1])) else {
            throw fail(1, "'\(values[1])' is not one of labor|training|enrolment|school_partnership|talent|secondment")
        }
        let codes = values[2].utf8.split(whereSeparator: { Self.codeSeparators.contains($0) }).map { String(Substring($0)) }
        guard (1...20).contains(codes.count) else { throw fail(2, "give 1 to 20 occupation codes separated by ;") }
        for code in codes where !occupations.contains(code) { throw fail(2, "unknown occupation code '\(code)'") }
        for code in codes { if let problem = Occupation.unmatchable(code) { throw fail(2, problem) } }
        guard let units = Int(wholeNumber: values[3]), (1...1_000_000).contains(units) else {
            throw fail(3, "must be a whole number from 1 to 1000000, not '\(values[3])'")
        }
        guard let from = Day(values[4]) else { throw fail(4, "'\(values[4])' is not a date YYYY-MM-DD") }
        guard let to = Day(values[5]) else { throw fail(5, "'\(values[5])' is not a date YYYY-MM-DD") }
        guard from <= to else { throw fail(4, "\(from) is after to \(to)") }
        let occupationCodes = codes.count == 1 ? codes : Array(Set(codes)).sorted()
        let details: KindDetails
        do {
            details = try KindDetails.parse(
                { name in columnIndex[name].map { values[$0] } }, kind: kind, side: target == .needs ? .need : .offer)
        } catch {
            throw RowError(row: row, column: "years/months/school/partnership/direction", message: error.message)
        }
        switch target {
        case .needs:
            var priority = 3
            if !values[6].isEmpty {
                guard let value = Int(wholeNumber: values[6]), (1...5).contains(value) else { throw fail(6, "must be 1 to 5, not '\(values[6])'") }
                priority = value
            }
            // A count of 脱贫劳动力; yes/no (是/否) are the old flag's spellings, read as the
            // migration reads the flag: all of the need's people, or none.
            let poverty: Int
            switch asciiLowercased(values[7]) {
            case "", "no", "n", "false", "否": poverty = 0
            case "yes", "y", "true", "是": poverty = units
            default:
                guard let count = Int(wholeNumber: values[7]), (0...units).contains(count) else {
                    throw fail(7, "must be the number of 脱贫劳动力 among the need's \(units) people (or yes/no), not '\(values[7])'")
                }
                poverty = count
            }
            var monitored = 0
            if !values[10].isEmpty {
                guard let count = Int(wholeNumber: values[10]), (0...units).contains(count) else {
                    throw fail(10, "must be the number of 防止返贫监测对象 among the need's \(units) people, not '\(values[10])'")
                }
                monitored = count
            }
            for index in 8...9 where Self.longer(values[index], than: 2_000) { throw fail(index, "is longer than 2000 characters") }
            let conditions: [String]
            do { conditions = try SubmissionCommands.wantedConditions(values[16]) } catch { throw fail(16, error.message) }
            return .need(
                Need(
                    county: owner, kind: kind, occupations: occupationCodes, quantity: units, from: from, to: to, priority: priority,
                    poverty: poverty, monitored: monitored, conditions: conditions, details: details, note: values[8],
                    privateNote: values[9]))
        case .offers:
            for index in 6...9 {
                let limit = index == 6 ? 200 : 2_000
                guard !Self.longer(values[index], than: limit) else { throw fail(index, "is longer than \(limit) characters") }
            }
            var quality = 0
            if !values[10].isEmpty {
                guard let value = Int(wholeNumber: values[10]), (0...50).contains(value) else { throw fail(10, "must be 0 to 50, not '\(values[10])'") }
                quality = value
            }
            var employer: Organisation?
            if !values[16].isEmpty {
                guard let id = Int64(wholeNumber: values[16]), let found = organisations[id] else { throw fail(16, "no organisation '\(values[16])'") }
                employer = found
            }
            let offer = Offer(
                organisation: organisation, kind: kind, occupations: occupationCodes, capacity: units, from: from, to: to,
                place: values[6], conditions: values[7], quality: quality, details: details, employer: employer?.id, note: values[8],
                privateNote: values[9])
            do {
                return .offer(try offer.madeBy(organisations[organisation]!, employer: employer))
            } catch {
                throw RowError(row: row, column: columnNames[16], message: error.message)
            }
        }
    }
}

/// The text encodings an import accepts: what Chinese spreadsheet software writes, too.
enum ImportEncoding: String, CaseIterable {
    case utf8 = "utf-8"
    case gb18030

    /// Foundation's number for GB 18030 (kCFStringEncodingGB_18030_2000 as an NSStringEncoding).
    static let gb18030Encoding = String.Encoding(rawValue: 0x8000_0632)

    /// One line as UTF-8 bytes; a byte-order mark on the first line is dropped.
    func decode(_ bytes: [UInt8], first: Bool) -> [UInt8]? {
        switch self {
        case .utf8:
            let body = first && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
            return String(validating: body, as: UTF8.self) == nil ? nil : body
        case .gb18030:
            let body = first && bytes.starts(with: [0x84, 0x31, 0x95, 0x33]) ? Array(bytes.dropFirst(4)) : bytes
            if body.allSatisfy({ $0 < 0x80 }) { return body }
            guard let text = String(data: Data(body), encoding: Self.gb18030Encoding) else { return nil }
            return Array(text.utf8)
        }
    }
}
