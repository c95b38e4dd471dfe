import MooringModel
import MooringPlan

extension VxlanConfig: PlannedLinkKind {
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

    func fixedDifferences(_ link: ObservedLink, names: LinkNames) -> [LinkDifference]? {
        guard case let .vxlan(have) = link.kind else { return nil }
        var out: [LinkDifference] = []
        if have.vni != vni { out.append(LinkDifference("vni", JSONValue(have.vni), JSONValue(vni), "vni \(have.vni) -> \(vni)")) }
        // The kernel keeps a unicast remote and a multicast group in one attribute.
        let peer = remote ?? group
        if have.remote != peer {
            out.append(LinkDifference("remote", JSONValue(have.remote?.description), JSONValue(peer?.description),
                                      "remote \(have.remote?.description ?? "none") -> \(peer?.description ?? "none")"))
        }
        if let local, have.local != local {
            out.append(LinkDifference("local", JSONValue(have.local?.description), .string(local.description),
                                      "local \(have.local?.description ?? "none") -> \(local)"))
        }
        if have.port != port {
            out.append(LinkDifference("dstport", JSONValue(have.port), JSONValue(port), "dstport \(have.port) -> \(port)"))
        }
        if let device, names.name(have.deviceIndex) != device {
            let current = names.name(have.deviceIndex)
            out.append(LinkDifference("device", JSONValue(current), .string(device), "device \(current ?? "none") -> \(device)"))
        }
        return out
    }
}
