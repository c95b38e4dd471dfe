/// A Linux bridge. Its MTU, when the manifest gives one, is pinned at creation (`Action.pinBridgeMTU`): an
/// unpinned bridge follows its ports' MTUs. Its MAC is set at creation (`DeviceNaming.bridgeMAC`): an
/// unset one follows its ports' lowest.
public struct BridgeConfig: LinkKind {
    public static let kindName = LinkConfig.Name.bridge
    public var mac: MACAddress?

    public init(mac: MACAddress? = nil) { self.mac = mac }

    public var config: LinkConfig { .bridge(self) }
    public var role: LinkRole { .bridge }
    public var settings: [(key: String, value: JSONValue)] { [("mac", JSONValue(mac?.description))] }
    /// The MAC is derived from the name, not chosen: the JSON plan shows it, the text does not repeat it.
    public var summary: String { "" }

    /// Nothing is fixed: its MAC and MTU change in place (LinkPlanner's setting differences).
    public func fixedDifferences(from have: BridgeConfig) -> [KindDifference] { [] }
}
