import ArgumentParser
import Foundation
import MooringEngine
import MooringModel

/// Options every command that looks at a host shares.
struct TargetOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifest directory (or one file).")
    var directory: String

    @Option(help: "Operate inside the network namespace /run/netns/NAME instead of the host's own.")
    var netns: String?

    @Option(help: "Keep only documents whose spec.hosts names this host (default: every document).")
    var host: String?

    @Flag(help: "Accept manifests that group or others can write (refused by default: they control root).")
    var allowInsecureManifests = false

    @Flag(help: "Talk to the caller's systemd user manager (session bus), like `systemd-run --user`.")
    var user = false

    @Option(help: "Where MicroVM consoles, VMM logs and configs go.")
    var runDirectory = "/run/mooring"

    var target: ReconcileTarget {
        var limits = ManifestReadLimits()
        limits.requireSafePermissions = !allowInsecureManifests
        return ReconcileTarget(manifestDirectory: directory, netns: netns, hostName: host, limits: limits, userBus: user,
                               runRoot: runDirectory)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Exit codes shared by plan and apply (like `terraform plan -detailed-exitcode`).
enum MooringExit {
    static let inSync: Int32 = 0
    static let error: Int32 = 1
    static let drift: Int32 = 2
    static let notConverged: Int32 = 3
}
