import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// Kill -9 `mooring apply` at every point of a large apply (and of a large teardown); the next apply must
/// always converge, leaving nothing owned over or missing.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct CrashSafetyTests {
    /// Two bridges (one with a VXLAN port and a host port), taps for many MicroVMs, a macvtap, addresses, NAT.
    static func largeManifests(_ harness: Harness, vms: Int = 24 * ReliabilityScale.factor) throws {
        let ns = harness.ns
        try ns.addHostInterface("uplink0")
        try ns.addHostInterface("underlay0")
        try ns.ip("addr", "add", "192.0.2.1/24", "dev", "underlay0")
        try ns.ip("link", "set", "underlay0", "up")
        try ns.addHostInterface("ext0")
        try ns.addHostInterface("mvparent")
        try ns.ip("link", "set", "mvparent", "up")
        try harness.manifests.write("bridges.yaml", Manifests.bridge("cbr0", addresses: ["10.8.0.1/24", "fd08::1/64"], mtu: 1400,
                                                                      ports: ["uplink0"],
                                                                      extra: "  vxlan: {vni: 88, local: 192.0.2.1, remote: 192.0.2.2, device: underlay0}\n")
            + "---\n" + Manifests.bridge("cbr1", addresses: ["10.9.0.1/24"]))
        var vmText = ""
        for index in 0..<vms {
            vmText += Manifests.microVM("c\(index)", bridge: index % 2 == 0 ? "cbr0" : "cbr1") + "---\n"
        }
        vmText += Manifests.header + "kind: MicroVM\nmetadata: {name: cm}\nspec:\n  vmm: none\n  networkInterfaces:\n"
            + "    - {guestDeviceName: eth0, type: macvtap, parentInterface: mvparent}\n"
        try harness.manifests.write("vms.yaml", vmText)
        try harness.manifests.write("nat.yaml", Manifests.header + """
            kind: NAT
            metadata: {name: crash}
            spec:
              externalInterface: ext0
              internalInterfaces: [cbr0, cbr1]
              enableIPv6: true
              forwardPorts:
                - {proto: tcp, sourcePort: 80, destination: "10.8.0.10:80"}
                - {proto: udp, sourcePort: "5000:5010", destination: 10.9.0.10}
                - {proto: tcp, sourcePort: 443, destination: "[fd08::10]:443"}
            """)
    }

    /// What a converged host has: the owned links the manifests imply, no temporary devices, the table.
    private func expectConverged(_ harness: Harness, _ expectedOwned: Set<String>, _ context: String) throws {
        let links = try harness.ns.links()
        let owned = Set(links.values.filter { $0.ifalias?.hasPrefix("mooring:") == true }.map(\.ifname))
        #expect(owned == expectedOwned, "\(context): owned links \(owned.symmetricDifference(expectedOwned))")
        #expect(try harness.ns.indexes().filter { $0.value >= DeviceNaming.reservedIndexBase }.keys.allSatisfy(expectedOwned.contains),
                "\(context): an unmarked link of mooring's was left")
        #expect(try harness.plan().isInSync, "\(context): not in sync")
    }

    private func expectNothingOwned(_ harness: Harness, _ context: String) throws {
        let links = try harness.ns.links()
        #expect(!links.values.contains { $0.ifalias?.hasPrefix("mooring:") == true }, "\(context): owned links left over")
        #expect(try harness.ns.indexes().values.allSatisfy { $0 < DeviceNaming.reservedIndexBase }, "\(context): unmarked links left over")
        #expect(try harness.ns.exec("nft", "list", "table", "inet", "mooring").status != 0, "\(context): table left over")
    }

    @Test func killedAtEveryPointTheNextApplyConverges() throws {
        let harness = try Harness("mk")
        try Self.largeManifests(harness)
        let empty = try ManifestDirectory()
        // One full cycle first: forwarding and the host port's admin state stay on after a teardown (mooring
        // never turns them back), so every later plan is this one.
        #expect(try harness.apply().converged)
        #expect(try TestEnvironment.mooring(["apply", "-f", empty.path, "--netns", harness.ns.name, "--allow-empty"]).status == 0)
        let planned = try PlanDocument(try harness.cli("plan", ["--output", "json"]).stdout)
        let points = planned.changes.count
        #expect(points >= 30, "the plan has \(points) changes; the test wants at least 30 kill points")
        let expectedOwned = Set(planned.changes.compactMap { change -> String? in
            guard change.action == "create", change.resource.hasPrefix("link/") else { return nil }
            return String(change.resource.dropFirst("link/".count))
        })
        var survived = 0
        for point in 1...points {
            let killed = try harness.cli("apply", environment: ["MOORING_TEST_KILL_AFTER": "\(point)"])
            #expect(killed.killedBySIGKILL, "kill point \(point) should have killed apply: \(killed.stderr)")
            let next = try harness.cli("apply")
            #expect(next.status == 0, "after a kill at \(point): \(next.stdout)\(next.stderr)")
            try expectConverged(harness, expectedOwned, "after a kill at change \(point)")
            // Kill the teardown part-way too, then finish it.
            let teardown = try TestEnvironment.mooring(["apply", "-f", empty.path, "--netns", harness.ns.name, "--allow-empty"],
                                                       environment: ["MOORING_TEST_KILL_AFTER": "\(1 + point % 5)"])
            #expect(teardown.killedBySIGKILL)
            #expect(try TestEnvironment.mooring(["apply", "-f", empty.path, "--netns", harness.ns.name, "--allow-empty"]).status == 0)
            try expectNothingOwned(harness, "teardown after kill point \(point)")
            survived += 1
        }
        print("crash-safety: \(survived) kill points survived (plan of \(points) changes), each followed by a killed teardown")
    }

    @Test(arguments: [1, 2, 5])
    func killedBetweenATapsIoctlAndItsMarkingLeavesALinkTheNextRunRecognises(_ tap: Int) throws {
        let harness = try Harness("mk")
        try Self.largeManifests(harness, vms: 6)
        let killed = try harness.cli("apply", environment: ["MOORING_TEST_KILL_AFTER_TAP_IOCTL": "\(tap)"])
        #expect(killed.killedBySIGKILL)
        // The kill left the taps created so far without their alias (their marks were still batched), each at
        // an index only mooring uses.
        let indexes = try harness.ns.indexes()
        let unmarked = try harness.ns.links().values.filter { $0.linkinfo?.info_kind == "tun" && $0.ifalias == nil }.map(\.ifname)
        #expect(unmarked.count == tap)
        #expect(unmarked.allSatisfy { (indexes[$0] ?? 0) >= DeviceNaming.reservedIndexBase })
        let plan = try harness.plan()
        #expect(plan.conflicts.isEmpty, "mooring recognises its own unmarked tap: \(plan.conflicts)")
        #expect(plan.summaries.contains { $0.hasSuffix(": mark as MicroVM/c\(tap - 1)/eth0") }, "\(plan.summaries)")
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links().values.allSatisfy { $0.linkinfo?.info_kind != "tun" || $0.ifalias != nil })
    }
}
