/// `mooring run`'s round durations as a Prometheus histogram (`mooring_round_duration_seconds`): the watch loop
/// records each round, the report writes the buckets. Kept as counts, not observations: a loop that runs for
/// months reports in constant space.
public struct RoundDurations: Sendable {
    /// Upper bounds in seconds: a watch repair is a few milliseconds, a full converge of a thousand VMs about a
    /// second, a round that waits for VMs to stop up to their timeouts.
    public static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    public private(set) var counts = [Int](repeating: 0, count: bounds.count)
    public private(set) var count = 0
    public private(set) var sum = 0.0

    public init() {}

    public mutating func record(_ seconds: Double) {
        for (index, bound) in Self.bounds.enumerated() where seconds <= bound { counts[index] += 1 }
        count += 1
        sum += seconds
    }

    /// The histogram in Prometheus's text format, with the command's label.
    func text(command: String) -> String {
        let name = "mooring_round_duration_seconds"
        var lines = ["# HELP \(name) How long `mooring run`'s rounds took.", "# TYPE \(name) histogram"]
        for (index, bound) in Self.bounds.enumerated() {
            lines.append("\(name)_bucket{command=\"\(command)\",le=\"\(bound)\"} \(counts[index])")
        }
        lines.append("\(name)_bucket{command=\"\(command)\",le=\"+Inf\"} \(count)")
        lines.append("\(name)_sum{command=\"\(command)\"} \(sum)")
        lines.append("\(name)_count{command=\"\(command)\"} \(count)")
        return lines.joined(separator: "\n") + "\n"
    }
}
