import CNetlink
import Foundation

/// `mooring exec-vm`: hands macvtap devices to a VMM as open file descriptors, then becomes the VMM.
///
/// A macvtap's character device number is only published in sysfs, and /sys shows the network namespace of
/// whoever mounted it; no udev runs in a namespace and /dev/tapN is named by a per-namespace index. So this
/// enters a private mount namespace, mounts a fresh sysfs (which shows the unit's own namespace), makes its
/// own device node, opens it and removes it again.
public enum MacvtapLauncher {
    /// - Parameter identity: the VMM's user and groups (primary first): the launcher switches to them after
    ///   opening the devices, so the VMM itself runs without root and without capabilities.
    public static func run(devices: [(fd: Int32, name: String)], argv: [String], becoming identity: (uid: UInt32, gids: [UInt32])?) -> Never {
        do {
            guard !argv.isEmpty, argv[0].hasPrefix("/") else { throw DriverError("exec-vm: the VMM path must be absolute") }
            guard unshare(0x0002_0000 /* CLONE_NEWNS */) == 0 else {
                throw DriverError("exec-vm: cannot make a private mount namespace: \(String(cString: strerror(errno)))")
            }
            // Keep our mounts to ourselves, then replace /sys with one showing this network namespace.
            guard mount("none", "/", nil, UInt(MS_REC | MS_SLAVE), nil) == 0 else {
                throw DriverError("exec-vm: cannot make mounts private: \(String(cString: strerror(errno)))")
            }
            _ = umount2("/sys", Int32(MNT_DETACH))
            guard mount("sysfs", "/sys", "sysfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil) == 0 else {
                throw DriverError("exec-vm: cannot mount sysfs: \(String(cString: strerror(errno)))")
            }
            for device in devices {
                let descriptor = try open(macvtap: device.name)
                if descriptor != device.fd {
                    guard dup2(descriptor, device.fd) == device.fd else {
                        throw DriverError("exec-vm: cannot move \(device.name) to fd \(device.fd): \(String(cString: strerror(errno)))")
                    }
                    close(descriptor)
                }
                // The VMM inherits it: clear close-on-exec.
                _ = fcntl(device.fd, F_SETFD, 0)
            }
            if let identity { try become(identity) }
            var pointers: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            execv(argv[0], &pointers)
            throw DriverError("exec-vm: cannot execute \(argv[0]): \(String(cString: strerror(errno)))")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        }
    }

    /// Groups, then group, then user: once the user is not root the kernel clears every capability.
    public static func become(_ identity: (uid: UInt32, gids: [UInt32])) throws {
        var groups = identity.gids.map { gid_t($0) }
        guard setgroups(groups.count, &groups) == 0, setgid(groups[0]) == 0, setuid(identity.uid) == 0 else {
            throw DriverError("exec-vm: cannot become uid \(identity.uid): \(String(cString: strerror(errno)))")
        }
        guard getuid() == identity.uid, geteuid() == identity.uid, setuid(0) != 0 else {
            throw DriverError("exec-vm: the switch to uid \(identity.uid) did not hold")
        }
    }

    static func open(macvtap name: String) throws -> Int32 {
        let directory = "/sys/class/net/\(name)/macvtap"
        guard let entry = try? FileManager.default.contentsOfDirectory(atPath: directory).first(where: { $0.hasPrefix("tap") }),
              let numbers = try? String(contentsOfFile: "\(directory)/\(entry)/dev", encoding: .utf8) else {
            throw DriverError("exec-vm: \(name) is not a macvtap device in this network namespace")
        }
        let parts = numbers.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { UInt32($0) }
        guard parts.count == 2 else { throw DriverError("exec-vm: cannot read the device number of \(name)") }
        let node = "/dev/mooring-\(getpid())-\(name)"
        unlink(node)
        guard mknod(node, S_IFCHR | 0o600, mooring_makedev(parts[0], parts[1])) == 0 else {
            throw DriverError("exec-vm: cannot create a device node for \(name): \(String(cString: strerror(errno)))")
        }
        defer { unlink(node) }
        let descriptor = Glibc.open(node, O_RDWR)
        guard descriptor >= 0 else { throw DriverError("exec-vm: cannot open \(name): \(String(cString: strerror(errno)))") }
        return descriptor
    }
}
