
/// Decodes one YAML document into a `Manifest`, checking each field's own syntax.
/// Checks that need other documents (references, duplicates) live in `ManifestSetValidator`.
struct ManifestDecoder {
    let reader: DocumentReader
    let root: Node

    static let namePattern = "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"

    func decode() -> Manifest? {
        guard let document = reader.mapping(root, "") else { return nil }
        defer { document.finish() }

        var kind: ManifestKind?
        if let apiVersion = document.require("apiVersion", "set it to \(ManifestKind.apiVersion)"),
           let text = reader.string(apiVersion, "apiVersion"), text.value != ManifestKind.apiVersion {
            reader.error(apiVersion, "apiVersion",
                         "unknown apiVersion \"\(text.value.escapedForMessage)\" (want \(ManifestKind.apiVersion))")
        }
        let kindNode = document.require("kind", "one of \(ManifestKind.allCases.map(\.rawValue).joined(separator: ", "))")
        if let kindNode { kind = reader.oneOf(kindNode, "kind", ManifestKind.self)?.value }

        var name: Located<String>?
        var labels: [String: String] = [:]
        if let metadata = document.mapping("metadata") {
            if let nameNode = metadata.require("name", "every document needs metadata.name") {
                name = reader.string(nameNode, "metadata.name")
            }
            if let kind, let name { reader.subject = "\(kind.rawValue) \"\(name.value.escapedForMessage)\"" }
            if let labelNode = metadata.take("labels") { labels = decodeLabels(labelNode, "metadata.labels") }
            metadata.finish()
        } else if document.entries.contains(where: { $0.key == "metadata" }) == false {
            reader.error(root, "metadata", "is required (every document needs metadata.name)")
        }
        guard let kind, let name else {
            _ = document.take("spec")
            return nil
        }
        reader.subject = "\(kind.rawValue) \"\(name.value.escapedForMessage)\""
        checkName(name, kind: kind)

        let specNode = document.take("spec")
        let spec: MappingReader
        if let specNode {
            guard let mapping = reader.mapping(specNode, "spec") else { return nil }
            spec = mapping
        } else if kind == .host {
            // A Host document may leave everything at its defaults.
            spec = MappingReader(reader: reader, node: .mapping([], Mark(line: 1, column: 1)), path: "spec")
        } else {
            reader.error(root, "spec", "is required")
            return nil
        }
        defer { spec.finish() }

        let hosts = spec.stringList("hosts")
        for host in hosts ?? [] where host.value.isEmpty || host.value.utf8.count > 253 {
            reader.error(at: host.location, host.path, "is not a host name")
        }
        let hostSelector = spec.take("hostSelector").map { decodeLabels($0, "spec.hostSelector") }
        let origin = ManifestOrigin(kind: kind, name: name.value, location: reader.location(of: root))
        let decoded: ManifestSpec?
        switch kind {
        case .host: decoded = decodeHost(spec).map(ManifestSpec.host)
        case .bridge: decoded = decodeBridge(spec).map(ManifestSpec.bridge)
        case .nat: decoded = decodeNAT(spec).map(ManifestSpec.nat)
        case .microVM: decoded = decodeMicroVM(spec).map(ManifestSpec.microVM)
        }
        guard let decoded else { return nil }
        return Manifest(origin: origin, labels: labels, nameLocation: name.location, hosts: hosts, hostSelector: hostSelector,
                        spec: decoded)
    }

    // MARK: Names and labels

    private func checkName(_ name: Located<String>, kind: ManifestKind) {
        if kind == .bridge {
            // A Bridge's name is its kernel link name.
            if let problem = InterfaceName.problem(with: name.value) {
                reader.error(at: name.location, "metadata.name", "\"\(name.value.escapedForMessage)\" \(problem)")
            }
            return
        }
        if !Self.isDNSLabel(name.value) {
            reader.error(at: name.location, "metadata.name",
                         "\"\(name.value.escapedForMessage)\" is not a valid name (want \(Self.namePattern), e.g. web-1)")
        }
    }

    /// A valid MicroVM/NAT/Host name: also what every path and unit name derived from a name may contain.
    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func ok(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        return ok(bytes.first!) && ok(bytes.last!) && bytes.allSatisfy { ok($0) || $0 == 0x2d }
    }

    func decodeLabels(_ node: Node, _ path: String) -> [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in reader.stringMap(node, path) ?? [] {
            if !Self.isLabelText(key.value, allowSlash: true) || key.value.isEmpty {
                reader.error(at: key.location, key.path,
                             "\"\(key.value.escapedForMessage)\" is not a label key (want letters, digits, '-', '_', '.', '/', at most 63)")
            } else if !Self.isLabelText(value.value, allowSlash: false) {
                reader.error(at: value.location, value.path,
                             "\"\(value.value.escapedForMessage)\" is not a label value (want letters, digits, '-', '_', '.', at most 63)")
            } else {
                labels[key.value] = value.value
            }
        }
        return labels
    }

    private static func isLabelText(_ text: String, allowSlash: Bool) -> Bool {
        text.utf8.count <= (allowSlash ? 253 : 63) && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "." || (allowSlash && scalar == "/"))
        }
    }

    // MARK: Shared field readers

    /// A kernel interface name a manifest refers to (existing or created by mooring).
    func interfaceName(_ located: Located<String>?) -> Located<String>? {
        guard let located else { return nil }
        if let problem = InterfaceName.problem(with: located.value) {
            reader.error(at: located.location, located.path,
                         "\"\(located.value.escapedForMessage)\" is not a valid interface name: \(problem)")
            return nil
        }
        return located
    }

    func cidr(_ located: Located<String>) -> Located<CIDR>? {
        if let cidr = CIDR(located.value) { return located.map { _ in cidr } }
        reader.error(at: located.location, located.path, CIDR.problem(with: located.value)!)
        return nil
    }

    func ipAddress(_ located: Located<String>?) -> Located<IPAddress>? {
        guard let located else { return nil }
        if let address = IPAddress(located.value) { return located.map { _ in address } }
        reader.error(at: located.location, located.path,
                     "\"\(located.value.escapedForMessage)\" is not an IP address (want e.g. 192.0.2.1 or 2001:db8::1)")
        return nil
    }

    func absolutePath(_ located: Located<String>) -> Located<String>? {
        guard located.value.hasPrefix("/") else {
            reader.error(at: located.location, located.path,
                         "\"\(located.value.escapedForMessage)\" is not an absolute path (want e.g. /var/lib/mooring/vmlinux)")
            return nil
        }
        if located.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            reader.error(at: located.location, located.path, "path contains a control character")
            return nil
        }
        return located
    }

}
