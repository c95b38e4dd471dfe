import MooringModel

/// The manifest a change serves; all of them together (`guestFilter`: the tables made from every MicroVM's
/// interfaces); or none (`stale`: something mooring owns that no manifest wants any more).
public enum ChangeGroup: Hashable, Sendable, CustomStringConvertible {
    case manifest(kind: ManifestKind, name: String)
    /// The guests' filter (table bridge mooring, table netdev mooring): every MicroVM's interfaces make it.
    case guestFilter
    case stale

    public init(_ origin: ManifestOrigin) { self = .manifest(kind: origin.kind, name: origin.name) }

    /// Whether it is one manifest's (the changes of one manifest are held back together, ConflictScope).
    public var isManifest: Bool {
        if case .manifest = self { return true } else { return false }
    }

    /// `Bridge/br0`, as the manifest's `ManifestOrigin.reference` and the owner in a link's alias spell it.
    public var reference: String? {
        if case let .manifest(kind, name) = self { return "\(kind.rawValue)/\(name)" } else { return nil }
    }

    /// `MicroVM "web-1"`, `the guests' filter`, or `stale`.
    public var description: String {
        switch self {
        case let .manifest(kind, name): return "\(kind.rawValue) \"\(name)\""
        case .guestFilter: return "the guests' filter"
        case .stale: return "stale"
        }
    }
}
