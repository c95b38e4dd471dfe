import MooringModel

/// A VXLAN port of a bridge: a unicast `remote` or a multicast `group`, over an optional underlay `device`.
public struct VxlanConfig: LinkKind, Equatable {
    public static let name = "vxlan"
    public var vni: Int
    public var local: IPAddress?
    public var remote: IPAddress?
    public var group: IPAddress?
    public var port: Int
    public var device: String?

    public init(vni: Int, local: IPAddress?, remote: IPAddress?, group: IPAddress?, port: Int, device: String?) {
        self.vni = vni
        self.local = local
        self.remote = remote
        self.group = group
        self.port = port
        self.device = device
    }

    public var references: [(link: String, role: String)] { device.map { [($0, "underlay device")] } ?? [] }
    public var settings: [(key: String, value: JSONValue)] {
        [("vni", JSONValue(vni)), ("local", JSONValue(local?.description)), ("remote", JSONValue(remote?.description)),
         ("group", JSONValue(group?.description)), ("port", JSONValue(port)), ("device", JSONValue(device))]
    }
    public var summary: String { " vni \(vni)" + (remote.map { " remote \($0)" } ?? "") + (group.map { " group \($0)" } ?? "") }
}
