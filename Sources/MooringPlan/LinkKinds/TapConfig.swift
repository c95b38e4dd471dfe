import MooringModel

/// A persistent tap a VMM opens by name. Created by the TUNSETIFF ioctl (flags cannot change afterwards),
/// owned by the VMM's user and group so an unprivileged VMM (no CAP_NET_ADMIN) may attach to it.
public struct TapConfig: LinkKind, Equatable {
    public static let name = "tap"
    /// IFF_VNET_HDR: the VMM exchanges virtio-net headers (offloads) with the kernel.
    public var vnetHeader: Bool
    /// IFF_MULTI_QUEUE: the VMM opens one queue per vCPU.
    public var multiQueue: Bool
    /// TUNSETOWNER / TUNSETGROUP: who may attach without CAP_NET_ADMIN; nil leaves it to privileged processes.
    public var owner: UInt32?
    public var group: UInt32?

    public init(vnetHeader: Bool, multiQueue: Bool, owner: UInt32? = nil, group: UInt32? = nil) {
        self.vnetHeader = vnetHeader
        self.multiQueue = multiQueue
        self.owner = owner
        self.group = group
    }

    public var settings: [(key: String, value: JSONValue)] {
        [("vnetHeader", .bool(vnetHeader)), ("multiQueue", .bool(multiQueue)),
         ("owner", owner.map { JSONValue(Int($0)) } ?? .null), ("group", group.map { JSONValue(Int($0)) } ?? .null)]
    }

    public var summary: String {
        var parts: [String] = []
        if multiQueue { parts.append("multi_queue") }
        if let owner { parts.append("owner \(owner)") }
        if let group { parts.append("group \(group)") }
        return parts.map { " " + $0 }.joined()
    }
}
