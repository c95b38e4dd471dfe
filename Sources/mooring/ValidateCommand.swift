import ArgumentParser
import MooringModel

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest directory without touching the host (no root needed)."
    )

    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifest directory (or one file).",
            completion: .directory)
    var directories: [String] = []

    @Option(help: "Validate what this host would apply (spec.hosts); default: every document, for every host.")
    var host: String?

    @Option(name: .customLong("host-label"), help: "KEY=VALUE labels of that host, for spec.hostSelector.")
    var hostLabels: [String] = []

    func validate() throws {
        if directories.count != 1 {
            throw ValidationError(directories.isEmpty ? "Missing expected argument '-f <manifest directory>'"
                                  : "-f was given \(directories.count) times: give one manifest directory")
        }
    }

    mutating func run() throws {
        let directory = directories[0]
        var labels: [String: String] = [:]
        for label in hostLabels {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            labels[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        let result = ManifestSet.load(directory: directory, hostName: host, hostLabels: labels)
        for diagnostic in result.diagnostics { print(diagnostic) }
        guard let desired = result.desired else {
            print("\(result.errors.count) error(s); nothing was changed")
            throw ExitCode(1)
        }
        _ = desired
        let counts = result.countsByKind.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        let warnings = result.warnings.isEmpty ? "" : ", \(result.warnings.count) warning(s)"
        if let host, let selected = result.documentsForHost {
            print("ok: \(result.documentsRead) documents read, \(selected) for host \(host) (\(counts.isEmpty ? "none" : counts))\(warnings)")
        } else {
            print("ok: \(result.documentsRead) documents (\(counts.isEmpty ? "none" : counts))\(warnings)")
        }
    }
}
