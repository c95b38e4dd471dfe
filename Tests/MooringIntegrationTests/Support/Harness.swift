import Foundation
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

/// A namespace plus a manifest directory, with mooring's pipeline run in-process against them.
final class Harness: @unchecked Sendable {
    let ns: TestNamespace
    let manifests: ManifestDirectory
    /// Use the test bed's systemd user manager for MicroVM units.
    let userBus: Bool

    init(_ prefix: String = "mt", userBus: Bool = false) throws {
        ns = try TestNamespace(prefix)
        manifests = try ManifestDirectory()
        self.userBus = userBus
    }

    func reconciler() throws -> Reconciler {
        // In-process, /proc/self/exe is the test runner: units must run the real CLI for `exec-vm`.
        try Reconciler(target: ReconcileTarget(manifestDirectory: manifests.path, netns: ns.name, userBus: userBus)
            .with(mooringExecutable: TestEnvironment.mooringBinary))
    }

    /// Removes every manifest and applies: stops this harness's MicroVMs and deletes what mooring made.
    func tearDown() {
        try? manifests.removeAll()
        _ = try? apply()
    }

    func plan() throws -> Plan {
        let reconciler = try reconciler()
        return try reconciler.plan(try reconciler.load().desired).0
    }

    @discardableResult
    func apply() throws -> Reconciler.ApplyOutcome {
        let reconciler = try reconciler()
        let desired = try reconciler.load().desired
        let plan = try reconciler.plan(desired).0
        return try reconciler.apply(plan, desired: desired)
    }

    /// Runs the CLI against this harness's manifests and namespace.
    func cli(_ command: String, _ extra: [String] = [], environment: [String: String]? = nil) throws -> Shell.Output {
        try TestEnvironment.mooring([command, "-f", manifests.path, "--netns", ns.name] + (userBus ? ["--user"] : []) + extra,
                                    environment: environment)
    }
}

extension Plan {
    /// The summaries of its changes, for readable assertions.
    var summaries: [String] { changes.map(\.summary) }
}
