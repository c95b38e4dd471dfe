import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringReports

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this host for what would fight mooring or stop it, and say how to fix each finding.",
        discussion: "Exit code: 0 nothing blocks mooring, 1 an error-level finding."
    )

    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifests, to check what they need (optional).",
            completion: .directory)
    var directory: String?

    @Option(help: "Check inside /run/netns/NAME.")
    var netns: String?

    @Flag(help: "Check the caller's systemd user manager instead of the system manager.")
    var user = false

    @OptionGroup var display: DisplayOptions

    func run() throws {
        try runCommand(display, command: "doctor", payloadKeys: ["findings"]) {
            let drivers = try HostDrivers(netns: netns, userBus: user)
            var desired: DesiredState?
            var diagnostics: [Diagnostic] = []
            if let directory {
                let loaded = ManifestSet.load(directory: directory)
                desired = loaded.desired
                diagnostics = loaded.diagnostics
                if loaded.desired == nil { Terminal.printError("the manifests have errors; checking the host without them") }
            }
            let findings = HostDoctor(drivers: drivers, desired: desired).run()
            switch display.output {
            case .json:
                print(JSONRenderer.render(JSONEnvelope.document(command: "doctor", payload: [("findings", .array(findings.map(\.json)))],
                                                                diagnostics: diagnostics)), terminator: "")
            case .text:
                for finding in findings {
                    print("\(Self.mark(finding.level, display.stdout)) \(finding.check): \(finding.message)")
                    if let fix = finding.fix, finding.level != .ok { print("    fix: \(fix)") }
                }
            }
            return findings.contains { $0.level == .error } ? MooringExit.error : MooringExit.inSync
        }
    }

    static func mark(_ level: HostDoctor.Finding.Level, _ style: TextStyle) -> String {
        switch level {
        case .ok: return style.green("ok     ")
        case .info: return style.cyan("info   ")
        case .warning: return style.yellow("warning")
        case .error: return style.red("error  ")
        }
    }
}
