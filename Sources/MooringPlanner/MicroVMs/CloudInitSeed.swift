import MooringModel
import MooringPlan

/// The guest's configuration as cloud-init's NoCloud data source reads it: `meta-data` (instance id and
/// hostname), `network-config` (version 2: addresses, default routes, DNS per interface, matched by MAC) and
/// `user-data` (hostname, SSH keys), on a FAT disk labelled `cidata`. Real distribution images with
/// cloud-init read it as they boot, as do the test bed's guest (scripts/guest/init). Strings are written as
/// double-quoted YAML scalars (JSON string syntax), so no manifest value can add structure.
public enum CloudInitSeed {
    public static let label = "cidata"

    public static func disk(_ vm: DesiredMicroVM, runDirectory: String) -> SeedDisk? {
        guard vm.cloudInit, vm.vmm != .none else { return nil }
        let network = networkConfig(vm)
        let user = userData(vm)
        // A new instance id makes cloud-init apply a changed configuration again (it runs per instance).
        let instance = "\(vm.name)-\(StableHash.hex(network + "\u{0}" + user).prefix(12))"
        let meta = "instance-id: \(quoted(instance))\nlocal-hostname: \(quoted(vm.name))\n"
        return SeedDisk(path: runDirectory + "/cidata.img", label: label,
                        files: [UnitFile(path: "meta-data", contents: meta), UnitFile(path: "network-config", contents: network),
                                UnitFile(path: "user-data", contents: user)])
    }

    static func quoted(_ text: String) -> String { JSONValue.quoted(text) }

    /// The name a Linux guest gives the virtio disk at `index`: vda ... vdz, vdaa ...
    static func guestDiskName(_ index: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return "vd" + (index < 26 ? String(letters[index]) : String(letters[index / 26 - 1]) + String(letters[index % 26]))
    }

    /// Network config version 2, one `ethernets` entry per interface, matched by the MAC mooring gives it.
    static func networkConfig(_ vm: DesiredMicroVM) -> String {
        var lines = ["version: 2", "ethernets:"]
        for interface in vm.interfaces {
            lines += ["  \(interface.guestDeviceName):", "    match:", "      macaddress: \(quoted(interface.mac.description))",
                      "    set-name: \(quoted(interface.guestDeviceName))"]
            guard !interface.addresses.isEmpty else {
                // No address in the manifest: the guest asks the LAN (a macvtap on an uplink, a bridge with DHCP).
                lines += ["    dhcp4: true"]
                continue
            }
            lines += ["    addresses:"] + interface.addresses.map { "      - \(quoted($0.description))" }
            // The default routes as `gateway4`/`gateway6`, not `routes: [{to: "::/0"}]`: Debian 12's cloud-init
            // (22.4) renders that route as `::/64` under both its networkd and ifupdown renderers, and refuses
            // `to: default`; the gateway keys render as real default routes in every cloud-init and renderer
            // (CloudInitRenderingTests runs Debian's own). netplan calls them deprecated, and still honours them.
            for gateway in interface.gateways {
                lines += ["    \(gateway.isIPv4 ? "gateway4" : "gateway6"): \(quoted(gateway.description))"]
            }
            if let dns = interface.nameservers, !dns.isEmpty {
                lines += ["    nameservers:"]
                if !dns.addresses.isEmpty { lines += ["      addresses:"] + dns.addresses.map { "        - \(quoted($0.description))" } }
                if !dns.search.isEmpty { lines += ["      search:"] + dns.search.map { "        - \(quoted($0))" } }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `#cloud-config`: the hostname, each user's SSH keys (root's need `disable_root: false`), and where the
    /// additional volumes are mounted: by device name, in the order they are attached (root first: vda).
    static func userData(_ vm: DesiredMicroVM) -> String {
        var lines = ["#cloud-config", "hostname: \(quoted(vm.name))"]
        let mounted = vm.volumes.enumerated().compactMap { index, volume in volume.mountPoint.map { (index, $0) } }
        if !mounted.isEmpty {
            lines.append("mounts:")
            for (index, point) in mounted {
                lines.append("  - [\(quoted("/dev/" + guestDiskName(index))), \(quoted(point))]")
            }
        }
        if !vm.sshPublicKeys.isEmpty {
            if vm.sshPublicKeys.contains(where: { $0.user == "root" }) { lines.append("disable_root: false") }
            lines.append("users:")
            for user in vm.sshPublicKeys {
                lines += ["  - name: \(quoted(user.user))", "    ssh_authorized_keys:"] + user.authorizedKeys.map { "      - \(quoted($0))" }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
