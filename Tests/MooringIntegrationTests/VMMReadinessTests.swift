import Foundation
@testable import MooringDrivers
import MooringPlan
import Testing

/// `apply` counts a QEMU unit as started once QMP says the guest runs. This speaks QMP from a real Unix socket
/// the way QEMU does (a greeting, then one `return` per command, events in between); real QEMU is
/// `MicroVMTests`' part.
@Suite struct VMMReadinessTests {
    /// Listens on a fresh socket path and answers one connection: greeting, an event, then `status` to
    /// `query-status`.
    final class FakeQMP: @unchecked Sendable {
        let path: String
        private let listener: Int32

        init(status: String, running: Bool) throws {
            let path = NSTemporaryDirectory() + "qmp-\(UUID().uuidString.prefix(8)).sock"
            let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            self.path = path
            self.listener = listener
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (offset, byte) in path.utf8.enumerated() { buffer[offset] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(listener, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
            Thread.detachNewThread {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                defer { close(client) }
                func say(_ line: String) { _ = line.utf8CString.withUnsafeBufferPointer { send(client, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) } }
                say(#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}"# + "\n")
                var pending = ""
                var buffer = [UInt8](repeating: 0, count: 1024)
                while true {
                    let count = recv(client, &buffer, buffer.count, 0)
                    guard count > 0 else { return }
                    pending += String(decoding: buffer.prefix(count), as: UTF8.self)
                    while let newline = pending.firstIndex(of: "\n") {
                        let line = pending[..<newline]
                        pending = String(pending[pending.index(after: newline)...])
                        if line.contains("qmp_capabilities") { say("{\"return\": {}}\n") }
                        if line.contains("query-status") {
                            say(#"{"event": "RESUME", "data": {}}"# + "\n")
                            say("{\"return\": {\"status\": \"\(status)\", \"singlestep\": false, \"running\": \(running)}}\n")
                        }
                    }
                }
            }
        }

        deinit { close(listener); unlink(path) }
    }

    @Test func aRunningGuestIsReady() throws {
        let qmp = try FakeQMP(status: "running", running: true)
        #expect(VMMReadiness.isRunning(.qmpRunning(socket: qmp.path)))
    }

    @Test func aPausedOrMissingVMMIsNotReadyYet() throws {
        let paused = try FakeQMP(status: "prelaunch", running: false)
        #expect(!VMMReadiness.isRunning(.qmpRunning(socket: paused.path)))
        #expect(!VMMReadiness.isRunning(.qmpRunning(socket: NSTemporaryDirectory() + "nobody-listens.sock")))
        #expect(!VMMReadiness.isRunning(.staysUp))
    }
}
