/// A persistent tap a VMM opens by name. Created by the TUNSETIFF ioctl (flags cannot change afterwards),
/// owned by the VMM's user and group so an unprivileged VMM (no CAP_NET_ADMIN) may attach to it.
public struct TapConfig: LinkKind {
    public static let kindName = LinkConfig.Name.tap
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

    public var config: LinkConfig { .tap(self) }
    public var role: LinkRole { .microVMDevice }

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

    /// The TUNSETIFF flags are fixed at creation, and owner and group can only be set through a descriptor
    /// attached to the tap, which a running VMM holds: all are recreated. Not compared: persistence, since an owned tap is
    /// non-persistent only between its creation's two ioctls.
    public func fixedDifferences(from have: TapConfig) -> [KindDifference] {
        func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
        var out: [KindDifference] = []
        if have.vnetHeader != vnetHeader {
            out.append(KindDifference("vnet_hdr", .bool(have.vnetHeader), .bool(vnetHeader),
                                      "vnet_hdr \(onOff(have.vnetHeader)) -> \(onOff(vnetHeader))"))
        }
        if have.multiQueue != multiQueue {
            out.append(KindDifference("multi_queue", .bool(have.multiQueue), .bool(multiQueue),
                                      "multi_queue \(onOff(have.multiQueue)) -> \(onOff(multiQueue))"))
        }
        func id(_ value: UInt32?) -> JSONValue { value.map { JSONValue(Int($0)) } ?? .null }
        func text(_ value: UInt32?) -> String { value.map(String.init) ?? "none" }
        if have.owner != owner {
            out.append(KindDifference("owner", id(have.owner), id(owner), "owner \(text(have.owner)) -> \(text(owner))"))
        }
        if have.group != group {
            out.append(KindDifference("group", id(have.group), id(group), "group \(text(have.group)) -> \(text(group))"))
        }
        return out
    }
}
