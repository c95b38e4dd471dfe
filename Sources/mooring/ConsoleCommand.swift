import ArgumentParser
import Foundation
import MooringModel

/// `mooring console VM`: a MicroVM's serial console, read-only, as the VMM writes it to the VM's run directory.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Show a MicroVM's serial console (read-only); --follow keeps printing what the guest writes.",
        discussion: "The console is the file <run directory>/vms/VM/console.log; it starts empty at every start of the VM."
    )

    @Argument(help: "The MicroVM's name (metadata.name).")
    var microVM: String

    @Option(name: [.customShort("n"), .customLong("lines")], help: "How many of the last lines to show first (0: all).")
    var lines = 50

    @Flag(name: [.customShort("F"), .customLong("follow")], help: "Keep printing new output until interrupted.")
    var follow = false

    @Option(help: "Where MicroVM consoles, VMM logs and configs go.")
    var runDirectory = "/run/mooring"

    func run() throws {
        // The name becomes a path: only a valid resource name may (no '/', no '..').
        guard ResourceName.isValid(microVM) else {
            throw ValidationError("\"\(microVM)\" is not a MicroVM name (lowercase letters, digits and '-')")
        }
        let path = "\(runDirectory)/vms/\(microVM)/console.log"
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("no console for \(microVM) at \(path): is the MicroVM declared and started (mooring status)?")
        }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var shown = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines > 0 { shown = Array(shown.suffix(lines + (text.hasSuffix("\n") ? 1 : 0))) }
        FileHandle.standardOutput.write(Data(shown.joined(separator: "\n").utf8))
        guard follow else { return }
        // New output: the file grows; wait for it with inotify rather than polling.
        let watch = inotify_init1(Int32(IN_CLOEXEC))
        guard watch >= 0, inotify_add_watch(watch, path, UInt32(IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)) >= 0 else {
            throw ValidationError("cannot watch \(path): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(watch, &buffer, buffer.count) > 0 {
            let data = handle.readDataToEndOfFile()
            if !data.isEmpty { FileHandle.standardOutput.write(data) }
            if !FileManager.default.fileExists(atPath: path) { break }
        }
    }
}
