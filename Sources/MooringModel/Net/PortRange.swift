/// A TCP/UDP port or an inclusive range of ports.
public struct PortRange: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let lower: Int
    public let upper: Int

    public init(_ lower: Int, _ upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    public init(single port: Int) { self.init(port, port) }

    public var isSingle: Bool { lower == upper }
    public var count: Int { upper - lower + 1 }

    public func overlaps(_ other: PortRange) -> Bool { lower <= other.upper && other.lower <= upper }

    /// `80` or `8000-8010`, the form nftables uses.
    public var description: String { isSingle ? "\(lower)" : "\(lower)-\(upper)" }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        lhs.lower == rhs.lower ? lhs.upper < rhs.upper : lhs.lower < rhs.lower
    }

    /// Parses `80`, `"8000:8010"` or `"8000-8010"`; nil with no explanation means not port-shaped.
    public static func parse(_ text: String) -> Result<PortRange, PortRangeProblem> {
        let separators: Set<Character> = [":", "-"]
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) })
        guard parts.count == 1 || parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let lower = Int(parts[0]), let upper = Int(parts.last!) else {
            return .failure(.notAPort)
        }
        guard (1...65535).contains(lower), (1...65535).contains(upper) else { return .failure(.outOfRange) }
        guard lower <= upper else { return .failure(.reversed) }
        return .success(PortRange(lower, upper))
    }
}

public enum PortRangeProblem: Error, Sendable {
    case notAPort, outOfRange, reversed
}
