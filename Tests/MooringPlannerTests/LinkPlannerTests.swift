import MooringModel
import MooringPlan
@testable import MooringPlanner
import MooringReports
import Testing

struct LinkPlannerTests {
    @Test func emptyHostGetsMastersBeforePortsAndAddressesLast() {
        let desired = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.1/24"], mtu: 9000)],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let plan = Planner(desired: desired, observed: ObservedState()).plan()
        #expect(plan.summaries == [
            "create bridge br0 (Bridge br0) mtu 9000",
            "create tap vm-a-eth0 (MicroVM a eth0) master br0 mtu 9000",
            "bridge br0: add address 10.0.0.1/24",
        ])
        #expect(plan.changes.map(\.operation) == [
            .createLink(name: "br0", alias: "mooring:Bridge/br0", master: nil, mtu: 9000, config: .bridge(BridgeConfig(mac: DeviceNaming.bridgeMAC("br0")))),
            .createLink(name: "vm-a-eth0", alias: "mooring:MicroVM/a/eth0", master: "br0", mtu: 9000,
                        config: .tap(TapConfig(vnetHeader: true, multiQueue: false))),
            .addAddress(link: "br0", address: CIDR("10.0.0.1/24")!),
        ])
        // Counted by resource: the bridge's address is part of creating it.
        #expect(plan.summary == Plan.Summary(create: 2, update: 0, replace: 0, delete: 0, disruptive: 0))
    }

    @Test func convergedHostIsInSync() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0", addresses: ["10.0.0.1/24"])
        links.add("vm-a-eth0", Fixture.tap, owner: "MicroVM/a/eth0", master: "br0")
        links.add("lo", .device, mtu: 65536)
        let desired = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.1/24"])],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0")])
        #expect(Planner(desired: desired, observed: links.state).plan().isInSync)
    }

    /// A bridge's MAC is its own, derived from its name and set at creation; drift on it is repaired (a bridge
    /// left to itself takes its lowest port's MAC, and changes it whenever a port comes or goes).
    @Test func theBridgeMACIsDerivedAndRepaired() throws {
        let mac = DeviceNaming.bridgeMAC("br0")
        #expect(mac == DeviceNaming.bridgeMAC("br0") && mac != DeviceNaming.bridgeMAC("br1") && !mac.isMulticast)
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0", mac: "02:00:00:00:00:01")
        let plan = Planner(desired: DesiredState(bridges: [Fixture.bridge("br0")]), observed: links.state).plan()
        #expect(plan.summaries == ["bridge br0: set mac \(mac)"])
        #expect(plan.changes.first?.operation == .setMAC(link: "br0", mac: mac))
    }

    /// An owned bridge holds exactly its declared ports and mooring's devices: a port removed from spec.ports
    /// (or one someone else added) is released, never deleted or taken down; links of others' bridges stay.
    @Test func portsNoLongerDeclaredAreReleased() throws {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("theirs", .bridge)
        links.add("eth1", .device, master: "br0")
        links.add("eth2", .device, master: "br0")
        links.add("eth3", .device, master: "theirs")
        links.add("vm-a-eth0", Fixture.tap, owner: "MicroVM/a/eth0", master: "br0")
        let desired = DesiredState(bridges: [Fixture.bridge("br0", ports: ["eth1"])], microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.summaries == ["port eth2: release from bridge br0"])
        #expect(plan.changes.first?.operation == .setMaster(link: "eth2", master: nil))
        #expect(plan.changes.allSatisfy { !$0.disruptive })
    }

    /// A VXLAN port's MTU must fit its underlay less the encapsulation: said before anything changes, with the
    /// largest valid value, and the bridge is not touched (it used to be set, then the port refused).
    @Test func aVXLANMTUThatDoesNotFitItsUnderlayIsAConflict() throws {
        var links = Fixture.Links()
        links.add("eth0", .device, mtu: 1500)
        func plan(mtu: Int, remote: String) -> Plan {
            var bridge = Fixture.bridge("br0", mtu: mtu)
            bridge.madePorts = [DesiredBridgePort(name: "vx-br0", field: "vxlan", config: .vxlan(VxlanConfig(
                vni: 42, local: nil, remote: IPAddress(remote), group: nil, port: 4789, device: "eth0")))]
            return Planner(desired: DesiredState(bridges: [bridge]), observed: links.state).plan()
        }
        let tooBig = plan(mtu: 1500, remote: "192.0.2.2")
        #expect(tooBig.conflicts.map(\.message) == [
            "Bridge \"br0\" spec.mtu 1500 does not fit Bridge br0 vxlan: its underlay eth0 has mtu 1500 and VXLAN over IPv4 adds 50 bytes; the largest valid spec.mtu is 1450",
        ])
        #expect(tooBig.changes.isEmpty, "nothing of the bridge changes: \(tooBig.summaries)")
        #expect(plan(mtu: 1450, remote: "192.0.2.2").conflicts.isEmpty)
        #expect(plan(mtu: 1450, remote: "2001:db8::2").conflicts.first?.message.contains("IPv6 adds 70 bytes; the largest valid spec.mtu is 1430") == true)
    }

    /// The uplink moves into the bridge in order (address onto the bridge, off the port, then the routes); a
    /// route someone else made with a declared route's key is a conflict unless it leaves with a moving port;
    /// only mooring's own routes (proto 193) are ever deleted.
    @Test func routesAndTheUplinkMove() throws {
        let gateway = IPAddress("192.0.2.1")!
        let any = CIDR("0.0.0.0/0")!
        func theirs(_ via: String, proto: Int) -> ObservedRoute {
            ObservedRoute(destination: any, gateway: IPAddress(via), metric: 0, table: 254, protocolNumber: proto)
        }
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("eno1", .device, addresses: ["192.0.2.10/24"])
        links.links[1].routes = [theirs("192.0.2.1", proto: 3)]
        var bridge = Fixture.bridge("br0", addresses: ["192.0.2.10/24"], ports: ["eno1"])
        bridge.routes = [DesiredRoute(destination: any, gateway: gateway)]
        let plan = Planner(desired: DesiredState(bridges: [bridge]), observed: links.state).plan()
        #expect(plan.conflicts.isEmpty, "\(plan.conflicts.map(\.message))")
        let order = ["port eno1: enslave to bridge br0", "bridge br0: add address 192.0.2.10/24",
                     "port eno1: move address 192.0.2.10/24 to bridge br0",
                     "port eno1: delete route default via 192.0.2.1 proto boot (bridge br0 takes it over)",
                     "bridge br0: add route default via 192.0.2.1"]
        #expect(order.allSatisfy(plan.summaries.contains), "\(plan.summaries)")
        #expect(order.compactMap { plan.summaries.firstIndex(of: $0) } == order.compactMap { plan.summaries.firstIndex(of: $0) }.sorted())

        // The same default route on a link that stays as it is: theirs, so a conflict, and nothing replaces it.
        links.add("wan9", .device, addresses: ["198.51.100.2/24"])
        links.links[2].routes = [theirs("198.51.100.1", proto: 16)]
        let clash = Planner(desired: DesiredState(bridges: [bridge]), observed: links.state).plan()
        // The message names the route that is there, with its own gateway (it used to print the declared one's).
        #expect(clash.conflicts.map(\.message).contains {
            $0.contains("the declared route default via 192.0.2.1 clashes with route default via 198.51.100.1 proto dhcp on wan9")
        }, "\(clash.conflicts.map(\.message))")
        #expect(!clash.changes.contains { if case .addRoute = $0.operation { true } else { false } })

        // Converged: mooring's route on the bridge. Dropped from the manifest: only it is deleted.
        var converged = Fixture.Links()
        converged.add("br0", .bridge, owner: "Bridge/br0", addresses: ["192.0.2.10/24"])
        converged.links[0].routes = [ObservedRoute(destination: any, gateway: gateway, metric: 0, table: 254, protocolNumber: 193),
                                     ObservedRoute(destination: CIDR("10.9.0.0/16")!, gateway: IPAddress("192.0.2.7"), metric: 0,
                                                   table: 254, protocolNumber: 4)]
        var declared = Fixture.bridge("br0", addresses: ["192.0.2.10/24"])
        declared.routes = bridge.routes
        #expect(Planner(desired: DesiredState(bridges: [declared]), observed: converged.state).plan().isInSync)
        declared.routes = []
        #expect(Planner(desired: DesiredState(bridges: [declared]), observed: converged.state).plan().summaries
                == ["bridge br0: delete route default via 192.0.2.1"])
    }

    @Test func everyOwnedFieldIsCompared() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0", mtu: 1500, up: false, addresses: ["10.0.0.1/24", "10.1.0.1/24"])
        links.add("br1", .bridge, owner: "Bridge/br1")
        links.add("vm-a-eth0", Fixture.tap, owner: "MicroVM/old/eth0", master: "br1", mtu: 1400)
        let desired = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.1/24", "fd00::1/64"], mtu: 9000),
                                             Fixture.bridge("br1")],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(Set(plan.summaries) == [
            "bridge br0: set mtu 9000", "bridge br0: set up", "bridge br0: remove address 10.1.0.1/24",
            "bridge br0: add address fd00::1/64", "tap vm-a-eth0: mark as MicroVM/a/eth0",
            "tap vm-a-eth0: set mtu 9000", "tap vm-a-eth0: set master br0",
        ])
        #expect(plan.changes.allSatisfy { !$0.disruptive })
        // Removals before additions, so an address can move between prefixes.
        let removal = plan.changes.firstIndex { $0.summary.contains("remove address") }!
        let addition = plan.changes.firstIndex { $0.summary.contains("add address") }!
        #expect(removal < addition)
    }

    @Test func kindChangesRecreateAndAreDisruptive() {
        var links = Fixture.Links()
        links.add("eth0", .device)
        links.add("eth1", .device)
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("vm-a-eth0", .made(.tap(TapConfig(vnetHeader: false, multiQueue: false))),
                  owner: "MicroVM/a/eth0", master: "br0")
        links.add("vm-m-eth0", .made(.macvtap(MacvtapConfig(parent: "eth0", mode: .bridge, mac: MACAddress("02:00:00:00:00:01")))), owner: "MicroVM/m/eth0", parent: "eth0", mac: "02:00:00:00:00:01")
        let desired = DesiredState(bridges: [Fixture.bridge("br0")],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0"), Fixture.macvtapVM("m", parent: "eth1")])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.changes.count == 4)
        #expect(plan.changes.allSatisfy { $0.disruptive && $0.action == .replace })
        #expect(plan.summaries[0].contains("vnet_hdr off -> on"))
        #expect(plan.summaries[1].contains("parent eth0 -> eth1"))
        #expect(plan.changes.prefix(2).allSatisfy { if case .deleteLink = $0.operation { true } else { false } })
        #expect(plan.summary.replace == 2)
    }

    @Test func staleDevicesGoBeforeTheirBridgeAndHostLinksStay() {
        var links = Fixture.Links()
        links.add("eth0", .veth)
        links.add("oldbr", .bridge, owner: "Bridge/oldbr")
        links.add("vm-x-eth0", Fixture.tap, owner: "MicroVM/x/eth0", master: "oldbr")
        links.add("vx-oldbr", .made(.vxlan(VxlanConfig(vni: 1, local: nil, remote: nil, group: nil, port: 4789, device: nil))), owner: "Bridge/oldbr/vxlan", master: "oldbr")
        links.add("vm-y-eth0", Fixture.tap)
        links.links[links.links.count - 1].index = DeviceNaming.reservedIndexBase + 7  // created, then killed before marking
        links.add("usertap", Fixture.tap, master: "oldbr")
        let plan = Planner(desired: DesiredState(), observed: links.state).plan()
        #expect(plan.changes.map(\.operation.linkName) == ["vm-x-eth0", "vm-y-eth0", "vx-oldbr", "oldbr"])
        #expect(plan.summaries[1] == "delete tap vm-y-eth0 (left unmarked by an interrupted run)")
        #expect(plan.changes.allSatisfy { $0.action == .delete && !$0.disruptive })
    }

    @Test func anUnmarkedLinkAtAReservedIndexIsMarkedNotAConflict() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("vm-a-eth0", Fixture.tap)
        links.links[1].index = DeviceNaming.reservedIndexBase + 1
        let desired = DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.conflicts.isEmpty)
        #expect(plan.summaries == ["tap vm-a-eth0: mark as MicroVM/a/eth0", "tap vm-a-eth0: set master br0"])
    }

    @Test func unownedLinkConflictsUnlessItMatchesExactly() {
        var links = Fixture.Links()
        links.add("br0", .bridge, addresses: ["10.0.0.1/24"])
        let matching = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.1/24"])])
        let adopted = Planner(desired: matching, observed: links.state).plan()
        #expect(adopted.isInSync)
        #expect(adopted.warnings == ["bridge br0 is not mooring's (no \"mooring:\" alias) but matches Bridge br0: adopted as is; "
                                     + "mooring uses it and will never change or delete it"], "explicit, in every plan")

        let different = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.2/24"])])
        let plan = Planner(desired: different, observed: links.state).plan()
        #expect(plan.changes.isEmpty)
        #expect(plan.conflicts.count == 1)
        #expect(plan.conflicts[0].message.contains("missing address 10.0.0.2/24, extra address 10.0.0.1/24"))

        var tapNamedLikeABridge = Fixture.Links()
        tapNamedLikeABridge.add("br0", Fixture.tap)
        let kind = Planner(desired: matching, observed: tapNamedLikeABridge.state).plan()
        #expect(kind.conflicts.first?.message.contains("kind tap -> bridge") == true)
    }

    @Test func hostPortsAreEnslavedAndRaisedButNeverMarked() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("other", .bridge)
        links.add("eth1", .veth, master: "other", up: false)
        let desired = DesiredState(bridges: [Fixture.bridge("br0", ports: ["eth1"])])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.summaries == ["port eth1: enslave to bridge br0", "port eth1: set up"])
        #expect(plan.changes[0].fields == [FieldChange("master", before: "other", after: "br0")])
    }

    @Test func missingReferencesAreConflicts() {
        let desired = DesiredState(bridges: [Fixture.bridge("br0", ports: ["eth9"])],
                                   microVMs: [Fixture.macvtapVM("m", parent: "eth8")])
        let plan = Planner(desired: desired, observed: ObservedState()).plan()
        #expect(plan.conflicts.map(\.resource).sorted() == [.link("eth9"), .link("vm-m-eth0")])
        #expect(plan.changes.isEmpty, "the bridge whose port is missing waits: \(plan.summaries)")
        #expect(plan.held.map(\.summary) == ["create bridge br0 (Bridge br0)"])
        #expect(!plan.isInSync)
    }

    /// A bridge may sit at its declared MTU only because it followed its ports there (the kernel lets an
    /// unpinned bridge do that): when the plan takes those ports away, the MTU is pinned, or it would fall back
    /// (found by the randomized ownership test, seed 826192522, cycle 25).
    @Test func aBridgeWhosePortsLeaveHasItsMTUPinned() {
        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0", mtu: 9000)
        links.add("vm-a-eth0", Fixture.tap, owner: "MicroVM/a/eth0", master: "br0", mtu: 9000)
        let desired = DesiredState(bridges: [Fixture.bridge("br0", mtu: 9000)])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.changes.map(\.operation).contains(.pinBridgeMTU(link: "br0", mtu: 9000)), "\(plan.summaries)")
        #expect(plan.summaries.contains("bridge br0: pin mtu 9000"))
        // Nothing leaves: nothing to do.
        let kept = Planner(desired: DesiredState(bridges: [Fixture.bridge("br0", mtu: 9000)], microVMs: [Fixture.tapVM("a", bridge: "br0")]),
                           observed: links.state).plan()
        #expect(!kept.changes.contains { $0.summary.contains("pin mtu") }, "\(kept.summaries)")
    }

    /// A conflict holds back its own manifest and what is built on it, nothing else.
    @Test func aConflictHoldsOnlyWhatItConcerns() {
        var links = Fixture.Links()
        links.add("br1", .bridge)  // not mooring's, and not a bridge mooring may change
        links.add("stale-tap", Fixture.tap, owner: "MicroVM/gone")
        var onTaken = Fixture.bridge("br1", addresses: ["10.0.0.1/24"])
        onTaken.mtu = 9000
        let desired = DesiredState(bridges: [Fixture.bridge("br0"), onTaken],
                                   microVMs: [Fixture.tapVM("ok", bridge: "br0"), Fixture.tapVM("on1", bridge: "br1")])
        let plan = Planner(desired: desired, observed: links.state).plan()
        #expect(plan.conflicts.map(\.resource) == [.link("br1")])
        #expect(plan.changes.map(\.resource).sorted() == [.link("br0"), .link("stale-tap"), .link("vm-ok-eth0")],
                "\(plan.summaries)")
        #expect(plan.held.map(\.resource) == [.link("vm-on1-eth0")], "a tap on the conflicted bridge waits")
    }

    @Test func vlanWithoutKernelSupportIsAConflict() {
        var bridge = Fixture.bridge("br0")
        bridge.madePorts = [DesiredBridgePort(name: "eth0.5", field: "vlan", config: .vlan(VlanConfig(parent: "eth0", id: 5)))]
        var links = Fixture.Links()
        links.add("eth0", .veth)
        var observed = links.state
        observed.capabilities.vlan = false
        let plan = Planner(desired: DesiredState(bridges: [bridge]), observed: observed).plan()
        #expect(plan.conflicts.first?.fix.contains("modprobe 8021q") == true)
    }

    /// The plan's JSON spells out every field (nulls included), names operations by `type`, and carries no
    /// encoder artifacts; it reads back as the same value.
    @Test func planJSONIsExplicitAndReadsBack() throws {
        let desired = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["fd00::1/64"])],
                                   microVMs: [Fixture.macvtapVM("m", parent: "br0")])
        let plan = Planner(desired: desired, observed: ObservedState()).plan()
        let report = PlanJSON.report(plan, context: ReportContext(manifestDirectory: "m"))
        let text = JSONRenderer.render(report)
        #expect(JSONValue.parse(text) == report)
        #expect(report["formatVersion"] == JSONValue(JSONEnvelope.formatVersion))
        let bridge = try #require(report["changes"]?.array?.first)
        #expect(bridge["resource"] == ["kind": "link", "name": "br0"])
        #expect(bridge["group"] == ["kind": "Bridge", "name": "br0"])
        #expect(bridge["operation"] == ["type": "createLink", "kind": "bridge", "name": "br0", "alias": "mooring:Bridge/br0",
                                        "master": .null, "mtu": .null,
                                        "settings": ["mac": .string(DeviceNaming.bridgeMAC("br0").description)]])
        #expect(!text.contains("\"_0\""))
        #expect(report["context"]?["gitCommit"] == .null, "absent values are null, not missing")
    }

    @Test func textRendererGroupsByManifest() {
        let desired = DesiredState(bridges: [Fixture.bridge("br0", addresses: ["10.0.0.1/24"])],
                                   microVMs: [Fixture.tapVM("a", bridge: "br0")])
        let text = TextRenderer(style: .plain).render(plan: Planner(desired: desired, observed: ObservedState()).plan(), context: nil)
        #expect(text == """
            Bridge "br0"
              + create bridge br0 (Bridge br0)
              ~ bridge br0: add address 10.0.0.1/24
            MicroVM "a"
              + create tap vm-a-eth0 (MicroVM a eth0) master br0

            Plan: 2 to create, 0 to change, 0 to delete.

            """)
    }
}

extension Plan {
    var summaries: [String] { changes.map(\.summary) }
}
import Foundation

/// `isolated: true` on a tap: set right after the tap is made, compared once it is its bridge's port.
@Suite struct PortIsolationPlanningTests {
    static func desired(isolated: Bool) -> DesiredState {
        var vm = Fixture.tapVM("web", bridge: "br0")
        vm.interfaces[0].isolated = isolated
        return DesiredState(bridges: [Fixture.bridge("br0")], microVMs: [vm])
    }

    @Test func isolationIsSetAtCreationAndRepaired() {
        let created = Planner(desired: Self.desired(isolated: true), observed: ObservedState()).plan()
        let summaries = created.summaries
        let create = summaries.firstIndex { $0.hasPrefix("create tap vm-web-eth0") }
        let isolate = summaries.firstIndex(of: "tap vm-web-eth0: set port isolation on")
        #expect(create != nil && isolate != nil && create! < isolate!, "\(summaries)")

        var links = Fixture.Links()
        links.add("br0", .bridge, owner: "Bridge/br0")
        links.add("vm-web-eth0", Fixture.tap, owner: "MicroVM/web/eth0", master: "br0")
        links.links[1].isolated = false
        #expect(Planner(desired: Self.desired(isolated: true), observed: links.state).plan().summaries == ["tap vm-web-eth0: set port isolation on"])
        links.links[1].isolated = true
        #expect(Planner(desired: Self.desired(isolated: true), observed: links.state).plan().isInSync)
        #expect(Planner(desired: Self.desired(isolated: false), observed: links.state).plan().summaries == ["tap vm-web-eth0: set port isolation off"])
    }
}
