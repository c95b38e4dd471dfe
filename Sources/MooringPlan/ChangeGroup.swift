import MooringModel

/// The manifest a change serves, or none (`stale`: something mooring owns that no manifest wants any more).
public enum ChangeGroup: Hashable, Sendable, CustomStringConvertible {
    case manifest(kind: ManifestKind, name: String)
    case stale

    public init(_ origin: ManifestOrigin) { self = .manifest(kind: origin.kind, name: origin.name) }

    /// `Bridge/br0`, as the manifest's `ManifestOrigin.reference` and the owner in a link's alias spell it.
    public var reference: String? {
        if case let .manifest(kind, name) = self { return "\(kind.rawValue)/\(name)" } else { return nil }
    }

    /// `MicroVM "web-1"`, or `stale`.
    public var description: String {
        switch self {
        case let .manifest(kind, name): return "\(kind.rawValue) \"\(name)\""
        case .stale: return "stale"
        }
    }
}
