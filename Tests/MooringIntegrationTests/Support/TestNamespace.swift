import Foundation
import MooringModel

/// A network namespace a test creates and deletes; every kernel change a test makes happens inside one.
final class TestNamespace: @unchecked Sendable {
    let name: String

    init(_ prefix: String = "mt") throws {
        name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        try Shell.must("ip", "netns", "add", name)
        try ip("link", "set", "lo", "up")
    }

    deinit { _ = try? Shell.run(["ip", "netns", "del", name]) }

    @discardableResult
    func ip(_ arguments: String...) throws -> String { try Shell.must(["ip", "-n", name] + arguments) }

    /// An HTTP GET from inside the namespace (`curl -g`: IPv6 literals in brackets), its body trimmed; "" when
    /// nothing answered within `timeout` seconds.
    func http(_ url: String, timeout: Int = 2) -> String {
        ((try? Shell.run(["ip", "netns", "exec", name, "curl", "-s", "-g", "-m", "\(timeout)", url]))?.stdout ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    func exec(_ arguments: String...) throws -> Shell.Output { try exec(arguments) }
    func exec(_ arguments: [String]) throws -> Shell.Output { try Shell.run(["ip", "netns", "exec", name] + arguments) }

    /// A client outside the host: `client`'s c0 (198.51.100.2, 2001:db8:`v6Net`::2) facing this namespace's ext0
    /// (198.51.100.1, 2001:db8:`v6Net`::1), both families without duplicate address detection.
    func connectClient(_ client: TestNamespace, v6Net: Int) throws {
        try ip("link", "add", "ext0", "type", "veth", "peer", "name", "c0", "netns", client.name)
        try ip("addr", "add", "198.51.100.1/24", "dev", "ext0")
        try ip("addr", "add", "2001:db8:\(v6Net)::1/64", "dev", "ext0", "nodad")
        try ip("link", "set", "ext0", "up")
        try client.ip("addr", "add", "198.51.100.2/24", "dev", "c0")
        try client.ip("addr", "add", "2001:db8:\(v6Net)::2/64", "dev", "c0", "nodad")
        try client.ip("link", "set", "c0", "up")
    }

    /// A veth pair standing in for a host NIC (this kernel has no dummy links).
    func addHostInterface(_ name: String, peer: String? = nil) throws {
        try ip("link", "add", name, "type", "veth", "peer", "name", peer ?? "\(name)-p")
    }

    /// `ip -d link` and `ip addr` output, for before/after comparisons of what mooring must not touch.
    func linkDump() throws -> String {
        try Shell.must("ip", "-n", name, "-d", "-j", "link", "show")
    }

    /// What mooring controls on every link (names, kinds, masters, aliases, admin state, MTU, global addresses),
    /// without the kernel's own moving parts (operstate, carrier, statistics).
    func managedState() throws -> [String] {
        try links().values.sorted { $0.ifname < $1.ifname }.map { link in
            "\(link.ifname) \(link.linkinfo?.info_kind ?? "-") master=\(link.master ?? "-") alias=\(link.ifalias ?? "-") "
                + "up=\(link.isUp) mtu=\(link.mtu ?? 0) \(try addresses(link.ifname).sorted())"
        }
    }

    struct Link: Decodable {
        var ifname: String
        var mtu: Int?
        var master: String?
        var flags: [String]?
        var ifalias: String?
        var operstate: String?
        var linkinfo: LinkInfo?
        var address: String?

        struct LinkInfo: Decodable {
            var info_kind: String?
        }

        var isUp: Bool { flags?.contains("UP") == true }
    }

    func links() throws -> [String: Link] {
        let data = Data(try ip("-d", "-j", "link", "show").utf8)
        let list = try JSONDecoder().decode([Link].self, from: data)
        return Dictionary(list.map { ($0.ifname, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Interface indexes by link name.
    func indexes() throws -> [String: Int] {
        struct Entry: Decodable { var ifindex: Int; var ifname: String }
        let list = try JSONDecoder().decode([Entry].self, from: Data(try ip("-j", "link", "show").utf8))
        return Dictionary(list.map { ($0.ifname, $0.ifindex) }, uniquingKeysWith: { first, _ in first })
    }

    /// Global addresses of a link, as `address/prefix`.
    func addresses(_ link: String) throws -> Set<String> {
        struct Entry: Decodable {
            var addr_info: [Info]
            struct Info: Decodable { var local: String; var prefixlen: Int; var scope: String }
        }
        let data = Data(try ip("-j", "addr", "show", "dev", link).utf8)
        let entries = try JSONDecoder().decode([Entry].self, from: data)
        return Set(entries.flatMap(\.addr_info).filter { $0.scope == "global" }.map { "\($0.local)/\($0.prefixlen)" })
    }
}

/// A manifest directory in a scratch folder.
final class ManifestDirectory: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    /// - Parameter forVMMs: the files are for a VMM (a kernel, a stand-in VMM program): not under /tmp, which a
    ///   VMM's sandbox replaces with its own (PrivateTmp).
    init(forVMMs: Bool = false) throws {
        let base = forVMMs ? URL(fileURLWithPath: "/var/lib/mooring/test-files") : FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("mooring-manifests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ text: String) throws {
        let file = url.appendingPathComponent(name)
        try text.write(to: file, atomically: false, encoding: .utf8)
        chmod(file.path, 0o644)
    }

    func remove(_ name: String) throws { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) }

    func removeAll() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: path) { try remove(name) }
    }
}

enum Manifests {
    static let header = "apiVersion: mooring.dev/v1alpha1\n"

    static func bridge(_ name: String, addresses: [String] = [], mtu: Int? = nil, ports: [String] = [],
                       extra: String = "") -> String {
        var spec = "  addresses: [\(addresses.joined(separator: ", "))]\n"
        if let mtu { spec += "  mtu: \(mtu)\n" }
        if !ports.isEmpty { spec += "  ports: [\(ports.joined(separator: ", "))]\n" }
        return header + "kind: Bridge\nmetadata:\n  name: \(name)\nspec:\n" + spec + extra
    }

    /// A MicroVM the test bed can boot (qemu microvm under TCG), with the given interface entries.
    static func bootableVM(_ name: String, memory: Int = 128, interfaces: [String]) -> String {
        guard let guest = TestEnvironment.guestDirectory else { return "" }
        var text = header + """
            kind: MicroVM
            metadata: {name: \(name)}
            spec:
              vcpu: 1
              memoryMb: \(memory)
              vmm: qemu-microvm
              kernel: \(guest)/vmlinux
              initrd: \(guest)/initrd.cpio.gz
              kernelCmdline: "quiet"
              networkInterfaces:

            """
        for interface in interfaces { text += "    - \(interface)\n" }
        return text
    }

    static let tcgHost = header + "kind: Host\nmetadata: {name: testbed}\nspec: {accelerator: tcg}\n"

    /// A MicroVM with `vmm: none` (devices only), tap interfaces on `bridge`.
    static func microVM(_ name: String, bridge: String, interfaces: [String] = ["eth0"], vmm: String = "none",
                        extraInterfaceFields: String = "") -> String {
        var text = header + "kind: MicroVM\nmetadata:\n  name: \(name)\nspec:\n  vmm: \(vmm)\n  networkInterfaces:\n"
        for interface in interfaces {
            text += "    - {guestDeviceName: \(interface), type: tap, bridge: \(bridge)\(extraInterfaceFields)}\n"
        }
        return text
    }
}
