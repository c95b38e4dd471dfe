/// A tap's bandwidth limits (`rateLimit: {toGuest: 100mbit, fromGuest: 50mbit}`), in bytes per second, enforced
/// at the guest's bridge port by mooring's `bridge mooring` table.
public struct RateLimit: Sendable, Codable, Equatable, Hashable {
    /// What the guest may receive, and send, per second; nil is unlimited.
    public var toGuest: UInt64?
    public var fromGuest: UInt64?

    public init(toGuest: UInt64? = nil, fromGuest: UInt64? = nil) {
        self.toGuest = toGuest
        self.fromGuest = fromGuest
    }

    /// `100mbit`, `1gbit`, `512kbit`, `800bit` (bits per second, as tc spells them; 1k = 1000) in bytes per second.
    public static func bytesPerSecond(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("gbit", 1_000_000_000), ("mbit", 1_000_000), ("kbit", 1_000), ("bit", 1)]
        let lower = text.lowercased()
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            guard let value = UInt64(lower.dropLast(suffix.count)), value > 0 else { return nil }
            let (bits, overflow) = value.multipliedReportingOverflow(by: scale)
            guard !overflow, bits >= 8_000 else { return nil }
            return bits / 8
        }
        return nil
    }
}
