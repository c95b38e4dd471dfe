/// A kind a Bridge manifest declares in a field of its own (`spec.vxlan`, `spec.vlan`): mooring makes it as one
/// of the bridge's ports, names it from the bridge, and decodes, resolves and checks it through this protocol
/// alone. Which kinds these are: `LinkConfig.Name.bridgePort`.
protocol BridgePortKind: LinkKind {
    /// Its field in a Bridge's spec; also the last part of its owner (`Bridge/br0/vxlan`) and its label.
    static var manifestField: String { get }
    /// The field's mapping as this kind, each error reported at its place; nil when it cannot be made.
    static func decode(_ field: MappingReader, _ decoder: ManifestDecoder) -> Self?
    /// Its link's name as a port of `bridge`.
    func deviceName(bridge: String) -> String
}

/// One such port as a Bridge manifest declares it.
public struct BridgePortSpec: Sendable {
    let port: any BridgePortKind
    public var field: String { type(of: port).manifestField }
    public var config: LinkConfig { port.config }
    /// The field's mapping.
    public var location: SourceLocation
}

/// One such port of a bridge, resolved: its link's name and what it is made of.
public struct DesiredBridgePort: Sendable, Codable, Equatable {
    public var name: String
    /// Its field in the Bridge manifest (`vxlan`).
    public var field: String
    public var config: LinkConfig

    public init(name: String, field: String, config: LinkConfig) {
        self.name = name
        self.field = field
        self.config = config
    }
}

extension ManifestDecoder {
    /// Each bridge-port kind's field of a Bridge's spec, in the order of `LinkConfig.Name`.
    func decodeBridgePorts(_ spec: MappingReader) -> [BridgePortSpec] {
        LinkConfig.Name.allCases.compactMap(\.bridgePort).compactMap { kind in
            guard let field = spec.mapping(kind.manifestField) else { return nil }
            defer { field.finish() }
            return kind.decode(field, self).map { BridgePortSpec(port: $0, location: reader.location(of: field.node)) }
        }
    }
}

extension BridgePortSpec {
    public func deviceName(bridge: String) -> String { port.deviceName(bridge: bridge) }
}
