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
        // Only root's own mooring is signalled: the lock is root's, but the PID in /proc/locks could be reused by
        // the time it is read, and a command line is whatever a process says it is.
        guard Self.isRootsMooring(pid) else {
            Terminal.printError("error: process \(pid) holds the lock for \(target) but is not root's mooring: nothing to confirm")
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

    /// The process runs as root (real and effective) and executes the same mooring as this one, or a mooring
    /// binary replaced since it started (an upgrade: `/proc/PID/exe` then ends in " (deleted)").
    static func isRootsMooring(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let uids = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
              uids.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().allSatisfy({ $0 == "0" }) else { return false }
        var theirs = stat(), ours = stat()
        if stat("/proc/\(pid)/exe", &theirs) == 0, stat("/proc/self/exe", &ours) == 0,
           theirs.st_dev == ours.st_dev, theirs.st_ino == ours.st_ino { return true }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return false }
        let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let name = URL(fileURLWithPath: executable.replacingOccurrences(of: " (deleted)", with: "")).lastPathComponent
        return name == "mooring"
    }

    private static func commandLine(of pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
