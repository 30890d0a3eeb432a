import ArgumentParser
import CommandProtocol
import Foundation
import MatchCore

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the yearly progress report from a running server, as CSV or as one HTML page with charts.",
        discussion: """
            --csv writes what REPORT year=… format=csv returns, ready to file. --html writes a self-contained \
            page (inline SVG charts, no scripts, no network) that opens, prints and mails as it is.
            """)

    @Option(help: "The report's year.") var year: Int
    @Option(help: "One western province (code or name); default: every province the token sees.") var province: String?
    @Option(help: "Write the report as CSV to this file.") var csv: String?
    @Option(help: "Write the report as an HTML page to this file.") var html: String?
    @Option(help: "The language of headings, reasons and the summary: en or zh.") var lang: ReportLanguage = .en
    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard (csv == nil) != (html == nil) else { throw ValidationError("give one of --csv FILE or --html FILE") }
    }

    func run() throws {
        let connection = try server.connect()
        let scope = (province.map { " province=\(Field.quoted($0))" } ?? "") + " lang=\(lang.rawValue)"
        if let csv {
            let lines = try Self.lines(connection, "REPORT year=\(year)\(scope) format=csv")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: csv))
            // The header, the rows, the summary row.
            print("wrote \(csv): \(lines.count - 2) rows")
        }
        if let html {
            let format = try connection.request("FORMAT json")
            guard ServerConnection.isOK(format) else { throw ClientError("the server refused FORMAT json: \(format)") }
            let (header, rows) = try Self.records(connection, "REPORT year=\(year)\(scope)")
            let page = ReportPage(
                year: year, province: province, language: lang, header: header, rows: rows,
                pairings: try Self.records(connection, "FILL by=pairing year=\(year)").records,
                kinds: try Self.records(connection, "FILL by=kind year=\(year)").records,
                lastKinds: try Self.records(connection, "FILL by=kind year=\(year - 1)").records)
            try Data(page.html().utf8).write(to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
    }

    /// The records of one reply, or exit 1 with the server's refusal.
    static func lines(_ connection: ServerConnection, _ request: String) throws -> [String] {
        try connection.send(Array((request + "\n").utf8))
        let (first, lines) = try connection.readReply()
        guard first.hasPrefix("OK") else {
            FileHandle.standardError.write(Data("\(request): \(first)\n".utf8))
            throw ExitCode(1)
        }
        return lines
    }

    /// Every page of a paged command's JSON records, following `next=`, and the first page's header.
    static func records(_ connection: ServerConnection, _ request: String) throws -> (header: [String: Any], records: [[String: Any]]) {
        var firstHeader: [String: Any]?
        var records: [[String: Any]] = []
        var after: String?
        repeat {
            try connection.send(Array((request + " limit=1000" + (after.map { " after=\(Field.quoted($0))" } ?? "") + "\n").utf8))
            let (first, lines) = try connection.readReply()
            guard let header = ServerConnection.jsonObject(first), header["ok"] as? Bool == true else {
                FileHandle.standardError.write(Data("\(request): \(first)\n".utf8))
                throw ExitCode(1)
            }
            firstHeader = firstHeader ?? header
            for line in lines {
                guard let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw ClientError("not a JSON record: \(line)")
                }
                records.append(record)
            }
            after = header["next"] as? String
        } while after != nil
        return (firstHeader ?? [:], records)
    }
}

extension ReportLanguage: ExpressibleByArgument {}
