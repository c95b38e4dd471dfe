/// An interface address with its prefix length, e.g. `10.0.0.1/24` (host bits are kept).
public struct CIDR: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
              !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
              parts[1].count <= 3, let prefix = Int(parts[1]), prefix <= address.bitCount else { return nil }
        self.init(address: address, prefixLength: prefix)
    }

    /// Why `text` is not an interface address in CIDR form, or nil.
    public static func problem(with text: String) -> String? {
        if CIDR(text) != nil { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let quoted = "\"\(text.escapedForMessage)\""
        if parts.count != 2 {
            return "\(quoted) is not in CIDR form (want address/prefix, e.g. 10.0.0.1/24 or fd12::1/64)"
        }
        guard let address = IPAddress(String(parts[0])) else {
            return "\(quoted): \"\(String(parts[0]).escapedForMessage)\" is not an IPv4 or IPv6 address"
        }
        return "\(quoted): prefix length must be 0-\(address.bitCount) for \(address.isIPv4 ? "IPv4" : "IPv6")"
    }

    public var network: IPAddress { address.masked(to: prefixLength) }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == address.family && other.masked(to: prefixLength) == network
    }

    /// The dotted netmask for IPv4 (used by the kernel's `ip=` argument).
    public var netmask: String {
        let full = IPAddress(family: address.family, bytes: [UInt8](repeating: 0xff, count: address.bytes.count))
        return full.masked(to: prefixLength).description
    }

    public var description: String { "\(address)/\(prefixLength)" }

    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        lhs.address == rhs.address ? lhs.prefixLength < rhs.prefixLength : lhs.address < rhs.address
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let cidr = CIDR(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad CIDR \(text)"))
        }
        self = cidr
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
