import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this host for what would fight mooring or stop it, and say how to fix each finding.",
        discussion: "Exit code: 0 nothing blocks mooring, 1 an error-level finding."
    )

    @Option(name: [.customShort("f"), .customLong("manifests")], help: "The manifests, to check what they need (optional).")
    var directory: String?

    @Option(help: "Check inside /run/netns/NAME.")
    var netns: String?

    @Flag(help: "Check the caller's systemd user manager instead of the system manager.")
    var user = false

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        try runCommand {
            let drivers = try HostDrivers(netns: netns, userBus: user)
            var desired: DesiredState?
            if let directory {
                let loaded = ManifestSet.load(directory: directory)
                desired = loaded.desired
                if loaded.desired == nil { Terminal.printError("the manifests have errors; checking the host without them") }
            }
            let findings = HostDoctor(drivers: drivers, desired: desired).run()
            switch output {
            case .json:
                print(JSONRenderer.render(.array(findings.map(\.json))), terminator: "")
            case .text:
                let color = Terminal.stdoutIsTerminal
                for finding in findings {
                    let (mark, code) = Self.mark(finding.level)
                    let sign = color ? "\u{1b}[\(code)m\(mark)\u{1b}[0m" : mark
                    print("\(sign) \(finding.check): \(finding.message)")
                    if let fix = finding.fix, finding.level != .ok { print("    fix: \(fix)") }
                }
            }
            return findings.contains { $0.level == .error } ? MooringExit.error : MooringExit.inSync
        }
    }

    static func mark(_ level: HostDoctor.Finding.Level) -> (String, String) {
        switch level {
        case .ok: return ("ok     ", "32")
        case .info: return ("info   ", "36")
        case .warning: return ("warning", "33")
        case .error: return ("error  ", "31")
        }
    }
}
