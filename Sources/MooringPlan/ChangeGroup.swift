import MooringModel

/// The manifest a change serves, or none (`stale`: something mooring owns that no manifest wants any more).
public enum ChangeGroup: Hashable, Sendable, CustomStringConvertible {
    case manifest(kind: ManifestKind, name: String)
    case stale

    public init(_ origin: ManifestOrigin) { self = .manifest(kind: origin.kind, name: origin.name) }

    /// `MicroVM "web-1"`, or `stale`.
    public var description: String {
        switch self {
        case let .manifest(kind, name): return "\(kind.rawValue) \"\(name)\""
        case .stale: return "stale"
        }
    }
}
