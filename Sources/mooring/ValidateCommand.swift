import ArgumentParser
import MooringModel

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest directory without touching the host (no root needed)."
    )

    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifest directory (or one file).")
    var directory: String

    mutating func run() throws {
        let result = ManifestSet.load(directory: directory)
        for diagnostic in result.diagnostics { print(diagnostic) }
        guard let desired = result.desired else {
            print("\(result.errors.count) error(s); nothing was changed")
            throw ExitCode(1)
        }
        let counts = desired.countsByKind.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        let warnings = result.warnings.isEmpty ? "" : ", \(result.warnings.count) warning(s)"
        print("ok: \(desired.documentCount) documents (\(counts.isEmpty ? "none" : counts))\(warnings)")
    }
}
