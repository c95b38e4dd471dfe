import MooringModel

/// A Linux bridge. Its MTU, when the manifest gives one, is pinned at creation (`Action.pinBridgeMTU`): an
/// unpinned bridge follows its ports' MTUs.
public struct BridgeConfig: LinkKind, Equatable {
    public static let name = "bridge"
    public init() {}
    public var settings: [(key: String, value: JSONValue)] { [] }
    public var summary: String { "" }
}
