import MooringModel
import MooringPlan

extension TapConfig: PlannedLinkKind {
    init?(observed link: ObservedLink, names: LinkNames) {
        guard case let .tun(info) = link.kind, info.isTap else { return nil }
        self.init(vnetHeader: info.vnetHeader, multiQueue: info.multiQueue, owner: info.owner, group: info.group)
    }

    var phase: Phase { .microVMDevices }

    /// The TUNSETIFF flags are fixed at creation, and owner and group can only be set through a descriptor
    /// attached to the tap, which a running VMM holds: all are recreated. Not compared: persistence, since an owned tap is
    /// non-persistent only between its creation's two ioctls.
    func fixedDifferences(from have: TapConfig) -> [LinkDifference] {
        func onOff(_ flag: Bool) -> String { flag ? "on" : "off" }
        var out: [LinkDifference] = []
        if have.vnetHeader != vnetHeader {
            out.append(LinkDifference("vnet_hdr", .bool(have.vnetHeader), .bool(vnetHeader),
                                      "vnet_hdr \(onOff(have.vnetHeader)) -> \(onOff(vnetHeader))"))
        }
        if have.multiQueue != multiQueue {
            out.append(LinkDifference("multi_queue", .bool(have.multiQueue), .bool(multiQueue),
                                      "multi_queue \(onOff(have.multiQueue)) -> \(onOff(multiQueue))"))
        }
        func id(_ value: UInt32?) -> JSONValue { value.map { JSONValue(Int($0)) } ?? .null }
        func text(_ value: UInt32?) -> String { value.map(String.init) ?? "none" }
        if have.owner != owner {
            out.append(LinkDifference("owner", id(have.owner), id(owner), "owner \(text(have.owner)) -> \(text(owner))"))
        }
        if have.group != group {
            out.append(LinkDifference("group", id(have.group), id(group), "group \(text(have.group)) -> \(text(group))"))
        }
        return out
    }
}
