import CommandProtocol

/// What the western and the eastern report share when they become files.
enum ReportFiles {
    /// The header (field names, or their Chinese headings), a line per row, then the summary
    /// sentence as a row of level `summary` with the sentence in the name column, so that a
    /// spreadsheet keeps one shape and a script drops it by its level.
    static func csv(names: [String], _ rows: [[(String, Record.Value)]], summary: String, _ language: ReportLanguage) -> [String] {
        let summaryRow = names.map { name -> String in
            switch name {
            case "level": language.level("summary")
            case "name": summary
            default: ""
            }
        }
        return [names.map { CSVReader.field(language.heading($0)) }.joined(separator: ",")]
            + rows.map { row in
                row.map { name, value in
                    CSVReader.field(name == "level" ? language.level(value.spelling) : plain(value))
                }.joined(separator: ",")
            }
            + [summaryRow.map(CSVReader.field).joined(separator: ",")]
    }

    /// A spreadsheet cell: the text-mode word, but empty for null.
    static func plain(_ value: Record.Value) -> String {
        value == .null ? "" : value.spelling
    }

    static func markdownTable(_ header: [String], _ rows: [[String]]) -> [String] {
        ["| " + header.map(escaped).joined(separator: " | ") + " |", "| --- |" + String(repeating: " ---: |", count: header.count - 1)]
            + rows.map { "| " + $0.joined(separator: " | ") + " |" }
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "|" { out += "\\|" } else { out.append(character) }
        }
        return out
    }

    /// The deadline line and, once a province has filed, the rows changed since, for Markdown.
    struct FilingNote {
        var line: String
        var changes: [String] = []
    }
}
