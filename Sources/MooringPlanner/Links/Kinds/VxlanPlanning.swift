import MooringModel
import MooringPlan

extension VxlanConfig: PlannedLinkKind {
    var phase: Phase { .bridgePorts }

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
