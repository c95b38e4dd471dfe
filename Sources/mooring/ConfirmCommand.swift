import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine

/// `mooring confirm`: tells a running `mooring apply --try` for the same target to keep its changes, and waits
/// for its answer. The trying process holds the target's operation lock, so that is where it is found; it
/// answers with a signal of its own (kept, or too late because the revert has begun).
struct ConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Keep the changes of a running `mooring apply --try` (from any shell on the host).",
        discussion: "Exit code: 0 kept, 1 nothing to confirm, or too late (the host is being put back)."
    )

    @Option(help: "The target's network namespace, as given to the apply (/run/netns/NAME).")
    var netns: String?

    @Option(help: "Seconds to wait for the trying process to answer.")
    var timeout: Double = 10

    func run() throws {
        // Before the answer can come: it must wait in the signalfd, not kill this process.
        StopSignals.block([Trial.keptReply, Trial.tooLateReply])
        let replies = try StopSignals([Trial.keptReply, Trial.tooLateReply])
        let target = netns.map { "network namespace \($0)" } ?? "this host"
        let lock = OperationLock(path: OperationLock.path(netns: netns))
        guard let pid = lock.currentHolder() else {
            Terminal.printError("error: no `mooring apply --try` is running for \(target): nothing to confirm")
            throw ExitCode(1)
        }
        let command = Self.commandLine(of: pid)
        guard command.first.map({ URL(fileURLWithPath: $0).lastPathComponent == "mooring" }) == true,
              command.contains(where: { $0 == "--try" || $0.hasPrefix("--try=") }) else {
            Terminal.printError("error: process \(pid) holds the lock for \(target) but is not `mooring apply --try` (it is `\(command.joined(separator: " "))`): nothing to confirm")
            throw ExitCode(1)
        }
        guard kill(pid, Trial.confirmSignal) == 0 else {
            Terminal.printError("error: cannot signal process \(pid): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while let reply = replies.next(timeout: max(0, deadline.timeIntervalSinceNow)) {
            guard reply.sender == pid else { continue }
            if reply.signal == Trial.keptReply {
                print("Confirmed: process \(pid) keeps the changes.")
                return
            }
            Terminal.printError("error: too late: process \(pid) is already putting the host back")
            throw ExitCode(1)
        }
        Terminal.printError("error: process \(pid) did not answer within \(Int(timeout)) s; see its output")
        throw ExitCode(1)
    }

    private static func commandLine(of pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
