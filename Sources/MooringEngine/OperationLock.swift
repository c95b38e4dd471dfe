import Foundation

/// The one lock every mutating command and the watch loop share (flock on a file under the run directory,
/// one per target namespace). `plan` never takes it. The holder writes its PID into the file so a waiter can
/// say who holds it; a holder that dies releases it with its file descriptor.
public final class OperationLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32 = -1

    public static func path(runRoot: String, netns: String?) -> String {
        netns.map { "\(runRoot)/netns-\($0).lock" } ?? "\(runRoot)/lock"
    }

    public init(path: String) { self.path = path }

    deinit { release() }

    /// Waits up to `timeout` for the lock; throws `LockBusy` naming the holder's PID when it does not come.
    public func acquire(timeout: TimeInterval) throws {
        if fd >= 0 { return }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LockError(message: "cannot open lock \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(descriptor)
                throw LockError(message: "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            if Date() >= deadline {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                close(descriptor)
                throw LockBusy(path: path, holderPID: holder.flatMap { Int32($0) }, waited: timeout)
            }
            usleep(20_000)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        fd = descriptor
        // Test hook: hold the lock this many seconds, so tests can make applies overlap on purpose.
        if let hold = ProcessInfo.processInfo.environment["MOORING_TEST_HOLD_LOCK"].flatMap(Double.init), hold > 0 {
            usleep(useconds_t(min(hold, 60) * 1_000_000))
        }
    }

    /// The PID holding the lock right now, read from /proc/locks (without touching the lock), or nil.
    public func currentHolder() -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        let inode = UInt64(info.st_ino)
        for line in table.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 4242 00:1a:123456 0 EOF"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            if let last = fields[5].split(separator: ":").last, UInt64(last) == inode, pid != getpid() { return pid }
        }
        return nil
    }

    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
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
        return "\(holder) holds \(path) (another apply or `mooring run`); gave up after \(Int(waited)) s (--lock-timeout)"
    }
}

public struct LockError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
