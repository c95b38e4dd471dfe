import ArgumentParser
import MooringDrivers
import MooringModel
import MooringReports

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

    @OptionGroup var display: DisplayOptions

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
        // Findings go to stderr, like every other command's; stdout has the verdict (or the JSON document).
        for diagnostic in result.diagnostics { Terminal.printError(DiagnosticText.render(diagnostic, style: display.stderr)) }
        let counts = result.countsByKind.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        let warnings = result.warnings.isEmpty ? "" : ", \(result.warnings.count) warning(s)"
        let verdict: String
        if result.desired == nil {
            verdict = "\(result.errors.count) error(s)\(warnings)"
        } else if let host, let selected = result.documentsForHost {
            verdict = "ok: \(result.documentsRead) documents read, \(selected) for host \(host) (\(counts.isEmpty ? "none" : counts))\(warnings)"
        } else {
            verdict = "ok: \(result.documentsRead) documents (\(counts.isEmpty ? "none" : counts))\(warnings)"
        }
        switch display.output {
        case .json:
            let document = JSONEnvelope.document(command: "validate", payload: [
                ("valid", .bool(result.desired != nil)),
                ("documentsRead", JSONValue(result.documentsRead)),
                ("host", JSONValue(host)),
                ("documentsForHost", JSONValue(result.documentsForHost)),
                ("kinds", .object(result.countsByKind.map { ($0.0.rawValue, JSONValue($0.1)) })),
            ], diagnostics: result.diagnostics, error: result.desired == nil ? verdict : nil)
            print(JSONRenderer.render(document), terminator: "")
        case .text:
            if result.desired == nil { Terminal.printError(verdict) } else { print(verdict) }
        }
        if result.desired == nil { throw ExitCode(1) }
    }
}
