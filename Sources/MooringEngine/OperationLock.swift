import Foundation
import MooringDrivers

/// The one lock every mutating command and the watch loop share, one per target network namespace whatever
/// --run-directory says: an flock on `/run/mooring/locks/net-<inode>`, the namespace's own inode (the same for
/// `/run/netns/NAME` and `/proc/self/ns/net` when they are one namespace).
///
/// The file is root's, mode 0600, in a directory only root can write, opened by descriptor: no other user can
/// open it, so none can hold it. (It used to be an flock on the namespace file itself, which any user can open
/// read-only: `nobody` holding it stalled every apply, the host's own included.) The holder removes the file as
/// it releases it, so none pile up; a taker checks after locking that the name still leads to the file it
/// locked, and starts again when the holder removed it meanwhile. `plan` never takes it: the holder is found in
/// /proc/locks by the file's device and inode; a holder that dies releases it with its descriptor.
public final class OperationLock: @unchecked Sendable {
    /// The namespace the lock is for.
    public let namespacePath: String
    public let directory: String
    private var fd: Int32 = -1
    private var held: (directory: DirectoryHandle, name: String)?

    public static let defaultDirectory = "/run/mooring/locks"

    public static func path(netns: String?) -> String {
        netns.map { "/run/netns/\($0)" } ?? "/proc/self/ns/net"
    }

    public init(path: String, directory: String = OperationLock.defaultDirectory) {
        namespacePath = path
        self.directory = directory
    }

    deinit { release() }

    /// The lock file's name: the namespace's inode.
    func name() throws -> String {
        var info = stat()
        guard stat(namespacePath, &info) == 0 else {
            throw LockError(message: "cannot find the network namespace \(namespacePath): \(String(cString: strerror(errno)))")
        }
        return "net-\(info.st_ino)"
    }

    /// For messages: the file this lock takes.
    public var path: String { ((try? name()).map { directory + "/" + $0 }) ?? directory }

    /// Waits up to `timeout` for the lock; throws `LockBusy` naming the holder's PID when it does not come.
    public func acquire(timeout: TimeInterval) throws {
        if fd >= 0 { return }
        let name = try name()
        let locks: DirectoryHandle
        do {
            // The directories above are made searchable by all (the run root holds the VMs' run directories, which
            // their VMMs must pass through); only the lock directory itself is root's alone.
            let parent = try DirectoryHandle.open((directory as NSString).deletingLastPathComponent, createMode: 0o755)
            let mode = try parent.status().st_mode & 0o7777
            if mode & 0o055 != 0o055 { try parent.own(user: geteuid(), group: getegid(), mode: mode | 0o055) }
            locks = try parent.subdirectory((directory as NSString).lastPathComponent, createMode: 0o700)
            try locks.checkPrivate()
        } catch let error as DriverError {
            throw LockError(message: "cannot use the lock directory: \(error.message)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let descriptor = openat(locks.descriptor, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0o600)
            guard descriptor >= 0 else {
                throw LockError(message: "cannot open \(directory)/\(name) to lock it: \(String(cString: strerror(errno)))")
            }
            var opened = stat()
            guard fstat(descriptor, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG, opened.st_uid == geteuid() else {
                close(descriptor)
                throw LockError(message: "refusing the lock file \(directory)/\(name): not a regular file of this user's")
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                // The holder before us removes the file as it lets go: ours must still be the one the name leads to.
                var current = stat()
                if fstatat(locks.descriptor, name, &current, AT_SYMLINK_NOFOLLOW) == 0, current.st_ino == opened.st_ino,
                   current.st_dev == opened.st_dev {
                    fd = descriptor
                    held = (locks, name)
                    break
                }
                close(descriptor)
                continue
            }
            let failure = errno
            close(descriptor)
            guard failure == EWOULDBLOCK || failure == EINTR else {
                throw LockError(message: "cannot lock \(directory)/\(name): \(String(cString: strerror(failure)))")
            }
            if Date() >= deadline {
                throw LockBusy(path: "\(directory)/\(name)", holderPID: currentHolder(), waited: timeout)
            }
            usleep(20_000)
        }
        #if MOORING_TEST_HOOKS
        // Test hook: hold the lock this many seconds, so tests can make applies overlap on purpose.
        if let hold = ProcessInfo.processInfo.environment["MOORING_TEST_HOLD_LOCK"].flatMap(Double.init), hold > 0 {
            usleep(useconds_t(min(hold, 60) * 1_000_000))
        }
        #endif
    }

    /// The PID holding the lock right now, read from /proc/locks (without touching the lock), or nil.
    public func currentHolder() -> Int32? {
        guard let name = try? name(), let locks = try? DirectoryHandle.open(directory) else { return nil }
        var info = stat()
        guard fstatat(locks.descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0,
              let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        // /proc/locks names a file as MAJOR:MINOR:INODE, the device numbers in hex.
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        let key = String(format: "%02llx:%02llx:%llu", major, minor, UInt64(info.st_ino))
        for line in table.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 4242 00:19:1234 0 EOF"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            if fields[5] == key, pid != getpid() { return pid }
        }
        return nil
    }

    public func release() {
        guard fd >= 0 else { return }
        if let held { unlinkat(held.directory.descriptor, held.name, 0) }
        held = nil
        close(fd)
        fd = -1
    }
}

extension DirectoryHandle {
    /// Only its owner may enter or write it: the lock directory.
    func checkPrivate() throws {
        let info = try status()
        guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw DriverError("\(path) must be this user's own, mode 0700 (it is uid \(info.st_uid), mode "
                              + "\(String(info.st_mode & 0o7777, radix: 8))); remove it and let mooring make it again")
        }
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
