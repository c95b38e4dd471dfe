import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringReports

/// Options every command that looks at a host shares.
struct TargetOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifest directory (or one file).",
            completion: .directory)
    var directories: [String] = []

    /// The one manifest path (`validate` refuses none, or more than one: a second -f must not silently win).
    var directory: String { directories.first ?? "" }

    @Option(help: "Operate inside the network namespace /run/netns/NAME instead of the host's own.")
    var netns: String?

    @Option(help: "This host's name for spec.hosts (default: the machine's hostname).")
    var host: String?

    @Option(name: .customLong("host-label"), help: "KEY=VALUE: a label of this host, for spec.hostSelector (repeatable).")
    var hostLabels: [String] = []

    @Flag(help: "Accept manifests that group or others can write (refused by default: they control root).")
    var allowInsecureManifests = false

    @Flag(help: "Talk to the caller's systemd user manager (session bus), like `systemd-run --user`.")
    var user = false

    @Option(help: "Where MicroVM consoles, VMM logs and configs go.")
    var runDirectory = "/run/mooring"

    var target: ReconcileTarget {
        var limits = ManifestReadLimits()
        limits.requireSafePermissions = !allowInsecureManifests
        var target = ReconcileTarget(manifestDirectory: directory, netns: netns, hostName: host ?? Self.machineHostName(),
                                     limits: limits, userBus: user, runRoot: runDirectory)
        target.explicitHost = host
        for label in hostLabels {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            target.hostLabels[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        return target
    }

    static func machineHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }

    func validate() throws {
        if directories.isEmpty { throw ValidationError("Missing expected argument '-f <manifest directory>'") }
        if directories.count > 1 {
            throw ValidationError("-f was given \(directories.count) times (\(directories.joined(separator: ", "))): "
                                  + "give one manifest directory; put the files in one directory to apply them together")
        }
        for label in hostLabels where !label.contains("=") {
            throw ValidationError("--host-label wants KEY=VALUE, got \(label)")
        }
    }
}

/// Options of the commands that change the host.
struct MutationOptions: ParsableArguments {
    @Option(help: "Seconds to wait for another apply or `mooring run` to release the lock.")
    var lockTimeout: Double = 60

    @Flag(help: "Allow a change that deletes everything mooring owns here (an empty or unselected manifest set).")
    var allowEmpty = false

    @Flag(help: "Allow a change that deletes a large share of what mooring owns here: all of it while the manifests declare other things (a host switched to a new manifest tree), or more than --max-drop.")
    var allowLargeDrop = false

    /// The guard policy these options and a `--max-drop` give (GuardPolicy).
    func guards(maxDrop: Double?) -> GuardPolicy {
        GuardPolicy(allowEmpty: allowEmpty, allowLargeDrop: allowLargeDrop, maxDropPercent: maxDrop.flatMap { $0 >= 100 ? nil : $0 })
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
    /// `apply --try`: applied, then put back (no confirmation, a failed probe, or a failed apply).
    static let reverted: Int32 = 4
}
