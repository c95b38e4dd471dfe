import ArgumentParser
import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringReports

/// `mooring console VM`: a MicroVM's serial console, read-only, as the VMM writes it to its own directory.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Show a MicroVM's serial console (read-only); --follow keeps printing what the guest writes.",
        discussion: """
            The console is the file <run directory>/vms/VM/vmm/console.log; it starts empty at every start of the VM. \
            The guest writes it, so escape sequences and control characters are dropped before they reach your \
            terminal (they could set its clipboard, title or screen); --raw passes the bytes as they are.
            """
    )

    @Argument(help: "The MicroVM's name (metadata.name).")
    var microVM: String

    @Option(name: [.customShort("n"), .customLong("lines")], help: "How many of the last lines to show first (0: all).")
    var lines = 50

    @Flag(name: [.customShort("F"), .customLong("follow")], help: "Keep printing new output until interrupted.")
    var follow = false

    @Flag(help: "Pass the guest's bytes unchanged, escape sequences included (only for a guest you trust).")
    var raw = false

    @Option(help: "Where MicroVM consoles, VMM logs and configs go.")
    var runDirectory = "/run/mooring"

    func run() throws {
        // The name becomes a path: only a valid resource name may (no '/', no '..').
        guard ResourceName.isValid(microVM) else {
            throw ValidationError("\"\(microVM)\" is not a MicroVM name (lowercase letters, digits and '-')")
        }
        let directory = UnitSpec.vmmDirectory(of: "\(runDirectory)/vms/\(microVM)")
        let path = directory + "/" + UnitSpec.consoleName
        // The VMM writes the file: opened by descriptor, read only if it is a regular file with one link (not a
        // symlink or hard link to a file of root's).
        let handle: FileHandle
        do {
            let vmm = try DirectoryHandle.open((directory as NSString).deletingLastPathComponent)
                .subdirectory(UnitSpec.vmmDirectoryName, checked: false)
            guard let opened = try vmm.openRegularFile(UnitSpec.consoleName, untrusted: true) else {
                throw ValidationError("no console for \(microVM) at \(path): is the MicroVM declared and started (mooring status)?")
            }
            handle = opened
        } catch let error as DriverError {
            throw ValidationError("no console for \(microVM) at \(path): \(error.message); is the MicroVM declared and started (mooring status)?")
        }
        var filter = ConsoleFilter()
        func show(_ data: Data) {
            guard !data.isEmpty else { return }
            FileHandle.standardOutput.write(raw ? data : Data(filter.feed(Array(data)).utf8))
        }
        let data = handle.readDataToEndOfFile()
        var shown = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines > 0 { shown = Array(shown.suffix(lines + (data.last == UInt8(ascii: "\n") ? 1 : 0))) }
        show(Data(shown.joined(separator: [UInt8(ascii: "\n")])))
        guard follow else { return }
        // New output: the file grows; wait for it with inotify rather than polling. Watched through the open
        // descriptor, so it is the file that was checked.
        let watch = inotify_init1(Int32(IN_CLOEXEC))
        guard watch >= 0, inotify_add_watch(watch, "/proc/self/fd/\(handle.fileDescriptor)", UInt32(IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)) >= 0 else {
            throw ValidationError("cannot watch \(path): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var info = stat()
        while read(watch, &buffer, buffer.count) > 0 {
            show(handle.readDataToEndOfFile())
            // Removed (the VM stopped, or started again with a new console).
            if fstat(handle.fileDescriptor, &info) != 0 || info.st_nlink == 0 { break }
        }
    }
}
