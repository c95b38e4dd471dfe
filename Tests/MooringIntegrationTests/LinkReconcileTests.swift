import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct LinkReconcileTests {
    /// A bridge with a host port and two MicroVMs' taps.
    private func standardSetup(_ harness: Harness) throws {
        try harness.ns.addHostInterface("uplink0")
        try harness.manifests.write("bridge.yaml", Manifests.bridge("br0", addresses: ["10.0.0.1/24", "fd12::1/64"],
                                                                    mtu: 1400, ports: ["uplink0"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "br0", interfaces: ["eth0", "eth1"]))
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "br0"))
    }

    @Test func convergesFromEmptyAndTheSecondRunIsANoOp() throws {
        let harness = try Harness()
        try standardSetup(harness)
        let outcome = try harness.apply()
        #expect(outcome.converged, "\(outcome.remaining.summaries)")
        #expect(outcome.completed == outcome.plan.changes.count)

        let links = try harness.ns.links()
        let bridge = try #require(links["br0"])
        #expect(bridge.linkinfo?.info_kind == "bridge")
        #expect(bridge.ifalias == "mooring:Bridge/br0")
        #expect(bridge.mtu == 1400 && bridge.isUp)
        #expect(try harness.ns.addresses("br0") == ["10.0.0.1/24", "fd12::1/64"])
        for (name, owner) in [("vm-a-eth0", "MicroVM/a/eth0"), ("vm-a-eth1", "MicroVM/a/eth1"), ("vm-b-eth0", "MicroVM/b/eth0")] {
            let tap = try #require(links[name], "\(name) missing")
            #expect(tap.linkinfo?.info_kind == "tun")
            #expect(tap.ifalias == "mooring:\(owner)")
            #expect(tap.master == "br0" && tap.isUp && tap.mtu == 1400)
        }
        #expect(links["uplink0"]?.master == "br0" && links["uplink0"]?.isUp == true)
        #expect(links["uplink0"]?.ifalias == nil, "a host port is used, never marked")

        #expect(try harness.plan().isInSync)
        let plan = try harness.cli("plan")
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("No changes"))
        let again = try harness.cli("apply")
        #expect(again.status == 0)
        #expect(again.stdout.contains("No changes: the host matches the manifests."))
    }

    @Test func driftIsReportedAndRepaired() throws {
        let harness = try Harness()
        try standardSetup(harness)
        try harness.apply()

        try harness.ns.ip("link", "del", "vm-a-eth1")
        try harness.ns.ip("addr", "del", "10.0.0.1/24", "dev", "br0")
        try harness.ns.ip("link", "set", "uplink0", "nomaster")
        try harness.ns.ip("link", "set", "vm-b-eth0", "mtu", "1300")
        try harness.ns.ip("link", "set", "vm-a-eth0", "down")
        try harness.ns.ip("addr", "add", "192.0.2.9/24", "dev", "br0")

        let report = try harness.cli("plan")
        #expect(report.status == 2, "drift must exit 2: \(report.stdout)\(report.stderr)")
        for line in ["+ create tap vm-a-eth1 (MicroVM a eth1) master br0", "~ bridge br0: add address 10.0.0.1/24",
                     "~ bridge br0: remove address 192.0.2.9/24", "~ port uplink0: enslave to bridge br0",
                     "~ tap vm-b-eth0: set mtu 1400", "~ tap vm-a-eth0: set up"] {
            #expect(report.stdout.contains(line), "missing \(line) in:\n\(report.stdout)")
        }
        let json = try harness.cli("plan", ["--output", "json"])
        let decoded = try #require(JSONValue.parse(json.stdout))
        let changes = decoded["changes"]?.array ?? []
        #expect(decoded["inSync"] == false && changes.count == 6, "\(json.stdout)")
        #expect(changes.contains { $0["resource"] == ["kind": "link", "name": "vm-a-eth1"] && $0["action"] == "create" })

        let apply = try harness.cli("apply")
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try harness.plan().isInSync)
        let links = try harness.ns.links()
        #expect(links["vm-a-eth1"]?.master == "br0")
        #expect(links["uplink0"]?.master == "br0")
        #expect(links["vm-b-eth0"]?.mtu == 1400)
        #expect(links["vm-a-eth0"]?.isUp == true)
        #expect(try harness.ns.addresses("br0") == ["10.0.0.1/24", "fd12::1/64"])
    }

    @Test func removedMicroVMHasItsDevicesDeleted() throws {
        let harness = try Harness()
        try standardSetup(harness)
        try harness.apply()
        try harness.manifests.remove("a.yaml")
        let plan = try harness.plan()
        #expect(plan.summaries.sorted() == ["delete tap vm-a-eth0 (no longer in manifests)",
                                            "delete tap vm-a-eth1 (no longer in manifests)"])
        #expect(try harness.apply().converged)
        let links = try harness.ns.links()
        #expect(links["vm-a-eth0"] == nil && links["vm-a-eth1"] == nil)
        #expect(links["vm-b-eth0"]?.master == "br0")

        // Removing everything deletes every owned link, and only those.
        try harness.manifests.removeAll()
        #expect(try harness.apply().converged)
        let left = try harness.ns.links()
        #expect(Set(left.keys) == ["lo", "uplink0", "uplink0-p"])
    }

    @Test func unownedLinksSurviveEveryRunUntouched() throws {
        let harness = try Harness()
        let ns = harness.ns
        // Unowned links of every kind mooring manages, with addresses and a master of their own.
        try ns.ip("link", "add", "userbr", "type", "bridge")
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "userbr")
        try ns.exec("ip", "tuntap", "add", "mode", "tap", "name", "usertap")
        try ns.ip("link", "set", "usertap", "master", "userbr")
        try ns.addHostInterface("userveth")
        try ns.ip("link", "add", "link", "userveth", "name", "usermvt", "type", "macvtap", "mode", "bridge")
        try ns.ip("link", "add", "uservx", "type", "vxlan", "id", "9", "remote", "192.0.2.2", "dstport", "4789")
        try ns.ip("link", "set", "usertap", "alias", "somebody else's")
        let watched = ["userbr", "usertap", "userveth", "userveth-p", "usermvt", "uservx"]
        func snapshot() throws -> String {
            try watched.map { try ns.ip("-d", "link", "show", "dev", $0) + ns.ip("addr", "show", "dev", $0) }.joined()
        }
        let before = try snapshot()

        try standardSetup(harness)
        #expect(try harness.apply().converged)
        try ns.ip("link", "del", "vm-a-eth0")
        #expect(try harness.apply().converged)
        try harness.manifests.removeAll()
        #expect(try harness.apply().converged)
        #expect(try snapshot() == before)
    }

    @Test func aConflictingUnownedLinkIsReportedAndNothingChanges() throws {
        let harness = try Harness()
        try harness.ns.ip("link", "add", "br0", "type", "bridge")
        try harness.ns.ip("link", "set", "br0", "mtu", "1500")
        try harness.manifests.write("bridge.yaml", Manifests.bridge("br0", addresses: ["10.0.0.1/24"], mtu: 9000))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "br0"))
        let before = try harness.ns.linkDump()

        let plan = try harness.plan()
        #expect(plan.conflicts.count == 1)
        let conflict = try #require(plan.conflicts.first)
        #expect(conflict.message.contains("bridge br0 exists but mooring does not own it"))
        #expect(conflict.message.contains("mtu 1500 -> 9000"))
        #expect(conflict.fix.contains("list it under a Bridge's spec.ports"))

        let cli = try harness.cli("apply")
        #expect(cli.status == 1)
        #expect(cli.stdout.contains("Conflicts: mooring cannot resolve these"))
        #expect(cli.stdout.contains("Held back by the conflicts:"))
        #expect(try harness.ns.linkDump() == before, "what is built on the conflicted bridge waits: not even the MicroVM's tap")
    }

    @Test func anUnownedLinkThatMatchesExactlyIsUsedAsIs() throws {
        let harness = try Harness()
        try harness.ns.ip("link", "add", "br0", "type", "bridge")
        try harness.ns.ip("link", "set", "br0", "up")
        try harness.ns.ip("addr", "add", "10.0.0.1/24", "dev", "br0")
        try harness.manifests.write("bridge.yaml", Manifests.bridge("br0", addresses: ["10.0.0.1/24"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "br0"))
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty)
        #expect(plan.summaries == ["create tap vm-a-eth0 (MicroVM a eth0) master br0"])
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links()["br0"]?.ifalias == nil)
        try harness.manifests.removeAll()
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links()["br0"] != nil, "an unowned bridge is never deleted")
    }

    @Test func macvtapOnAVethParent() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("uplink0")
        try harness.ns.ip("link", "set", "uplink0", "up")
        let vm = Manifests.header + """
            kind: MicroVM
            metadata: {name: m}
            spec:
              vmm: none
              networkInterfaces:
                - {guestDeviceName: eth0, type: macvtap, parentInterface: uplink0, guestMac: "02:00:00:00:aa:01"}
            """
        try harness.manifests.write("m.yaml", vm)
        #expect(try harness.apply().converged)
        let detail = try harness.ns.ip("-d", "link", "show", "dev", "vm-m-eth0")
        #expect(detail.contains("@uplink0"))
        #expect(detail.contains("macvtap mode bridge"))
        #expect(detail.contains("link/ether 02:00:00:00:aa:01"))
        #expect(detail.contains("alias mooring:MicroVM/m/eth0"))

        // The mode cannot change in place: the device is recreated, and the plan says so.
        try harness.manifests.write("m.yaml", vm.replacingOccurrences(of: "guestMac", with: "macvtapMode: vepa, guestMac"))
        let plan = try harness.plan()
        #expect(plan.changes.count == 2 && plan.changes.allSatisfy(\.disruptive))
        #expect(plan.changes.first?.summary.contains("mode bridge -> vepa") == true)
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("-d", "link", "show", "dev", "vm-m-eth0").contains("macvtap mode vepa"))

        // A MAC changed by hand is drift, repaired in place.
        try harness.ns.ip("link", "set", "vm-m-eth0", "address", "02:00:00:00:aa:99")
        #expect(try harness.plan().summaries == ["macvtap vm-m-eth0: set mac 02:00:00:00:aa:01"])
        #expect(try harness.apply().converged)
    }

    /// A `source` mode macvtap receives only frames from its allowed source MACs: mooring sets the list from the
    /// manifest (it used to set none, so the device received nothing), reads it back, and replaces the device
    /// when the list changes.
    @Test func sourceModeMacvtapGetsItsAllowedSourceMACs() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("uplink0")
        try harness.ns.ip("link", "set", "uplink0", "up")
        func vm(_ macs: String) -> String {
            Manifests.header + """
                kind: MicroVM
                metadata: {name: s}
                spec:
                  vmm: none
                  networkInterfaces:
                    - {guestDeviceName: eth0, type: macvtap, parentInterface: uplink0, macvtapMode: source, sourceMacs: [\(macs)]}
                """
        }
        try harness.manifests.write("m.yaml", vm("\"02:00:00:00:cc:02\", \"02:00:00:00:cc:01\""))
        #expect(try harness.apply().converged)
        let detail = try harness.ns.ip("-d", "link", "show", "dev", "vm-s-eth0")
        #expect(detail.contains("macvtap mode source") && detail.contains("remotes (2)") && detail.contains("02:00:00:00:cc:01")
                && detail.contains("02:00:00:00:cc:02"), "\(detail)")
        #expect(try harness.plan().isInSync, "the list reads back as written")

        try harness.manifests.write("m.yaml", vm("\"02:00:00:00:cc:03\""))
        let plan = try harness.plan()
        #expect(plan.changes.first?.summary.contains("source macs 02:00:00:00:cc:01,02:00:00:00:cc:02 -> 02:00:00:00:cc:03") == true,
                "\(plan.summaries)")
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("-d", "link", "show", "dev", "vm-s-eth0").contains("remotes (1) 02:00:00:00:cc:03"))
    }

    /// A passthru macvtap gives the VM the whole NIC, MAC included. The kernel passes a MAC set on such a
    /// macvtap down to its parent, so mooring must never set one: the host interface's MAC stays as it was,
    /// however often apply runs, and a guestMac for passthru is refused before anything changes.
    @Test func passthruNeverChangesTheParentsMAC() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("nic0")
        try harness.ns.ip("link", "set", "nic0", "address", "02:00:00:00:bb:01")
        try harness.ns.ip("link", "set", "nic0", "up")
        let vm = Manifests.header + """
            kind: MicroVM
            metadata: {name: p}
            spec:
              vmm: none
              networkInterfaces:
                - {guestDeviceName: eth0, type: macvtap, parentInterface: nic0, macvtapMode: passthru}
            """
        try harness.manifests.write("p.yaml", vm)
        for round in 1...3 {
            let outcome = try harness.apply()
            #expect(outcome.converged, "round \(round): \(outcome.remaining.changes.map(\.summary))")
            #expect(try harness.ns.links()["nic0"]?.address == "02:00:00:00:bb:01", "round \(round) changed the host NIC's MAC")
        }
        #expect(try harness.ns.ip("-d", "link", "show", "dev", "vm-p-eth0").contains("macvtap mode passthru"))
        #expect(try harness.ns.links()["vm-p-eth0"]?.address == "02:00:00:00:bb:01", "the macvtap has its parent's MAC")

        try harness.manifests.write("p.yaml", vm.replacingOccurrences(of: "macvtapMode: passthru", with: "macvtapMode: passthru, guestMac: \"02:00:00:00:aa:07\""))
        let refused = try harness.cli("apply")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("p.yaml:7:") && refused.stderr.contains("remove guestMac"), "\(refused.stderr)")
        #expect(try harness.ns.links()["nic0"]?.address == "02:00:00:00:bb:01")
    }

    @Test func vxlanPortIsCreatedAndEnslaved() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("underlay")
        try harness.ns.ip("addr", "add", "192.0.2.1/24", "dev", "underlay")
        try harness.ns.ip("link", "set", "underlay", "up")
        let vxlan = "  vxlan: {vni: 42, local: 192.0.2.1, remote: 192.0.2.2, device: underlay}\n"
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.9.0.1/24"], extra: vxlan))
        #expect(try harness.apply().converged)
        let detail = try harness.ns.ip("-d", "link", "show", "dev", "vx-br0")
        #expect(detail.contains("vxlan id 42 remote 192.0.2.2 local 192.0.2.1 dev underlay"))
        #expect(detail.contains("master br0"))
        #expect(detail.contains("dstport 4789"))
        #expect(try harness.plan().isInSync)

        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.9.0.1/24"],
                                                               extra: vxlan.replacingOccurrences(of: "192.0.2.2", with: "192.0.2.3")))
        let plan = try harness.plan()
        #expect(plan.changes.first?.summary.contains("remote 192.0.2.2 -> 192.0.2.3") == true)
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("-d", "link", "show", "dev", "vx-br0").contains("remote 192.0.2.3"))
    }

    @Test(.enabled(if: TestEnvironment.hasVLAN, "this kernel has no 802.1Q VLAN support (no 8021q module); VLAN ports cannot be created here"))
    func vlanPortIsCreatedAndEnslaved() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("trunk0")
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", extra: "  vlan: {parent: trunk0, id: 100}\n"))
        #expect(try harness.apply().converged)
        #expect(try harness.ns.ip("-d", "link", "show", "dev", "trunk0.100").contains("vlan protocol 802.1Q id 100"))
    }

    @Test(.enabled(if: !TestEnvironment.hasVLAN, "this kernel supports VLANs; the missing-support path cannot be exercised"))
    func missingVLANSupportIsAConflictNotACrash() throws {
        let harness = try Harness()
        try harness.ns.addHostInterface("trunk0")
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", extra: "  vlan: {parent: trunk0, id: 100}\n"))
        let plan = try harness.plan()
        #expect(plan.conflicts.first?.message.contains("cannot create 802.1Q VLAN devices") == true)
        #expect(try harness.cli("apply").status == 1)
        #expect(try harness.ns.links()["br0"] == nil)
    }

    @Test func missingHostInterfacesAreConflicts() throws {
        let harness = try Harness()
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", ports: ["nosuch0"]))
        let vm = Manifests.header + "kind: MicroVM\nmetadata: {name: m}\nspec:\n  vmm: none\n  networkInterfaces:\n"
            + "    - {guestDeviceName: eth0, type: macvtap, parentInterface: nosuch1}\n"
        try harness.manifests.write("m.yaml", vm)
        let messages = try harness.plan().conflicts.map(\.message)
        #expect(messages.contains("host interface \"nosuch0\" (Bridge br0 spec.ports) does not exist"))
        #expect(messages.contains("parent interface \"nosuch1\" of MicroVM m eth0 does not exist on this host"))
    }

    @Test func manyTapsAreCreatedAndDeletedInBatches() throws {
        let harness = try Harness()
        try harness.manifests.write("br.yaml", Manifests.bridge("br0"))
        var vms = ""
        for index in 0..<200 { vms += Manifests.microVM("vm\(index)", bridge: "br0") + "---\n" }
        try harness.manifests.write("vms.yaml", vms)
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links().values.filter { $0.master == "br0" }.count == 200)
        try harness.manifests.remove("vms.yaml")
        let outcome = try harness.apply()
        #expect(outcome.plan.changes.count == 200)
        #expect(outcome.converged)
        #expect(Set(try harness.ns.links().keys) == ["lo", "br0"])
    }
}
