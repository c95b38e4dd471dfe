import MooringModel

/// What a change touches: a link by name, mooring's nftables table, a sysctl, a MicroVM's unit.
public enum ResourceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    case link(String)
    /// `inet mooring`, the one table mooring owns.
    case nftTable
    /// `bridge mooring`, the guests' filter.
    case guestFilter
    /// `netdev mooring`, the macvtap guests' filter.
    case macvtapFilter
    case sysctl(String)
    case unit(String)
    /// An image by reference, or a path of the image store (a digest's directory, a MicroVM's disk layer).
    case image(String)

    /// `link`, `nftables`, `sysctl`, `unit`.
    public var kind: String {
        switch self {
        case .link: return "link"
        case .nftTable, .guestFilter, .macvtapFilter: return "nftables"
        case .sysctl: return "sysctl"
        case .unit: return "unit"
        case .image: return "image"
        }
    }

    public var name: String {
        switch self {
        case let .link(name), let .sysctl(name), let .unit(name), let .image(name): return name
        case .nftTable: return "inet mooring"
        case .guestFilter: return "bridge mooring"
        case .macvtapFilter: return "netdev mooring"
        }
    }

    /// `link/vm-web-1-eth0`, for people.
    public var description: String { "\(kind)/\(name)" }

    public var linkName: String? { if case let .link(name) = self { name } else { nil } }

    public static func < (left: ResourceID, right: ResourceID) -> Bool { left.description < right.description }
}
