/// Reader for the benchmark instance format of `../shared/bench/README.md`:
/// a header `N M E`, N need lines, M offer lines, E edge lines `need offer score`.
///
/// Solvers use quantities, capacities and edges; of the other columns the reader keeps
/// the county (the group of `fair` mode) and the tags, because in `stable` mode an offer
/// ranks needs by tag fit, `450 × |common tags| ÷ max(|tags|)`, as the reference
/// `solve_stable.py --offer-pref fit` does.
public enum InstanceFormat {
    public static func parse(_ text: String) throws(MatchingError) -> MatchingProblem {
        var copy = text
        return try copy.withUTF8 { buf in Result { () throws(MatchingError) in try parse(buf) } }.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(MatchingError) -> MatchingProblem {
        try bytes.withUnsafeBufferPointer { buf in Result { () throws(MatchingError) in try parse(buf) } }.get()
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(MatchingError) -> MatchingProblem {
        var r = Reader(bytes: bytes)
        let n = try r.int(field: "need count")
        let m = try r.int(field: "offer count")
        let e = try r.int(field: "edge count")
        try r.endLine()
        guard n >= 0, m >= 0, e >= 0, n < Int32.max, m < Int32.max, e < Int32.max else {
            throw .invalidInstance(line: 1, "bad header counts \(n) \(m) \(e)")
        }
        var tagIDs = Interner()
        var quantity = [Int64](repeating: 0, count: Int(n))
        var needGroup = [Int32](repeating: 0, count: Int(n))
        var groupIndex: [String: Int32] = [:]
        var groupNames: [String] = []
        var needTags: [[Int32]] = []
        needTags.reserveCapacity(Int(n))
        for i in 0..<Int(n) {
            let idx = try r.int(field: "need index")
            guard idx == Int64(i) else { throw .invalidInstance(line: r.line, "need line \(i) has index \(idx)") }
            let county = try r.word(field: "county")
            try r.skipWords(2, field: "west_prov paired_east")
            _ = try r.word(field: "kind")
            let q = try r.int(field: "quantity")
            guard q >= 0 else { throw .invalidInstance(line: r.line, "negative quantity \(q)") }
            quantity[i] = q
            try r.skipWords(3, field: "priority t_start t_end")
            needTags.append(r.tags(&tagIDs))
            try r.endLine()
            if let g = groupIndex[county] {
                needGroup[i] = g
            } else {
                let g = Int32(groupNames.count)
                groupIndex[county] = g
                groupNames.append(county)
                needGroup[i] = g
            }
        }
        var capacity = [Int64](repeating: 0, count: Int(m))
        var offerTags: [[Int32]] = []
        offerTags.reserveCapacity(Int(m))
        for j in 0..<Int(m) {
            let idx = try r.int(field: "offer index")
            guard idx == Int64(j) else { throw .invalidInstance(line: r.line, "offer line \(j) has index \(idx)") }
            try r.skipWords(2, field: "east_prov kind")
            let c = try r.int(field: "capacity")
            guard c >= 0 else { throw .invalidInstance(line: r.line, "negative capacity \(c)") }
            capacity[j] = c
            try r.skipWords(3, field: "quality t_start t_end")
            offerTags.append(r.tags(&tagIDs))
            try r.endLine()
        }
        var edgeNeed = [Int32](repeating: 0, count: Int(e))
        var edgeOffer = [Int32](repeating: 0, count: Int(e))
        var score = [Int64](repeating: 0, count: Int(e))
        var fit = [Int64](repeating: 0, count: Int(e))
        for k in 0..<Int(e) {
            let i = try r.int(field: "edge need")
            let j = try r.int(field: "edge offer")
            let s = try r.int(field: "edge score")
            try r.endLine()
            guard i >= 0, i < n, j >= 0, j < m else {
                throw .invalidInstance(line: r.line - 1, "edge (\(i), \(j)) out of range")
            }
            edgeNeed[k] = Int32(i)
            edgeOffer[k] = Int32(j)
            score[k] = s
            fit[k] = tagFit(needTags[Int(i)], offerTags[Int(j)])
        }
        r.skipBlank()
        guard r.atEnd else { throw .invalidInstance(line: r.line, "text after the \(e) edge lines") }
        do {
            return try MatchingProblem(
                quantity: quantity, capacity: capacity, edgeNeed: edgeNeed, edgeOffer: edgeOffer, score: score,
                offerPreference: fit, needGroup: needGroup, groupNames: groupNames)
        } catch {
            throw .invalidInstance(line: 0, "\(error)")
        }
    }

    /// The need and offer lines as records, for building candidates from them instead of
    /// taking the file's edges. Each county's current pairing is its `paired_east`
    /// province; offers have no city in this format, so they use their province.
    public static func records(_ bytes: UnsafeBufferPointer<UInt8>) throws(MatchingError) -> InstanceRecords {
        var r = Reader(bytes: bytes)
        let n = try r.int(field: "need count")
        let m = try r.int(field: "offer count")
        _ = try r.int(field: "edge count")
        try r.endLine()
        var out = InstanceRecords()
        func window(_ r: inout Reader) throws(MatchingError) -> TimeWindow {
            let start = try r.int(field: "t_start")
            let end = try r.int(field: "t_end")
            guard start < end else { throw .invalidInstance(line: r.line, "empty window \(start) \(end)") }
            return TimeWindow(start: Int(start), end: Int(end))
        }
        for i in 0..<n {
            let idx = try r.int(field: "need index")
            let county = try r.word(field: "county")
            let province = try r.word(field: "west_prov")
            let partner = try r.word(field: "paired_east")
            let kind = try r.kind()
            let q = try r.int(field: "quantity")
            let priority = try r.int(field: "priority")
            let w = try window(&r)
            let codes = try r.codes()
            try r.endLine()
            guard idx == i, q >= 0, (1...5).contains(priority) else {
                throw .invalidInstance(line: r.line - 1, "bad need line \(i)")
            }
            out.pairings.provinceLevel.insert(PairKey(west: province, east: partner))
            out.needs.append(
                NeedRecord(
                    id: i, county: county, province: province, kind: kind, occupations: codes, quantity: q,
                    window: w, priority: Int(priority)))
        }
        for j in 0..<m {
            let idx = try r.int(field: "offer index")
            let province = try r.word(field: "east_prov")
            let kind = try r.kind()
            let c = try r.int(field: "capacity")
            let quality = try r.int(field: "quality")
            let w = try window(&r)
            let codes = try r.codes()
            try r.endLine()
            guard idx == j, c >= 0, (0...50).contains(quality) else {
                throw .invalidInstance(line: r.line - 1, "bad offer line \(j)")
            }
            out.offers.append(
                OfferRecord(
                    id: j, province: province, city: province, kind: kind, occupations: codes, capacity: c,
                    window: w, quality: Int(quality)))
        }
        return out
    }

    /// 450 × |a ∩ b| ÷ max(|a|, |b|) over sorted tag lists.
    static func tagFit(_ a: [Int32], _ b: [Int32]) -> Int64 {
        var common = 0
        for x in a where b.contains(x) { common += 1 }
        let d = max(a.count, b.count)
        return d == 0 ? 0 : Int64(450 * common / d)
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var pos = 0
        var line = 1

        var atEnd: Bool { pos >= bytes.count }

        @inline(__always)
        mutating func skipSpaces() {
            while pos < bytes.count {
                let c = bytes[pos]
                guard c == 0x20 || c == 0x09 || c == 0x0D else { break }
                pos += 1
            }
        }

        mutating func int(field: String) throws(MatchingError) -> Int64 {
            skipSpaces()
            var negative = false
            if pos < bytes.count && bytes[pos] == 0x2D {
                negative = true
                pos += 1
            }
            let start = pos
            var v: Int64 = 0
            while pos < bytes.count {
                let d = bytes[pos] &- 0x30
                guard d < 10 else { break }
                let (a, o1) = v.multipliedReportingOverflow(by: 10)
                let (b, o2) = a.addingReportingOverflow(Int64(d))
                guard !o1, !o2 else { throw .invalidInstance(line: line, "\(field) does not fit 64 bits") }
                v = b
                pos += 1
            }
            guard pos > start, pos == bytes.count || isSeparator(bytes[pos]) else {
                throw .invalidInstance(line: line, "expected an integer \(field), found \(preview())")
            }
            return negative ? -v : v
        }

        mutating func word(field: String) throws(MatchingError) -> String {
            skipSpaces()
            let start = pos
            while pos < bytes.count && !isSeparator(bytes[pos]) { pos += 1 }
            guard pos > start else { throw .invalidInstance(line: line, "missing \(field)") }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        }

        mutating func skipWords(_ count: Int, field: String) throws(MatchingError) {
            for _ in 0..<count {
                skipSpaces()
                let start = pos
                while pos < bytes.count && !isSeparator(bytes[pos]) { pos += 1 }
                guard pos > start else { throw .invalidInstance(line: line, "missing \(field)") }
            }
        }

        /// Optional comma-separated tags; each distinct tag gets a small integer.
        mutating func tags(_ ids: inout Interner) -> [Int32] {
            skipSpaces()
            var out: [Int32] = []
            while pos < bytes.count && !isSeparator(bytes[pos]) {
                let start = pos
                while pos < bytes.count && !isSeparator(bytes[pos]) && bytes[pos] != 0x2C { pos += 1 }
                let tag = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                if !tag.isEmpty { out.append(ids.id(tag)) }
                if pos < bytes.count && bytes[pos] == 0x2C { pos += 1 }
            }
            return out
        }

        mutating func kind() throws(MatchingError) -> Kind {
            let w = try word(field: "kind")
            guard let k = Kind(rawValue: w) else { throw .invalidInstance(line: line, "unknown kind '\(w)'") }
            return k
        }

        mutating func codes() throws(MatchingError) -> [OccupationCode] {
            skipSpaces()
            guard pos < bytes.count, !isSeparator(bytes[pos]) else { return [] }
            let list = try word(field: "tags")
            var out: [OccupationCode] = []
            for t in list.split(separator: ",") {
                guard let c = OccupationCode(String(t)) else { throw .invalidInstance(line: line, "bad code '\(t)'") }
                out.append(c)
            }
            return out
        }

        mutating func endLine() throws(MatchingError) {
            skipSpaces()
            if pos == bytes.count { return }
            guard bytes[pos] == 0x0A else { throw .invalidInstance(line: line, "unexpected \(preview()) at end of line") }
            pos += 1
            line += 1
        }

        mutating func skipBlank() {
            while pos < bytes.count {
                let c = bytes[pos]
                guard c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A else { break }
                if c == 0x0A { line += 1 }
                pos += 1
            }
        }

        @inline(__always)
        func isSeparator(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }

        func preview() -> String {
            guard pos < bytes.count else { return "end of file" }
            let end = min(bytes.count, pos + 20)
            var s = String(decoding: UnsafeBufferPointer(rebasing: bytes[pos..<end]), as: UTF8.self)
            if let nl = s.firstIndex(of: "\n") { s = String(s[..<nl]) }
            return "'\(s)'"
        }
    }
}

public struct InstanceRecords: Sendable {
    public var needs: [NeedRecord] = []
    public var offers: [OfferRecord] = []
    public var pairings = Pairings()
}
