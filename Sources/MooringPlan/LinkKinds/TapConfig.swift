import MooringModel

/// A persistent tap a VMM opens by name. Created by the TUNSETIFF ioctl (flags cannot change afterwards).
public struct TapConfig: LinkKind, Equatable {
    public static let name = "tap"
    /// IFF_VNET_HDR: the VMM exchanges virtio-net headers (offloads) with the kernel.
    public var vnetHeader: Bool
    /// IFF_MULTI_QUEUE: the VMM may open one queue per vCPU.
    public var multiQueue: Bool

    public init(vnetHeader: Bool, multiQueue: Bool) {
        self.vnetHeader = vnetHeader
        self.multiQueue = multiQueue
    }

    public var settings: [(key: String, value: JSONValue)] { [("vnetHeader", .bool(vnetHeader)), ("multiQueue", .bool(multiQueue))] }
    public var summary: String { "" }
}
