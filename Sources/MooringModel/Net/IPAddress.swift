#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address. Text form is the canonical one (`inet_ntop`, RFC 5952), which is also
/// what the kernel and nftables print, so observed and desired values compare as strings.
public struct IPAddress: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case ipv4, ipv6 }

    public let family: Family
    public let bytes: [UInt8]

    public init(family: Family, bytes: [UInt8]) {
        precondition(bytes.count == (family == .ipv4 ? 4 : 16))
        self.family = family
        self.bytes = bytes
    }

    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard text.withCString({ inet_pton(AF_INET6, $0, &raw) }) == 1 else { return nil }
            self.init(family: .ipv6, bytes: withUnsafeBytes(of: &raw) { Array($0) })
        } else {
            // inet_pton accepts only dotted quads with four parts, which is the strictness we want.
            var raw = in_addr()
            guard text.withCString({ inet_pton(AF_INET, $0, &raw) }) == 1 else { return nil }
            self.init(family: .ipv4, bytes: withUnsafeBytes(of: &raw) { Array($0) })
        }
    }

    public var isIPv4: Bool { family == .ipv4 }
    public var bitCount: Int { bytes.count * 8 }

    public var isMulticast: Bool { family == .ipv4 ? (bytes[0] & 0xf0) == 0xe0 : bytes[0] == 0xff }
    public var isLinkLocal: Bool {
        family == .ipv4 ? (bytes[0] == 169 && bytes[1] == 254) : (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80)
    }
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    public var isLoopback: Bool {
        family == .ipv4 ? bytes[0] == 127 : (bytes.dropLast().allSatisfy { $0 == 0 } && bytes[15] == 1)
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let af = family == .ipv4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { raw in inet_ntop(af, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address with every bit past `prefix` cleared.
    public func masked(to prefix: Int) -> IPAddress {
        var out = bytes
        for index in out.indices {
            let bitsBefore = index * 8
            if bitsBefore >= prefix { out[index] = 0 } else if bitsBefore + 8 > prefix {
                out[index] &= UInt8(truncatingIfNeeded: 0xff << (8 - (prefix - bitsBefore)))
            }
        }
        return IPAddress(family: family, bytes: out)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .ipv4 }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad IP \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
