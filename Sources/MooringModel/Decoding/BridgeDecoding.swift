/// Decoding a Bridge manifest's spec, its VXLAN and VLAN ports.
extension ManifestDecoder {
    // MARK: Bridge

    func decodeBridge(_ spec: MappingReader) -> BridgeSpec? {
        var bridge = BridgeSpec()
        bridge.addresses = (spec.stringList("addresses") ?? []).compactMap(cidr)
        bridge.mtu = spec.int("mtu", range: 68...65535)
        bridge.ports = (spec.stringList("ports") ?? []).compactMap(interfaceName)
        if let vxlan = spec.mapping("vxlan") {
            bridge.vxlan = decodeVxlan(vxlan)
            vxlan.finish()
        }
        if let vlan = spec.mapping("vlan") {
            let parent = interfaceName(vlan.string("parent"))
            let id = vlan.int("id", range: 1...4094)
            if vlan.take("parent") == nil { reader.error(vlan.node, vlan.childPath("parent"), "is required (the host interface the VLAN rides on, e.g. eth0)") }
            if vlan.take("id") == nil { reader.error(vlan.node, vlan.childPath("id"), "is required (the 802.1Q VLAN id, 1-4094)") }
            if let parent, let id {
                bridge.vlan = VlanSpec(parent: parent, id: id, location: reader.location(of: vlan.node))
            }
            vlan.finish()
        }
        return bridge
    }

    func decodeVxlan(_ vxlan: MappingReader) -> VxlanSpec? {
        let vni = vxlan.int("vni", range: 1...16_777_215)
        if vxlan.take("vni") == nil {
            reader.error(vxlan.node, vxlan.childPath("vni"), "is required (the VXLAN network identifier, 1-16777215)")
        }
        let local = ipAddress(vxlan.string("local"))
        let remote = ipAddress(vxlan.string("remote"))
        let group = ipAddress(vxlan.string("group"))
        let dstPort = vxlan.int("dstPort", range: 1...65535)
        let device = interfaceName(vxlan.string("device"))
        let here = reader.location(of: vxlan.node)
        if let remote, let group {
            reader.error(at: group.location, group.path, "set either remote (unicast peer) or group (multicast), not both")
            _ = remote
        } else if vxlan.take("remote") == nil && vxlan.take("group") == nil {
            reader.error(at: here, vxlan.path, "needs remote (the peer's address) or group (a multicast group)")
        }
        if let remote, remote.value.isMulticast {
            reader.error(at: remote.location, remote.path, "\(remote.value) is a multicast address; use group for multicast")
        }
        if let group, !group.value.isMulticast {
            reader.error(at: group.location, group.path, "\(group.value) is not a multicast address (want e.g. 239.1.1.1)")
        }
        if let group, group.value.isMulticast, device == nil {
            reader.error(at: group.location, vxlan.childPath("device"), "is required with group (the underlay interface to join the group on)")
        }
        if let local, let peer = remote ?? group, local.value.family != peer.value.family {
            reader.error(at: local.location, local.path, "local \(local.value) and \(peer.path.split(separator: ".").last!) \(peer.value) are of different address families")
        }
        guard let vni else { return nil }
        return VxlanSpec(vni: vni, local: local, remote: remote, group: group, dstPort: dstPort?.value ?? 4789,
                         device: device, location: here)
    }
}
