import Foundation
import MooringModel

/// `mooring stop-vm`, the ExecStop of every MicroVM unit: presses the guest's power button through the VMM's
/// control socket and waits until the VMM exits, at most `timeout`. Whatever is left afterwards systemd
/// terminates (SIGTERM, then SIGKILL). The outcome goes to `record` for apply to report.
///
/// QEMU: QMP `system_powerdown` (the microvm machine's ACPI GED raises a power button event), then the QMP
/// connection's end is the VMM's exit. cloud-hypervisor: `PUT /api/v1/vm.power-button`; firecracker:
/// `PUT /actions {"action_type":"SendCtrlAltDel"}`; for both the exit of `MAINPID` is awaited.
public enum GuestShutdown {
    public static func run(vmm: VMMKind, socket: String, timeout: Double, record: String, mainPID: pid_t?) -> GuestStop {
        let started = Date()
        var result: GuestStop
        do {
            let connection = try UnixConnection(path: socket)
            defer { connection.close() }
            switch vmm {
            case .qemuMicrovm:
                try connection.qmp("qmp_capabilities")
                try connection.qmp("system_powerdown")
                let exited = connection.waitForClose(until: started.addingTimeInterval(timeout))
                result = outcome(exited: exited, since: started, timeout: timeout)
            case .cloudHypervisor, .firecracker:
                let (path, body) = vmm == .cloudHypervisor ? ("/api/v1/vm.power-button", "")
                    : ("/actions", #"{"action_type":"SendCtrlAltDel"}"#)
                try connection.httpPut(path, body: body)
                connection.close()
                let exited = waitForExit(mainPID, socket: socket, until: started.addingTimeInterval(timeout))
                result = outcome(exited: exited, since: started, timeout: timeout)
            case .none:
                result = GuestStop(outcome: .forced, seconds: 0, detail: "no VMM of mooring's to ask")
            }
        } catch let error as UnixConnection.Refused {
            result = GuestStop(outcome: .notRunning, seconds: 0, detail: error.message)
        } catch {
            result = GuestStop(outcome: .forced, seconds: Date().timeIntervalSince(started),
                               detail: "the guest could not be asked to shut down (\(error)); systemd terminated the VMM")
        }
        if let data = try? JSONEncoder().encode(result) { writeRecord(data, to: record) }
        return result
    }

    /// The record goes into the VMM's own directory by descriptor: a fresh temporary renamed into place, never
    /// through a symlink the VMM left there.
    static func writeRecord(_ data: Data, to path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        guard let handle = try? DirectoryHandle.open(directory) else { return }
        try? handle.replaceFile((path as NSString).lastPathComponent, contents: Array(data), mode: 0o600)
    }

    static func outcome(exited: Bool, since started: Date, timeout: Double) -> GuestStop {
        let seconds = Date().timeIntervalSince(started)
        return exited ? GuestStop(outcome: .clean, seconds: seconds, detail: "powered off after the power button")
            : GuestStop(outcome: .forced, seconds: seconds,
                        detail: "the guest did not power off within \(Int(timeout)) s of the power button; systemd terminated the VMM")
    }

    /// Waits for the VMM's process to end (ESRCH), or, without its PID, for its socket to stop answering.
    static func waitForExit(_ pid: pid_t?, socket: String, until deadline: Date) -> Bool {
        while Date() < deadline {
            if let pid, pid > 0 {
                if kill(pid, 0) != 0 && errno == ESRCH { return true }
            } else if (try? UnixConnection(path: socket)) == nil {
                return true
            }
            usleep(50_000)
        }
        return false
    }
}

/// A connected AF_UNIX stream socket with line and HTTP helpers: just what the three control APIs need.
final class UnixConnection {
    struct Refused: Error { var message: String }
    private var fd: Int32

    init(path: String) throws {
        // The socket is in the VMM's own directory: a symlink there (to another service's socket) is not followed.
        // What is left is the moment between this check and the connect; what connects is root's readiness probe
        // or the VMM's own user (stop-vm), and what it sends is a QMP or API request.
        var info = stat()
        if lstat(path, &info) != 0 {
            fd = -1
            throw Refused(message: "nothing listens on \(path) (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            fd = -1
            throw Refused(message: "\(path) is not a socket (a symlink or another file is never followed)")
        }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DriverError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw DriverError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (offset, byte) in bytes.enumerated() { buffer[offset] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            let code = errno
            Glibc.close(fd)
            fd = -1
            if code == ECONNREFUSED || code == ENOENT {
                throw Refused(message: "nothing listens on \(path) (\(String(cString: strerror(code))))")
            }
            throw DriverError("connect \(path): \(String(cString: strerror(code)))")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    private var buffered = Data()

    /// One line, waiting until `deadline` (5 s from now by default); nil at the end of the stream.
    func readLine(until deadline: Date = Date().addingTimeInterval(5)) throws -> String? {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = buffered[buffered.startIndex..<newline]
                buffered.removeSubrange(buffered.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            guard wait(until: deadline) else { throw DriverError("the VMM did not answer in time") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffered.append(contentsOf: chunk.prefix(count))
        }
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw DriverError("send: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(sent)
        }
    }

    /// A QMP command; waits for its `return` line, which it returns (the greeting and events that come first
    /// are skipped).
    @discardableResult
    func qmp(_ command: String, until deadline: Date = Date().addingTimeInterval(5)) throws -> String {
        try send(#"{"execute":"\#(command)"}"# + "\n")
        while let line = try readLine(until: deadline) {
            if line.contains("\"return\"") { return line }
            if line.contains("\"error\"") { throw DriverError("QMP \(command): \(line)") }
        }
        throw DriverError("QMP \(command): the VMM closed the connection")
    }

    /// An HTTP/1.1 PUT; throws unless the status is 2xx.
    func httpPut(_ path: String, body: String) throws {
        try send("PUT \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        guard let status = try readLine() else { throw DriverError("PUT \(path): no answer") }
        let code = status.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        guard (200..<300).contains(code) else { throw DriverError("PUT \(path): \(status.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }

    /// Whether the peer closed the connection before the deadline (QEMU closes QMP when it exits).
    func waitForClose(until deadline: Date) -> Bool {
        while wait(until: deadline) {
            var chunk = [UInt8](repeating: 0, count: 4096)
            if recv(fd, &chunk, chunk.count, 0) <= 0 { return true }
        }
        return false
    }

    /// Whether data (or the end) is ready before the deadline.
    private func wait(until deadline: Date) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            let ready = poll(&poller, 1, remaining)
            if ready > 0 { return true }
            if ready == 0 || errno != EINTR { return false }
        }
    }
}
