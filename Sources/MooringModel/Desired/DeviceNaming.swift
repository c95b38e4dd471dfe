/// Deterministic names and MACs for the devices mooring creates.
public enum DeviceNaming {
    /// mooring creates every link at an interface index in [reservedIndexBase, Int32.max], a range the kernel's
    /// own allocator (counting up from 1) never reaches. A link there is mooring's even before its alias is
    /// set (a tap between its TUNSETIFF ioctl and the request that marks it).
    public static let reservedIndexBase = 0x4000_0000

    /// The link alias that marks a device as mooring's, e.g. `mooring:MicroVM/web-1/eth0`.
    public static let aliasPrefix = "mooring:"

    /// `vm-web-1-eth0` when it fits in 15 bytes, otherwise `vm-web--3f2a9c1` (a hash of the full identity).
    public static func microVMDevice(vm: String, device: String) -> String {
        let plain = "vm-\(vm)-\(device)"
        if plain.utf8.count <= InterfaceName.maxBytes { return plain }
        return "vm-\(String(vm.prefix(4)))-\(StableHash.hex("MicroVM/\(vm)/\(device)", digits: 7))"
    }

    /// A port a Bridge manifest declares in `field`: `vx-br0` (`prefix-bridge`) when it fits in 15 bytes, otherwise
    /// the prefix and a hash of `Bridge/<bridge>/<field>`.
    public static func bridgePort(bridge: String, prefix: String, field: String) -> String {
        let plain = "\(prefix)-\(bridge)"
        if plain.utf8.count <= InterfaceName.maxBytes { return plain }
        return "\(prefix)-\(StableHash.hex("Bridge/\(bridge)/\(field)", digits: 15 - prefix.utf8.count - 1))"
    }

    public static func vlanPort(parent: String, id: Int) -> String {
        let plain = "\(parent).\(id)"
        if plain.utf8.count <= InterfaceName.maxBytes { return plain }
        return "vl-\(StableHash.hex("vlan/\(parent)/\(id)", digits: 12))"
    }

    /// A bridge's own MAC, derived from the host's identity and the bridge's name and set when it is made.
    /// Without it a Linux bridge takes the lowest MAC among its ports, so adding or removing a tap changes the
    /// gateway's MAC under every guest and host on the bridge (their neighbour entries go stale: 42 s without the
    /// gateway, measured). The host's part (`DesiredHost.macIdentity`, as systemd's `MACAddressPolicy=persistent`
    /// uses the machine id) keeps two hosts with the same manifests from sharing a MAC across a stretched bridge:
    /// from the name alone, host-to-remote-bridge traffic over the VXLAN lost every packet. Empty: the name alone
    /// (the derivation before per-host MACs; `LinkPlanner` says "new per-host MAC" when it finds it).
    public static func bridgeMAC(_ bridge: String, host: String = "") -> MACAddress {
        let hash = StableHash.fnv1a64(host.isEmpty ? "Bridge/\(bridge)" : "Bridge/\(host)/\(bridge)")
        var bytes: [UInt8] = [0x02]
        for shift in stride(from: 32, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
        return MACAddress(bytes: bytes)
    }

    /// A locally administered unicast MAC derived from the VM and device names.
    public static func guestMAC(vm: String, device: String) -> MACAddress {
        let hash = StableHash.fnv1a64("MicroVM/\(vm)/\(device)")
        var bytes: [UInt8] = [0x02]
        for shift in stride(from: 32, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
        return MACAddress(bytes: bytes)
    }

    public static func alias(_ owner: String) -> String { aliasPrefix + owner }
}
