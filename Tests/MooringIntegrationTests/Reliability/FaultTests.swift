import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import Testing

/// Faults from the kernel and systemd: each gives a clear error naming the resource, and leaves a state the
/// next run repairs once the cause is gone.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct FaultTests {
    /// Plans, lets `meddle` change the host, then executes the stale plan.
    private func applyAfter(_ harness: Harness, meddle: () throws -> Void) throws -> ExecutionError? {
        let reconciler = try harness.reconciler()
        let desired = try reconciler.load().desired
        let (plan, _) = try reconciler.plan(desired)
        try meddle()
        do {
            _ = try reconciler.apply(plan, desired: desired)
            return nil
        } catch let error as ExecutionError {
            return error
        }
    }

    @Test func aParentThatVanishesMidApplyIsNamedWithTheKernelsAnswer() throws {
        let harness = try Harness("mf")
        try harness.ns.addHostInterface("up0")
        try harness.manifests.write("m.yaml", Manifests.header + "kind: MicroVM\nmetadata: {name: f}\nspec:\n  vmm: none\n"
            + "  networkInterfaces: [{guestDeviceName: eth0, type: macvtap, parentInterface: up0}]\n")
        let error = try #require(try applyAfter(harness) { try harness.ns.ip("link", "del", "up0") })
        #expect(error.change.resource == .link("vm-f-eth0"))
        #expect(error.message.contains("create macvtap vm-f-eth0 on up0 failed: No such device"), "\(error.message)")
        let plan = try harness.plan()
        #expect(plan.conflicts.map(\.message) == ["parent interface \"up0\" of MicroVM f eth0 does not exist on this host"])
        try harness.ns.addHostInterface("up0")
        #expect(try harness.apply().converged)
    }

    @Test func aNameTakenBetweenPlanAndApplyIsEEXISTAndThenAConflict() throws {
        let harness = try Harness("mf")
        try harness.manifests.write("b.yaml", Manifests.bridge("fbr0", addresses: ["10.90.0.1/24"]))
        let error = try #require(try applyAfter(harness) { try harness.ns.ip("link", "add", "fbr0", "type", "bridge") })
        #expect(error.message.contains("create bridge fbr0 failed: File exists"), "\(error.message)")
        #expect(try harness.ns.links()["fbr0"]?.ifalias == nil, "the other's bridge was not marked or changed")
        #expect(try harness.plan().conflicts.first?.message.contains("mooring does not own it") == true)
        try harness.ns.ip("link", "del", "fbr0")
        #expect(try harness.apply().converged)
    }

    @Test func aBusyPortIsEBUSYNamingTheAction() throws {
        let harness = try Harness("mf")
        try harness.ns.addHostInterface("p0")
        // A macvlan on p0 holds its receive handler: p0 cannot also be a bridge port.
        try harness.ns.ip("link", "add", "link", "p0", "name", "usermv", "type", "macvlan")
        try harness.manifests.write("b.yaml", Manifests.bridge("fbr1", ports: ["p0"]))
        let result = try harness.cli("apply")
        #expect(result.status == 1)
        #expect(result.stderr.contains("link/p0 (Bridge \"fbr1\"): enslave p0 to fbr1 failed: Device or resource busy"), "\(result.stderr)")
        #expect(result.stderr.contains("change(s) were applied before it; run apply again after fixing the cause"))
        try harness.ns.ip("link", "del", "usermv")
        #expect(try harness.apply().converged)
        #expect(try harness.ns.links()["p0"]?.master == "fbr1")
    }

    @Test func anAddressAlreadyOnAnotherLinkIsAConflict() throws {
        let harness = try Harness("mf")
        try harness.ns.addHostInterface("other0")
        try harness.ns.ip("addr", "add", "10.91.0.1/24", "dev", "other0")
        try harness.manifests.write("b.yaml", Manifests.bridge("fbr2", addresses: ["10.91.0.1/24"]))
        let plan = try harness.plan()
        #expect(plan.conflicts.map(\.message) == ["address 10.91.0.1 for Bridge fbr2 is already on other0, which mooring does not own"])
        #expect(try harness.cli("apply").status == 1)
        #expect(try harness.ns.links()["fbr2"] == nil, "nothing changed")
    }

    @Test func noBusIsAClearErrorAndHoldsBackOnlyTheMicroVM() throws {
        let harness = try Harness("mf")
        try harness.manifests.write("b.yaml", Manifests.bridge("fbr3"))
        try harness.manifests.write("v.yaml", Manifests.microVM("fv", bridge: "fbr3", vmm: "qemu-microvm")
            .replacingOccurrences(of: "  vmm: qemu-microvm\n", with: "  vmm: qemu-microvm\n  vcpu: 1\n  memoryMb: 128\n  kernel: /etc/hostname\n"))
        let result = try harness.cli("apply", ["--user"], environment: ["XDG_RUNTIME_DIR": "/nonexistent-runtime", "DBUS_SESSION_BUS_ADDRESS": ""])
        #expect(result.status == 1)
        #expect(result.stdout.contains("cannot manage MicroVM \"fv\"'s VMM: cannot connect to the user bus"), "\(result.stdout)")
        #expect(try harness.ns.links()["vm-fv-eth0"] == nil, "the MicroVM's own devices wait for its conflict")
        #expect(try harness.ns.links()["fbr3"] != nil, "the bridge is another manifest's: it is built")
        harness.tearDown()
    }

    /// The table travels as values and is serialised once: strings that would end a JSON string early
    /// (a quote, a backslash) reach libnftables intact and read back as the same values, so the host is in sync
    /// afterwards instead of re-planning a forward that was silently lost (as happened with element texts).
    @Test func hostileStringsRoundTripThroughLibnftables() throws {
        let ns = try TestNamespace("mf")
        let drivers = try HostDrivers(netns: ns.name)
        let elements = ["e\"x\\", "ext0", "q'uote"].map { name in
            NftMapElement(key: ["concat": [.string(name), 6, 80]], value: "10.0.0.10")
        }
        let table = NftTable(chains: [NftChain(name: "forward", type: "filter", hook: "forward", priority: 0)],
                             maps: [NftMap(name: "fwd4_keep", keyType: ["ifname", "inet_proto", "inet_service"],
                                           dataType: "ipv4_addr", flags: ["interval"], elements: elements)],
                             rules: [NftRule(chain: "forward", comment: "a \"quoted\" \\ comment", expression: [["accept": .null]])])
        try drivers.applyOther(.replaceNftTable(table))
        let observed = try #require(try drivers.observe().nftables)
        #expect(observed.isEquivalent(to: table), "\(observed.maps.first?.elements ?? []) \(observed.others)")
        #expect(observed.maps.first?.elements.count == 3)
    }

    @Test func libnftablesErrorsCarryItsOwnText() throws {
        let ns = try TestNamespace("mf")
        let drivers = try HostDrivers(netns: ns.name)
        let bad = NftTable(chains: [NftChain(name: "bad", type: "nat", hook: "no-such-hook", priority: 0)])
        do {
            try drivers.applyOther(.replaceNftTable(bad))
            Issue.record("an invalid table was accepted")
        } catch {
            #expect("\(error)".hasPrefix("nftables: "))
            #expect("\(error)".lowercased().contains("hook"), "libnftables' own message: \(error)")
        }
    }
}
