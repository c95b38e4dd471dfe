import ArgumentParser
import Foundation
import MooringDrivers
import MooringModel

/// The ExecStop of every MicroVM unit (not for people): ask the guest to power off, wait, record the outcome.
struct StopVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop-vm",
        abstract: "Press a MicroVM's power button and wait for it to shut down (used by MicroVM units).",
        shouldDisplay: false
    )

    @Option(help: "The VMM: qemu-microvm, cloud-hypervisor or firecracker.")
    var vmm: String

    @Option(help: "The VMM's control socket (QMP or HTTP API).")
    var socket: String

    @Option(help: "Seconds to wait for the guest.")
    var timeout: Int

    @Option(help: "Where to write the outcome (JSON).")
    var record: String

    @Option(name: .customLong("user"), help: "UID:GID[:GID...]: become this user (and groups) first (units whose VMM exec-vm starts).")
    var user: String?

    func run() throws {
        // A launcher unit's commands start as root; the stop talks to the VMM's socket and writes in its directory,
        // both the VMM's, so it does so as the VMM's user.
        if let user { try MacvtapLauncher.become(try ExecVMCommand.identity(user)) }
        guard let kind = VMMKind(rawValue: vmm) else { throw ValidationError("unknown VMM \(vmm)") }
        // systemd tells ExecStop the main process it is about to stop.
        let mainPID = ProcessInfo.processInfo.environment["MAINPID"].flatMap { pid_t($0) }
        let stop = GuestShutdown.run(vmm: kind, socket: socket, timeout: Double(timeout), record: record, mainPID: mainPID)
        // The unit's log: the line says how the stop went.
        print("mooring stop-vm: \(stop.summary)")
    }
}
