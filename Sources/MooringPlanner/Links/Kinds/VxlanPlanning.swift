import MooringModel
import MooringPlan

extension VxlanConfig: PlannedLinkKind {
    init?(observed link: ObservedLink, names: LinkNames) {
        guard case let .vxlan(info) = link.kind else { return nil }
        // The kernel reports the unicast remote and the multicast group in one attribute.
        let group = info.remote?.isMulticast == true ? info.remote : nil
        self.init(vni: info.vni, local: info.local, remote: group == nil ? info.remote : nil, group: group, port: info.port,
                  device: names.name(info.deviceIndex))
    }

    var phase: Phase { .bridgePorts }

    /// The kernel refuses a VXLAN MTU above its underlay's minus the encapsulation (outer IP, UDP, VXLAN and
    /// inner Ethernet headers: 50 bytes over IPv4, 70 over IPv6), or above 65535 minus that without an underlay.
    func largestMTU(links: LinkLookup<String>) -> (mtu: Int, why: String)? {
        let ipv6 = [local, remote, group].contains { $0?.family == .ipv6 }
        let overhead = ipv6 ? 70 : 50
        let over = "VXLAN over \(ipv6 ? "IPv6" : "IPv4") adds \(overhead) bytes"
        if let device, let underlay = links[device] {
            return (underlay.mtu - overhead, "its underlay \(device) has mtu \(underlay.mtu) and \(over)")
        }
        return (65535 - overhead, over)
    }

    func fixedDifferences(from have: VxlanConfig) -> [LinkDifference] {
        var out: [LinkDifference] = []
        if have.vni != vni { out.append(LinkDifference("vni", JSONValue(have.vni), JSONValue(vni), "vni \(have.vni) -> \(vni)")) }
        // The kernel keeps a unicast remote and a multicast group in one attribute.
        let peer = remote ?? group, havePeer = have.remote ?? have.group
        if havePeer != peer {
            out.append(LinkDifference("remote", JSONValue(havePeer?.description), JSONValue(peer?.description),
                                      "remote \(havePeer?.description ?? "none") -> \(peer?.description ?? "none")"))
        }
        if let local, have.local != local {
            out.append(LinkDifference("local", JSONValue(have.local?.description), .string(local.description),
                                      "local \(have.local?.description ?? "none") -> \(local)"))
        }
        if have.port != port {
            out.append(LinkDifference("dstport", JSONValue(have.port), JSONValue(port), "dstport \(have.port) -> \(port)"))
        }
        if let device, have.device != device {
            out.append(LinkDifference("device", JSONValue(have.device), .string(device), "device \(have.device ?? "none") -> \(device)"))
        }
        return out
    }
}
