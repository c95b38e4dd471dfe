import Foundation
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import Synchronization
import Testing

/// An apply's verification starts reading mooring's tables back while the links are still being made, and plans
/// again with what the manifests make kept from the apply's own plan: neither may ever show it something older than
/// what it verifies.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct ApplyVerificationTests {
    private static let nat = Manifests.header + """
        kind: NAT
        metadata: {name: edge}
        spec:
          externalInterface: ext0
          internalInterfaces: [vbr0]
          forwardPorts:
            - {proto: tcp, sourcePort: 8080, destination: "10.9.0.10:80"}

        """

    private func harness() throws -> Harness {
        let harness = try Harness("av")
        try harness.ns.addHostInterface("ext0")
        try harness.manifests.write("bridge.yaml", Manifests.bridge("vbr0", addresses: ["10.9.0.1/24"]))
        try harness.manifests.write("nat.yaml", Self.nat)
        for index in 0..<20 { try harness.manifests.write("vm\(index).yaml", Manifests.microVM("v\(index)", bridge: "vbr0")) }
        return harness
    }

    /// The moment the executor says the changes alongside the links are done, their table is in the kernel
    /// (libnftables' transaction has committed): the live listing then already has the new forward.
    @Test func theTablesAreReadBackOnlyOnceTheirTransactionHasCommitted() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        let reconciler = try harness.reconciler()
        let desired = try reconciler.load().desired
        let (plan, _) = try reconciler.plan(desired)
        #expect(plan.changes.contains { if case .replaceNftTable = $0.operation { true } else { false } })
        #expect(plan.changes.contains { $0.operation.isLinkAction })

        let listings = Mutex<[String]>([])
        var executor = Executor(drivers: reconciler.drivers)
        let ns = harness.ns
        executor.alongsideDone = {
            let listing = (try? ns.exec("nft", "list", "table", "inet", "mooring").stdout) ?? ""
            listings.withLock { $0.append(listing) }
        }
        try executor.execute(plan)
        let seen = listings.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.contains("8080 : 10.9.0.10") == true)
        // And the whole apply's verification agrees: nothing left.
        #expect(try reconciler.plan(desired).0.isInSync)
    }

    /// With nothing to do alongside the links, the executor says so at once (the verification does not wait for
    /// a transaction that never comes); when the transaction fails, it never says so (nothing is verified).
    @Test func alongsideDoneIsCalledOnceWithNothingToDoAndNeverAfterAFailure() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        try harness.manifests.remove("nat.yaml")
        let reconciler = try harness.reconciler()
        let desired = try reconciler.load().desired
        let (plan, _) = try reconciler.plan(desired)
        #expect(!plan.changes.contains { $0.phase.runsAlongsideLinks })
        let calls = Atomic<Int>(0)
        var executor = Executor(drivers: reconciler.drivers)
        executor.alongsideDone = { calls.add(1, ordering: .relaxed) }
        try executor.execute(plan)
        #expect(calls.load(ordering: .relaxed) == 1)

        // A table libnftables refuses: a base chain on a hook that does not exist.
        var broken = NftTable()
        broken.chains = [NftChain(name: "prerouting", type: "nat", hook: "no-such-hook", priority: -100)]
        let failing = Plan(changes: [Change(resource: .nftTable, group: .stale, action: .create, summary: "a table the kernel refuses",
                                            reason: .liveTableDiffers, operation: .replaceNftTable(broken), phase: .nftables)])
        let failedCalls = Atomic<Int>(0)
        var failingExecutor = Executor(drivers: reconciler.drivers)
        failingExecutor.alongsideDone = { failedCalls.add(1, ordering: .relaxed) }
        #expect(throws: ExecutionError.self) { try failingExecutor.execute(failing) }
        #expect(failedCalls.load(ordering: .relaxed) == 0)
    }

    /// The reconciler keeps what the last plan's manifests make for the next plan of the same manifests; a plan
    /// of other manifests must not reuse it (a MicroVM added between two plans gets its tap).
    @Test func aPlanOfOtherManifestsDoesNotReuseWhatTheLastOnesMake() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        let reconciler = try harness.reconciler()
        let first = try reconciler.load().desired
        let firstPlan = try reconciler.plan(first).0
        #expect(firstPlan.summaries.contains { $0.contains("vm-v0-eth0") })
        #expect(!firstPlan.summaries.contains { $0.contains("vm-extra-eth0") })

        try harness.manifests.write("extra.yaml", Manifests.microVM("extra", bridge: "vbr0"))
        let second = try reconciler.load().desired
        let secondPlan = try reconciler.plan(second).0
        #expect(secondPlan.summaries.contains { $0.contains("vm-extra-eth0") })

        // Back to the first manifests (loaded again: equal, not the same storage): the first plan again.
        try harness.manifests.remove("extra.yaml")
        let again = try reconciler.plan(try reconciler.load().desired).0
        #expect(again.summaries == firstPlan.summaries)
        // And applying the second set converges, verified with what it makes.
        #expect(try reconciler.apply(secondPlan, desired: second).converged)
    }
}
