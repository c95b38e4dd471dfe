import Foundation
import Testing

/// "The host matches the manifests" is said only when everything was checked. Without MicroVMs, a host with
/// no systemd manager at all has no units to check (silence); a manager that is there but cannot be asked
/// leaves units unchecked, which plan and apply say, exiting 3.
@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct UncheckedObjectsTests {
    private func harness() throws -> Harness {
        let harness = try Harness("uc")
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.8.0.1/24"]))
        try harness.apply()
        return harness
    }

    @Test func noSystemdManagerAtAllAndNoMicroVMsIsInSyncWithoutAWord() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        let noBus = ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/mooring-test-bus"]
        let plan = try harness.cli("plan", environment: noBus)
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("No changes: the host matches the manifests."))
        #expect(!(plan.stdout + plan.stderr).contains("not checked"), "\(plan.stdout)\(plan.stderr)")
        #expect(!(plan.stdout + plan.stderr).contains("warning"), "\(plan.stdout)\(plan.stderr)")
        let apply = try harness.cli("apply", environment: noBus)
        #expect(apply.status == 0 && !(apply.stdout + apply.stderr).contains("warning"), "\(apply.stdout)\(apply.stderr)")
    }

    @Test func aManagerThatCannotBeAskedLeavesUnitsUncheckedAndNeverInSync() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        // A bus socket that accepts and hangs up at once: something is there, but it answers nothing.
        let socket = "/tmp/mooring-test-bus-\(harness.ns.name)"
        let server = try BackgroundProcess(["socat", "UNIX-LISTEN:\(socket),fork", "SYSTEM:true"])
        defer { server.stop(); unlink(socket) }
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let brokenBus = ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=\(socket)"]

        let plan = try harness.cli("plan", environment: brokenBus)
        #expect(plan.status == 3, "\(plan.stdout)\(plan.stderr)")
        #expect(!plan.stdout.contains("the host matches"), "\(plan.stdout)")
        #expect(plan.stdout.contains("not checked: MicroVM units"), "\(plan.stdout)")
        #expect(plan.stdout.components(separatedBy: "MicroVM units").count == 2, "said once: \(plan.stdout)")

        let apply = try harness.cli("apply", environment: brokenBus)
        #expect(apply.status == 3, "\(apply.stdout)\(apply.stderr)")
        #expect(!apply.stdout.contains("The host matches"), "\(apply.stdout)")
        #expect(apply.stdout.contains("not checked: MicroVM units"), "\(apply.stdout)")
    }

    /// DNS declared for a target in a network namespace: systemd-resolved serves the host's own namespace only,
    /// so the plan says so and sets nothing (exit 3), instead of claiming the host matches.
    @Test func dnsForANamespaceIsUncheckedNotSet() throws {
        let harness = try harness()
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.8.0.1/24"], extra: "  nameservers: {addresses: [10.8.0.53]}\n"))
        let plan = try harness.cli("plan")
        #expect(plan.status == 3, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("DNS of br0 (spec.nameservers): systemd-resolved serves the host's own network namespace, not netns \(harness.ns.name)"),
                "\(plan.stdout)")
    }
}
