import MooringModel
import MooringPlan

extension TapConfig: PlannedLinkKind {
    var phase: Phase { .microVMDevices }

    /// The TUNSETIFF flags are fixed at creation, and owner and group can only be set through a descriptor
    /// attached to the tap, which a running VMM holds: all are recreated. Not compared: persistence, since an owned tap is
    /// non-persistent only between its creation's two ioctls.
    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case let .tun(info) = link.kind, info.isTap else { return nil }
        func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
        var out: [LinkDifference] = []
        if info.vnetHeader != vnetHeader {
            out.append(LinkDifference("vnet_hdr", .bool(info.vnetHeader), .bool(vnetHeader),
                                      "vnet_hdr \(onOff(info.vnetHeader)) -> \(onOff(vnetHeader))"))
        }
        if info.multiQueue != multiQueue {
            out.append(LinkDifference("multi_queue", .bool(info.multiQueue), .bool(multiQueue),
                                      "multi_queue \(onOff(info.multiQueue)) -> \(onOff(multiQueue))"))
        }
        func id(_ value: UInt32?) -> JSONValue { value.map { JSONValue(Int($0)) } ?? .null }
        func text(_ value: UInt32?) -> String { value.map(String.init) ?? "none" }
        if info.owner != owner {
            out.append(LinkDifference("owner", id(info.owner), id(owner), "owner \(text(info.owner)) -> \(text(owner))"))
        }
        if info.group != group {
            out.append(LinkDifference("group", id(info.group), id(group), "group \(text(info.group)) -> \(text(group))"))
        }
        return out
    }
}
