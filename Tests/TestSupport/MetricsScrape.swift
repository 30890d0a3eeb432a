/// Scrapes a Prometheus endpoint the way Prometheus does: an HTTP/1.1 GET over a TCP connection
/// of its own, the samples read from the text format.
public enum MetricsScrape {
    /// One scrape over its own TCP connection: the status line, the headers and, for a 200, the
    /// samples by series (name and labels, as written).
    public static func get(port: Int, path: String = "/metrics") async throws -> (status: String, headers: [String], samples: [String: Double]) {
        let client = try await LineClient.connect(port: port)
        try await client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let lines = try await client.readAll().map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        guard let blank = lines.firstIndex(of: "") else { throw LineClientError("no end of the headers in \(lines)") }
        var samples: [String: Double] = [:]
        for line in lines[(blank + 1)...] where lines.first?.hasSuffix(" 200 OK") == true && !line.isEmpty && !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw LineClientError("not a sample: \(line)")
            }
            samples[String(line[..<space])] = value
        }
        return (lines.first ?? "", Array(lines[1..<blank]), samples)
    }
}
