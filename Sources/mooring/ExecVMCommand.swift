import ArgumentParser
import MooringDrivers

/// The entry point a MicroVM unit runs when it has macvtap interfaces (not for people).
struct ExecVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-vm",
        abstract: "Open macvtap devices as file descriptors and exec the VMM (used by MicroVM units).",
        shouldDisplay: false
    )

    @Option(name: .customLong("device"), help: "FD=NAME: open macvtap NAME as file descriptor FD.")
    var devices: [String] = []

    @Option(name: .customLong("user"), help: "UID:GID[:GID...]: become this user (and groups) after opening the devices.")
    var user: String?

    @Argument(parsing: .captureForPassthrough, help: "The VMM command line.")
    var command: [String] = []

    func run() throws {
        var opened: [(fd: Int32, name: String)] = []
        for device in devices {
            let parts = device.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let fd = Int32(parts[0]), fd >= 3 else {
                throw ValidationError("--device wants FD=NAME with FD >= 3, got \(device)")
            }
            opened.append((fd, String(parts[1])))
        }
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        MacvtapLauncher.run(devices: opened, argv: argv, becoming: try user.map(Self.identity))
    }

    /// `UID:GID[:GID...]` as `--user` takes it.
    static func identity(_ user: String) throws -> (uid: UInt32, gids: [UInt32]) {
        let numbers = user.split(separator: ":").compactMap { UInt32($0) }
        guard numbers.count >= 2, numbers.count == user.split(separator: ":").count else {
            throw ValidationError("--user wants UID:GID[:GID...], got \(user)")
        }
        return (numbers[0], Array(numbers.dropFirst()))
    }
}
