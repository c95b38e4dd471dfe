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
        }
        return nil
    }

    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }
}
