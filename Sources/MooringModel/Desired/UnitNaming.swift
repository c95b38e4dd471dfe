/// systemd's unit-name escaping (`systemd-escape`): `web-1` -> `web\x2d1`.
public enum SystemdNames {
    public static let unitPrefix = "mooring-vm-"
    /// A bridge's services (dnsmasq: DHCP and router advertisements): `mooring-bridge-<bridge>.service`, or
    /// `mooring-bridge-<netns>-<bridge>.service` for a target namespace (`unitName(forBridgeService:netns:)`).
    public static let bridgeServicePrefix = "mooring-bridge-"
    /// The system user every VMM runs as under the system manager (created by the package: sysusers.d).
    public static let vmmUser = "mooring-vmm"
    /// The group that grants /dev/kvm and /dev/vhost-net on Debian.
    public static let vmmDeviceGroup = "kvm"

    public static func escape(_ text: String) -> String {
        var out = ""
        for (offset, byte) in text.utf8.enumerated() {
            let character = Character(Unicode.Scalar(byte))
            let plain = byte < 0x80 && (character.isLetter || character.isNumber || character == ":" || character == "_" || character == ".")
            if byte == UInt8(ascii: "/") {
                out += "-"
            } else if !plain || (offset == 0 && byte == UInt8(ascii: ".")) {
                out += "\\x" + String(byte, radix: 16).leftPadded(2)
            } else {
                out.append(character)
            }
        }
        return out
    }

    public static func unitName(forMicroVM name: String) -> String { unitPrefix + escape(name) + ".service" }
    /// Bridges are per network namespace and units per host: two targets may each have a `br0` that serves
    /// DHCP, so a target namespace's name is part of its bridges' unit names. Escaping turns every `-` in
    /// either name into `\x2d` (and neither holds a `/`, the one byte it writes as `-`), so the `-` between
    /// them is unambiguous. The host's own namespace keeps the short name.
    public static func unitName(forBridgeService bridge: String, netns: String? = nil) -> String {
        bridgeServicePrefix + (netns.map { escape($0) + "-" } ?? "") + escape(bridge) + ".service"
    }

    /// The bridge a `mooring-bridge-*.service` unit of the namespace `netns` serves, when the name is exactly
    /// one mooring would give there (an interface name: it may become a path of the run directory, so nothing
    /// that could climb out).
    public static func bridge(forServiceUnit unit: String, netns: String? = nil) -> String? {
        guard unit.hasPrefix(bridgeServicePrefix), unit.hasSuffix(".service") else { return nil }
        let escaped = unit.dropFirst(bridgeServicePrefix.count).dropLast(".service".count)
        guard let last = escaped.split(separator: "-", omittingEmptySubsequences: false).last else { return nil }
        let name = unescape(String(last))
        guard !name.isEmpty, name.utf8.count <= 15, !name.contains("/"), name != ".", name != "..",
              unitName(forBridgeService: name, netns: netns) == unit else { return nil }
        return name
    }

    /// Where a bridge's services keep their configuration: `<run root>/bridges/<bridge>`, or
    /// `<run root>/bridges/<netns>.<bridge>` for a target namespace (a bridge's name holds no dot).
    public static func bridgeServiceDirectory(runRoot: String, bridge: String, netns: String?) -> String {
        "\(runRoot)/bridges/" + (netns.map { "\($0)." } ?? "") + bridge
    }

    /// The inverse of `escape` (`web\x2d1` -> `web-1`).
    public static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("\\x"), rest.count >= 4, let byte = UInt8(rest.dropFirst(2).prefix(2), radix: 16) {
                bytes.append(byte)
                index = text.index(index, offsetBy: 4)
            } else {
                bytes += rest.first == "-" ? Array("/".utf8) : Array(String(rest.first!).utf8)
                index = text.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The MicroVM a `mooring-vm-*.service` unit runs, or nil for other names.
    /// The MicroVM a unit runs, only when the unit's name is exactly what mooring would name that VM: anyone who
    /// can talk to the manager can start `mooring-vm-..-..-etc.service`, whose name unescapes to `../../etc`,
    /// and a name found on the host must never become a path.
    public static func microVM(forUnit unit: String) -> String? {
        guard unit.hasPrefix(unitPrefix), unit.hasSuffix(".service") else { return nil }
        let name = unescape(String(unit.dropFirst(unitPrefix.count).dropLast(".service".count)))
        guard ResourceName.isValid(name), unitName(forMicroVM: name) == unit else { return nil }
        return name
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
