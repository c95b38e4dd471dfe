/// Kernel network interface names (IFNAMSIZ - 1 bytes, `dev_valid_name` rules).
public enum InterfaceName {
    public static let maxBytes = 15

    /// Why `name` cannot be a kernel interface name, or nil when it can.
    public static func problem(with name: String) -> String? {
        let bytes = name.utf8.count
        if bytes == 0 { return "is empty (want 1-15 bytes, e.g. br0)" }
        if bytes > maxBytes { return "is \(bytes) bytes long (the kernel allows at most \(maxBytes))" }
        if name == "." || name == ".." { return "is not allowed as an interface name" }
        for scalar in name.unicodeScalars {
            if scalar == "/" { return "contains '/' (not allowed in interface names)" }
            if scalar == ":" { return "contains ':' (not allowed in interface names)" }
            if scalar.properties.isWhitespace { return "contains whitespace (not allowed in interface names)" }
            if scalar.value < 0x20 || scalar.value == 0x7f { return "contains a control character" }
            // Names reach nftables rules and maps, and QEMU's comma-separated options. The kernel accepts these
            // characters, but nftables reads a trailing '*' as a wildcard (a bridge `v*` matched every `v...`
            // interface) and '"' or '\\' break its strings, a ',' would add QEMU options (`ta,ifname=tb`), and
            // the kernel expands '%' as a number pattern. Refused, so nothing is ever dropped or widened.
            if "\"\\*,%'".unicodeScalars.contains(scalar) {
                return "contains '\(scalar)', which mooring refuses in interface names (it would change meaning in nftables rules or QEMU options)"
            }
        }
        return nil
    }

    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }
}
