import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import needs or offers from a CSV file through a running server (all or nothing).",
        discussion: """
            The file's first line names the columns (see NEED IMPORT and OFFER IMPORT in the README). \
            Files from Chinese spreadsheet software are usually GB 18030: give --encoding gb18030.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case needs, offers }
    enum Encoding: String, ExpressibleByArgument, CaseIterable {
        case utf8 = "utf-8"
        case gb18030
    }

    @Argument(help: "needs or offers.") var kind: Kind
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "utf-8 (with or without BOM) or gb18030.") var encoding: Encoding = .utf8
    @OptionGroup var server: ServerOptions

    func run() throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let connection = try server.connect()
        let verb = kind == .needs ? "NEED IMPORT" : "OFFER IMPORT"
        try connection.send(Array("\(verb) encoding=\(encoding.rawValue)\n".utf8))
        let progress = Progress(total: size, enabled: isatty(2) == 1)
        var sent = 0
        var carry: [UInt8] = []
        while true {
            let data = handle.readData(ofLength: 1 << 20)
            if data.isEmpty { break }
            sent += data.count
            carry.append(contentsOf: data)
            guard let lastNewline = carry.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            try connection.send(Self.dotStuffed(carry[...lastNewline]))
            carry.removeFirst(lastNewline + 1)
            progress.show(sent)
        }
        if !carry.isEmpty { try connection.send(Self.dotStuffed(carry[...] + [UInt8(ascii: "\n")])) }
        try connection.send(Array(".\n".utf8))
        progress.finish()
        let reply = try connection.readLine()
        print(reply)
        if !reply.hasPrefix("OK") { throw ExitCode(1) }
    }

    /// A data line that starts with `.` is sent with one more, so it cannot end the block.
    static func dotStuffed(_ lines: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.count + 64)
        var atLineStart = true
        for byte in lines {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        return out
    }
}

/// A one-line progress bar on stderr, drawn only on a terminal.
struct Progress {
    let total: Int
    let enabled: Bool

    func show(_ done: Int) {
        guard enabled, total > 0 else { return }
        let fraction = min(1, Double(done) / Double(total))
        let width = 40
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(Int(fraction * 100))% \(done / 1_048_576) MiB".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
