import Foundation
import MooringEngine
import MooringModel
import MooringPlanner

/// A namespace plus a manifest directory, with mooring's pipeline run in-process against them.
final class Harness: @unchecked Sendable {
    let ns: TestNamespace
    let manifests: ManifestDirectory

    init(_ prefix: String = "mt") throws {
        ns = try TestNamespace(prefix)
        manifests = try ManifestDirectory()
    }

    func reconciler() throws -> Reconciler {
        try Reconciler(target: ReconcileTarget(manifestDirectory: manifests.path, netns: ns.name))
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
        try TestEnvironment.mooring([command, "-f", manifests.path, "--netns", ns.name] + extra, environment: environment)
    }
}

extension Plan {
    /// The summaries of its changes, for readable assertions.
    var summaries: [String] { changes.map(\.summary) }
}
