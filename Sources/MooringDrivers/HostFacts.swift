import Foundation
import MooringModel
import MooringPlan

/// Facts about the host the planner needs for MicroVMs: programs, files, KVM.
public enum HostFacts {
    static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The VMM programs found on PATH (and the usual directories), by name.
    public static func executables() -> [String: String] {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        var found: [String: String] = [:]
        // The VMMs, and dnsmasq for the bridges' DHCP and router advertisements.
        for program in VMMKind.allCases.compactMap(\.program) + ["dnsmasq"] {
            for directory in path + searchPath {
                let candidate = directory + "/" + program
                if access(candidate, X_OK) == 0 {
                    found[program] = candidate
                    break
                }
            }
        }
        return found
    }

    static func mooringExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func existing(_ paths: Set<String>) -> Set<String> {
        paths.filter { access($0, R_OK) == 0 }
    }

    /// Each existing file's real path (every symlink resolved) and owner, for the planner's checks that a VM's
    /// disk is its own (not another VM's through a link, not another user's, inside its image's directory).
    static func fileFacts(_ paths: Set<String>) -> [String: FileFact] {
        var facts: [String: FileFact] = [:]
        for path in paths {
            guard let resolved = realpath(path, nil) else { continue }
            defer { free(resolved) }
            var info = stat()
            guard stat(resolved, &info) == 0 else { continue }
            facts[path] = FileFact(resolved: String(cString: resolved), owner: info.st_uid)
        }
        return facts
    }

    /// The host's TSC frequency in kHz, rounded to whole MHz so a VM's command line (and spec hash) stays the same
    /// from run to run. Without frequency scaling, /proc/cpuinfo's "cpu MHz" is the kernel's calibrated TSC rate;
    /// with it, that figure moves, so cpufreq's base (or maximum) frequency is used instead.
    public static func tscKHz() -> Int? {
        let cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq"
        for file in ["\(cpufreq)/base_frequency", "\(cpufreq)/cpuinfo_max_freq"] {
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let khz = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), khz > 0 {
                return (khz + 500) / 1000 * 1000
            }
        }
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("cpu MHz") }),
              let mhz = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), mhz > 0
        else { return nil }
        return Int(mhz.rounded()) * 1000
    }

    /// Who VMMs run as: the `mooring-vmm` system user (and the `kvm` group) under the system manager; the
    /// manager's own user under a user manager, which cannot switch users. Nil, with the reason, when missing.
    public static func vmmIdentity(userManager: Bool) -> (identity: VMMIdentity?, problem: String?) {
        if userManager { return (VMMIdentity(user: nil, uid: getuid(), gid: getgid()), nil) }
        guard let entry = getpwnam(SystemdNames.vmmUser) else {
            return (nil, "the user \(SystemdNames.vmmUser) does not exist (the package creates it; or run "
                    + "`systemd-sysusers` with units/sysusers.d/mooring.conf)")
        }
        var identity = VMMIdentity(user: SystemdNames.vmmUser, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        if let group = getgrnam(SystemdNames.vmmDeviceGroup) {
            identity.supplementaryGroups = [SystemdNames.vmmDeviceGroup]
            identity.supplementaryGIDs = [group.pointee.gr_gid]
        }
        return (identity, nil)
    }

    /// Whether `identity` can open each file as its VMM needs (read, or read and write), by the permission
    /// bits of the file and of every directory above it, as the kernel checks them for a process without
    /// capabilities. Which directories the sandbox replaces with its own (so the host's bits above a file bound
    /// into it do not apply) the planner knows from the unit itself.
    public static func vmmFileProblems(read: Set<String>, write: Set<String>, identity: VMMIdentity?) -> [String: FileAccessProblem] {
        guard let identity else { return [:] }
        var problems: [String: FileAccessProblem] = [:]
        let groups = Set([identity.gid] + identity.supplementaryGIDs)
        let who = identity.user ?? "uid \(identity.uid)"
        func allowed(_ info: stat, _ bits: mode_t) -> Bool {
            let shift: mode_t = info.st_uid == identity.uid ? 6 : groups.contains(info.st_gid) ? 3 : 0
            return (info.st_mode >> shift) & bits == bits
        }
        for path in read.union(write).sorted() {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // a missing file is reported on its own
            let components = path.split(separator: "/").dropLast()
            var directory = ""
            var blocked: String?
            for component in components {
                directory += "/" + component
                var dirInfo = stat()
                if stat(directory, &dirInfo) == 0, !allowed(dirInfo, 0o1) { blocked = directory; break }
            }
            let needs: mode_t = write.contains(path) ? 0o6 : 0o4
            if let blocked {
                problems[path] = FileAccessProblem(blockedDirectory: blocked, "\(who) cannot enter \(blocked)")
            } else if !allowed(info, needs) {
                problems[path] = FileAccessProblem("\(who) cannot \(needs == 0o6 ? "read and write" : "read") it (owner \(info.st_uid), group \(info.st_gid), "
                    + "mode \(String(info.st_mode & 0o777, radix: 8)))")
            }
        }
        return problems
    }

    /// Whether journald runs here.
    public static func journal() -> Bool { FileManager.default.fileExists(atPath: "/run/systemd/journal/socket") }

    /// Whether the kernel offers vhost-net (the tap's packets move in the kernel, not through the VMM).
    public static func vhostNet() -> Bool { FileManager.default.fileExists(atPath: "/dev/vhost-net") }

    /// Why KVM cannot run stock guest kernels here, or nil.
    public static func kvmProblem() -> String? {
        if access("/dev/kvm", R_OK | W_OK) != 0 { return "/dev/kvm is missing or not accessible" }
        if FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm") {
            return "/dev/kvm is provided by kvm_pvm (PVM), which runs only PVM-enabled guest kernels"
        }
        return nil
    }
}
