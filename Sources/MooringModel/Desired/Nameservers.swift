/// DNS for one link, as systemd-resolved keeps it per link (`resolvectl dns br0`, `resolvectl domain br0`): the
/// servers to ask and the search domains. Set through resolved's D-Bus API, never by editing resolv.conf.
public struct Nameservers: Sendable, Codable, Equatable, Hashable {
    public var addresses: [IPAddress]
    /// Search domains, without a leading `~` (routing-only domains are not offered).
    public var search: [String]

    public init(addresses: [IPAddress] = [], search: [String] = []) {
        self.addresses = addresses
        self.search = search
    }

    public var isEmpty: Bool { addresses.isEmpty && search.isEmpty }

    /// `192.0.2.1, 2001:db8::1 search lan`, or `none`.
    public var text: String {
        if isEmpty { return "none" }
        let servers = addresses.map(\.description).joined(separator: ", ")
        let domains = search.isEmpty ? "" : "search \(search.joined(separator: ", "))"
        return [servers, domains].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Whether `name` is a DNS name resolved accepts as a search domain: dot-separated labels of letters,
    /// digits and hyphens, 1-63 characters each, 253 in all.
    public static func isValidDomain(_ name: String) -> Bool {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "-" || ("0"..."9").contains($0) }
        }
    }
}
