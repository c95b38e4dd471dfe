import Foundation
import MooringModel
import Testing

/// A bridge's identity and membership, on the real kernel: its MAC stays its own while ports come and go (so
/// the gateway's neighbour entries stay right), and it holds exactly its declared ports.
@Suite(.serialized)
struct BridgeModelTests {
    static func manifests(ports: [String], vm: Bool) -> String {
        ([Manifests.bridge("br-nat", addresses: ["10.90.0.1/24"], ports: ports)]
            + (vm ? [Manifests.microVM("gw-vm", bridge: "br-nat")] : [])).joined(separator: "---\n")
    }

    /// Without a MAC of its own a bridge takes its lowest port MAC: adding a tap (and removing it again) changed
    /// the gateway's MAC under a guest on the other port, which reached it again only after 42 s. Now the
    /// client's neighbour entry for the gateway stays right, and it answers at once after the VM is gone.
    @Test func theGatewaysMACSurvivesAVMComingAndGoing() throws {
        let harness = try Harness("bm")
        defer { harness.tearDown() }
        let client = try TestNamespace("bmc")
        // A host port with the highest possible unicast MAC: any tap's MAC is lower.
        try harness.ns.ip("link", "add", "g1", "address", "fe:ff:ff:ff:ff:fe", "type", "veth", "peer", "name", "g1p", "netns", client.name)
        try client.ip("addr", "add", "10.90.0.50/24", "dev", "g1p")
        try client.ip("link", "set", "g1p", "up")
        try harness.manifests.write("m.yaml", Self.manifests(ports: ["g1"], vm: false))
        #expect(try harness.apply().converged)
        let mac = DeviceNaming.bridgeMAC("br-nat", host: try harness.reconciler().load().desired.host.macIdentity).description
        func bridgeMAC() throws -> String? { try harness.ns.links()["br-nat"]?.address }
        func gatewayEntry() throws -> String { try client.ip("neigh", "show", "10.90.0.1") }
        #expect(try bridgeMAC() == mac)
        #expect(try answers(client, "10.90.0.1", within: 2))
        let learnt = try gatewayEntry()
        #expect(learnt.contains(mac), "\(learnt)")

        try harness.manifests.write("m.yaml", Self.manifests(ports: ["g1"], vm: true))
        #expect(try harness.apply().converged)
        #expect(try bridgeMAC() == mac, "a tap joining does not change the bridge's MAC")

        try harness.manifests.write("m.yaml", Self.manifests(ports: ["g1"], vm: false))
        #expect(try harness.apply().converged)
        #expect(try bridgeMAC() == mac, "a tap leaving does not change it either")
        // The entry the client learnt before is still right: the gateway answers at once (one try, 1 s).
        #expect(try answers(client, "10.90.0.1", within: 1))
        let kept = try gatewayEntry()
        #expect(kept.contains(mac), "\(kept)")

        // Someone sets another MAC on the bridge: drift, repaired.
        try harness.ns.ip("link", "set", "br-nat", "address", "02:00:00:00:00:09")
        let plan = try harness.plan()
        #expect(plan.summaries == ["bridge br-nat: set mac \(mac)"])
        #expect(try harness.apply().converged)
        #expect(try bridgeMAC() == mac)
    }

    /// Whether `address` answers from `namespace` within the time (no ping here: a TCP connection to a closed
    /// port is refused at once by a reachable host, and times out when its neighbour entry points nowhere).
    private func answers(_ namespace: TestNamespace, _ address: String, within seconds: Int) throws -> Bool {
        let result = try namespace.exec("timeout", "\(seconds)", "bash", "-c", "exec 3<>/dev/tcp/\(address)/9")
        return result.stderr.contains("Connection refused")
    }

    private func bridgeRow(_ status: String) -> String {
        status.split(separator: "\n").first { $0.hasPrefix("link") && $0.contains(" br-nat ") }.map(String.init) ?? ""
    }

    /// docs/operations.md's cross-host layout: two hosts (namespaces joined by an underlay veth), each with a bridge
    /// `microvm` stretched over a unicast VXLAN to the other. With MACs from the bridge's name alone both bridges
    /// had one MAC and host-to-remote-bridge traffic was lost entirely; each host's part (here its Host manifest's
    /// name) makes them differ, and each host reaches the other's bridge over IPv4 and IPv6.
    @Test func twoHostsWithOneLayoutReachEachOthersBridges() throws {
        let one = try Harness("h1"), two = try Harness("h2")
        defer { one.tearDown(); two.tearDown() }
        try one.ns.ip("link", "add", "under0", "type", "veth", "peer", "name", "under0", "netns", two.ns.name)
        for (harness, address) in [(one, "192.0.2.1/24"), (two, "192.0.2.2/24")] {
            try harness.ns.ip("addr", "add", address, "dev", "under0")
            try harness.ns.ip("link", "set", "under0", "up")
        }
        func manifests(host: String, index: Int, remote: Int) -> String {
            Manifests.header + "kind: Host\nmetadata: {name: \(host)}\nspec: {}\n---\n"
                + Manifests.bridge("microvm", addresses: ["10.0.0.\(index)/24", "\"fd00:42::\(index)/64\""], mtu: 1450,
                                   extra: "  vxlan: {vni: 42, local: 192.0.2.\(index), remote: 192.0.2.\(remote), device: under0}\n")
        }
        try one.manifests.write("m.yaml", manifests(host: "hv1", index: 1, remote: 2))
        try two.manifests.write("m.yaml", manifests(host: "hv2", index: 2, remote: 1))
        #expect(try one.apply().converged)
        #expect(try two.apply().converged)
        let macs = try [one, two].map { try $0.ns.links()["microvm"]?.address ?? "" }
        #expect(macs[0] != macs[1] && !macs[0].isEmpty, "each host's bridge its own MAC: \(macs)")
        #expect(macs[0] == DeviceNaming.bridgeMAC("microvm", host: "hv1").description)
        func reaches(_ from: Harness, _ address: String) -> Bool {
            eventually(timeout: 10) { (try? answers(from.ns, address, within: 1)) == true }
        }
        #expect(reaches(one, "10.0.0.2") && reaches(two, "10.0.0.1"), "IPv4 across the VXLAN")
        #expect(reaches(one, "fd00:42::2") && reaches(two, "fd00:42::1"), "IPv6 across the VXLAN")

        // A bridge with the MAC its name alone gives (made by an earlier mooring): changed once, and the plan says why.
        try one.ns.ip("link", "set", "microvm", "address", DeviceNaming.bridgeMAC("microvm").description)
        let plan = try one.plan()
        #expect(plan.summaries == ["bridge microvm: set mac \(macs[0]) (new per-host MAC)"], "\(plan.summaries)")
        #expect(try one.apply().converged)
    }

    /// A bridge with a VXLAN port on a 1500-byte underlay and `mtu: 1500`: the kernel would refuse the port's
    /// MTU after the bridge was already changed. Now plan says so, with the largest value, and nothing changes.
    @Test func aVXLANMTUTheKernelWouldRefuseChangesNothing() throws {
        let harness = try Harness("bx")
        defer { harness.tearDown() }
        try harness.ns.addHostInterface("under0")
        try harness.ns.ip("link", "set", "under0", "up")
        try harness.ns.ip("addr", "add", "192.0.2.1/24", "dev", "under0")
        func bridge(mtu: Int) -> String {
            Manifests.bridge("br-vx", mtu: mtu, extra: "  vxlan: {vni: 42, local: 192.0.2.1, remote: 192.0.2.2, device: under0}\n")
        }
        try harness.manifests.write("m.yaml", bridge(mtu: 1500))
        let before = try harness.ns.managedState()
        let refused = try harness.cli("apply")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stdout.contains("the largest valid spec.mtu is 1450"), "\(refused.stdout)")
        #expect(try harness.ns.managedState() == before, "nothing changed")

        try harness.manifests.write("m.yaml", bridge(mtu: 1450))
        #expect(try harness.apply().converged)
        let links = try harness.ns.links()
        #expect(links["br-vx"]?.mtu == 1450 && links["vx-br-vx"]?.mtu == 1450)
    }

    /// `acceptRA` sets the bridge's accept_ra (2: router advertisements are taken even with forwarding on),
    /// right after the bridge is made in the same apply; a change by hand is drift.
    @Test func acceptRAFollowsTheManifest() throws {
        let harness = try Harness("bra")
        defer { harness.tearDown() }
        func acceptRA() throws -> String {
            try harness.ns.exec("cat", "/proc/sys/net/ipv6/conf/br-ra/accept_ra").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try harness.manifests.write("m.yaml", Manifests.bridge("br-ra", extra: "  acceptRA: true\n"))
        #expect(try harness.plan().summaries.contains("set net.ipv6.conf.br-ra.accept_ra = 2"))
        #expect(try harness.apply().converged)
        #expect(try acceptRA() == "2")
        try harness.ns.exec("sysctl", "-qw", "net.ipv6.conf.br-ra.accept_ra=0")
        #expect(try harness.plan().summaries == ["set net.ipv6.conf.br-ra.accept_ra = 2"])
        #expect(try harness.apply().converged)
        try harness.manifests.write("m.yaml", Manifests.bridge("br-ra", extra: "  acceptRA: false\n"))
        #expect(try harness.apply().converged)
        #expect(try acceptRA() == "0")
    }

    /// `ports: [p1, p2]` then `[p1]`: p2 leaves the bridge, and is neither deleted nor taken down.
    @Test func aPortRemovedFromTheManifestIsReleased() throws {
        let harness = try Harness("bp")
        defer { harness.tearDown() }
        try harness.ns.addHostInterface("p1")
        try harness.ns.addHostInterface("p2")
        try harness.manifests.write("m.yaml", Self.manifests(ports: ["p1", "p2"], vm: false))
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links()["p2"]?.master == "br-nat")

        try harness.manifests.write("m.yaml", Self.manifests(ports: ["p1"], vm: false))
        #expect(try harness.plan().summaries == ["port p2: release from bridge br-nat"])
        #expect(try harness.apply().converged)
        let links = try harness.ns.links()
        #expect(links["p2"] != nil && links["p2"]?.master == nil && links["p2"]?.isUp == true, "released, still there and up")
        #expect(links["p1"]?.master == "br-nat")
        // Someone else enslaves a link to mooring's bridge: released too (the bridge holds what is declared).
        try harness.ns.ip("link", "set", "p2", "master", "br-nat")
        #expect(try harness.plan().summaries == ["port p2: release from bridge br-nat"])
        // status counts it against the bridge (it used to show the bridge in sync).
        let status = try harness.cli("status")
        #expect(status.status == 2 && bridgeRow(status.stdout).contains("differs"), "\(status.stdout)")
        // A declared port detached by hand: the bridge differs too.
        try harness.ns.ip("link", "set", "p2", "nomaster")
        try harness.ns.ip("link", "set", "p1", "nomaster")
        let detached = try harness.cli("status")
        #expect(detached.status == 2 && bridgeRow(detached.stdout).contains("differs"), "\(detached.stdout)")
    }
}
