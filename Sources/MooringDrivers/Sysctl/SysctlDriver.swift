import Foundation
import MooringModel

/// Reads and writes the network sysctls mooring manages, in the namespace of the calling thread
/// (`/proc/sys/net` resolves to the opener's network namespace).
public enum SysctlDriver {
    public static let managed = ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"]

    static func path(_ name: String) -> String { "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/") }

    public static func read(_ names: [String] = managed) -> [String: String] {
        var values: [String: String] = [:]
        for name in names {
            if let text = try? String(contentsOfFile: path(name), encoding: .utf8) {
                values[name] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return values
    }

    /// The per-link sysctls mooring manages: `net.ipv6.conf.<link>.accept_ra` for its bridges.
    static func isManagedLinkSysctl(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0] == "net" && parts[1] == "ipv6" && parts[2] == "conf" && parts[4] == "accept_ra"
            && InterfaceName.isValid(String(parts[3])) && !["all", "default"].contains(parts[3])
    }

    public static func write(_ name: String, _ value: String) throws {
        guard managed.contains(name) || isManagedLinkSysctl(name) else { throw DriverError("sysctl \(name) is not one mooring manages") }
        let fd = open(path(name), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DriverError("sysctl \(name): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw DriverError("sysctl \(name) = \(value): \(String(cString: strerror(errno)))")
        }
    }
}
