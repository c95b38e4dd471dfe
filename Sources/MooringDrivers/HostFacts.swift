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
        for program in VMMKind.allCases.compactMap(\.program) {
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

    /// Why KVM cannot run stock guest kernels here, or nil.
    public static func kvmProblem() -> String? {
        if access("/dev/kvm", R_OK | W_OK) != 0 { return "/dev/kvm is missing or not accessible" }
        if FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm") {
            return "/dev/kvm is provided by kvm_pvm (PVM), which runs only PVM-enabled guest kernels"
        }
        return nil
    }
}
