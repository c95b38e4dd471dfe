import Foundation

/// The one lock every mutating command and the watch loop share: an flock on the target's network namespace
/// itself (its nsfs file, /run/netns/NAME, or /proc/self/ns/net for the host's). So there is one lock per target
/// whatever --run-directory says, and nothing is left behind: the lock lives and dies with the namespace, where
/// lock files under the run directory piled up one per namespace forever. `plan` never takes it. The holder is
/// found in /proc/locks by the namespace's inode; a holder that dies releases it with its file descriptor.
public final class OperationLock: @unchecked Sendable {
    /// The namespace file that is locked.
    public let path: String
    private var fd: Int32 = -1

    public static func path(netns: String?) -> String {
        netns.map { "/run/netns/\($0)" } ?? "/proc/self/ns/net"
    }

    public init(path: String) { self.path = path }

    deinit { release() }

    /// Waits up to `timeout` for the lock; throws `LockBusy` naming the holder's PID when it does not come.
    public func acquire(timeout: TimeInterval) throws {
        if fd >= 0 { return }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LockError(message: "cannot open \(path) to lock it: \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(descriptor)
                throw LockError(message: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            if Date() >= deadline {
                let holder = currentHolder()
                close(descriptor)
                throw LockBusy(path: path, holderPID: holder, waited: timeout)
            }
            usleep(20_000)
        }
        fd = descriptor
        #if MOORING_TEST_HOOKS
        // Test hook: hold the lock this many seconds, so tests can make applies overlap on purpose.
        if let hold = ProcessInfo.processInfo.environment["MOORING_TEST_HOLD_LOCK"].flatMap(Double.init), hold > 0 {
            usleep(useconds_t(min(hold, 60) * 1_000_000))
        }
        #endif
    }

    /// The PID holding the lock right now, read from /proc/locks (without touching the lock), or nil.
    public func currentHolder() -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        let inode = UInt64(info.st_ino)
        for line in table.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 4242 00:04:4026532178 0 EOF" (device 00:04 is nsfs)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            if let last = fields[5].split(separator: ":").last, UInt64(last) == inode, pid != getpid() { return pid }
        }
        return nil
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }
}

public struct LockBusy: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var holderPID: Int32?
    public var waited: TimeInterval

    public var description: String {
        let holder = holderPID.map { "process \($0)" } ?? "another mooring process"
        return "\(holder) holds the lock on \(path) (another apply or `mooring run` for this target); gave up after \(Int(waited)) s (--lock-timeout)"
    }
}

public struct LockError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
