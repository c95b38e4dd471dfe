/// Decoding a MicroVM manifest's spec: boot files, volumes, network interfaces.
extension ManifestDecoder {
    // MARK: MicroVM

    func decodeMicroVM(_ spec: MappingReader) -> MicroVMSpec? {
        let vcpu = spec.int("vcpu", range: 1...256)
        let memory = spec.int("memoryMb", range: 32...4_194_304, unit: " MiB")
        let kernel = bootFile(spec, "kernel")
        let initrd = bootFile(spec, "initrd")
        var rootVolume: VolumeSpec?
        if let volume = spec.mapping("rootVolume") {
            rootVolume = decodeVolume(volume)
        }
        var volumes: [VolumeSpec] = []
        for (node, path) in spec.sequence("volumes") ?? [] {
            guard let volume = reader.mapping(node, path) else { continue }
            if let decoded = decodeVolume(volume) { volumes.append(decoded) }
        }
        // CAPMVM fields that mean nothing on a host mooring runs: said once, not refused, so templates paste in.
        for (key, why) in [("failureDomain", "mooring runs on the host itself; hosts are chosen with spec.hosts or spec.hostSelector"),
                           ("providerID", "Cluster API sets it; mooring names VMs by metadata.name")] {
            if let node = spec.take(key) {
                reader.warning(node, spec.childPath(key), "is ignored: \(why)")
            }
        }
        var cmdline = ""
        if let node = spec.take("kernelCmdline") {
            if case .mapping = node {
                let pairs = (reader.stringMap(node, "spec.kernelCmdline") ?? []).sorted { $0.key.value < $1.key.value }
                for (key, _) in pairs where key.value.contains(where: { $0 == " " || $0 == "=" }) {
                    reader.error(at: key.location, key.path, "kernel argument names cannot contain spaces or '='")
                }
                cmdline = pairs.map { $0.value.value.isEmpty ? $0.key.value : "\($0.key.value)=\($0.value.value)" }
                    .joined(separator: " ")
            } else if let text = reader.string(node, "spec.kernelCmdline") {
                cmdline = text.value
            }
            if cmdline.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                reader.error(node, "spec.kernelCmdline", "contains a control character")
            }
        }
        let vmm = spec.oneOf("vmm", VMMKind.self)
        let stopTimeout = spec.int("stopTimeoutSeconds", range: 1...3600, unit: " s")
        var labels: [String: String] = [:]
        if let node = spec.take("labels") { labels = decodeLabels(node, "spec.labels") }
        let cloudInit = spec.bool("cloudInit")?.value ?? true
        let sshKeys = decodeSSHKeys(spec)
        var interfaces: [NetworkInterfaceSpec] = []
        let listed = spec.sequence("networkInterfaces")
        if listed == nil && spec.take("networkInterfaces") == nil {
            reader.error(spec.node, spec.childPath("networkInterfaces"), "is required (at least one interface, e.g. - {guestDeviceName: eth0, type: tap})")
        } else if let listed, listed.isEmpty {
            reader.error(spec.take("networkInterfaces"), spec.childPath("networkInterfaces"), "needs at least one interface")
        }
        var seenGuestNames: [String: Int] = [:]
        for (node, path) in listed ?? [] {
            guard let entry = reader.mapping(node, path) else { continue }
            defer { entry.finish() }
            guard let decoded = decodeInterface(entry) else { continue }
            if let firstLine = seenGuestNames[decoded.guestDeviceName.value] {
                reader.error(at: decoded.guestDeviceName.location, decoded.guestDeviceName.path,
                             "duplicate guestDeviceName \"\(decoded.guestDeviceName.value)\" (also on line \(firstLine))")
                continue
            }
            seenGuestNames[decoded.guestDeviceName.value] = decoded.guestDeviceName.location.line
            interfaces.append(decoded)
        }
        return MicroVMSpec(vcpu: vcpu, memoryMb: memory, kernel: kernel, initrd: initrd, rootVolume: rootVolume, volumes: volumes,
                           kernelCmdline: cmdline, vmm: vmm, stopTimeoutSeconds: stopTimeout, labels: labels,
                           cloudInit: cloudInit, sshPublicKeys: sshKeys, networkInterfaces: interfaces,
                           specLocation: reader.location(of: spec.node),
                           writtenFields: Set(spec.entries.map(\.key)))
    }

    /// `sshPublicKeys: [{user: root, authorizedKeys: ["ssh-ed25519 AAAA... me@host"]}]`, as CAPMVM spells it.
    func decodeSSHKeys(_ spec: MappingReader) -> [GuestUserKeys] {
        var users: [GuestUserKeys] = []
        for (node, path) in spec.sequence("sshPublicKeys") ?? [] {
            guard let entry = reader.mapping(node, path) else { continue }
            defer { entry.finish() }
            let user = entry.string("user")
            if let user, !GuestUserKeys.isValidUser(user.value) {
                reader.error(at: user.location, user.path, "\"\(user.value.escapedForMessage)\" is not a user name (want ^[a-z_][a-z0-9_-]*$, at most 32 bytes)")
            }
            var keys: [String] = []
            for key in entry.stringList("authorizedKeys") ?? [] {
                if GuestUserKeys.isValidKey(key.value) {
                    keys.append(key.value)
                } else {
                    reader.error(at: key.location, key.path, "is not an SSH public key (one line: a key type such as ssh-ed25519, the base64 key, an optional comment)")
                }
            }
            let name = user?.value ?? "root"
            if users.contains(where: { $0.user == name }) {
                reader.error(entry.node, entry.path, "user \(name) is listed twice; put all its keys in one entry")
            } else if GuestUserKeys.isValidUser(name) {
                users.append(GuestUserKeys(user: name, authorizedKeys: keys))
            }
        }
        return users
    }

    func bootFile(_ spec: MappingReader, _ key: String) -> BootFileSpec? {
        guard let node = spec.take(key) else { return nil }
        let path = spec.childPath(key)
        if case .mapping = node {
            guard let object = reader.mapping(node, path) else { return nil }
            defer { object.finish() }
            let image = object.string("image")
            guard let filename = object.string("filename") else {
                reader.error(node, object.childPath("filename"), "is required (a host path, or a path inside the image unpacked under Host.spec.imageRoot)")
                return nil
            }
            return fileSource(image: image, file: filename).map { BootFileSpec(source: $0) }
        }
        guard let text = reader.string(node, path) else { return nil }
        return absolutePath(text).map { BootFileSpec(source: .hostPath($0)) }
    }

    /// CAPMVM's `{image, filename}`: an absolute filename is a host path (the image is then only a name, and
    /// says so); a relative one is inside the image, unpacked under `Host.spec.imageRoot` (resolved later).
    func fileSource(image: Located<String>?, file: Located<String>) -> FileSourceSpec? {
        if file.value.hasPrefix("/") {
            if let image {
                reader.warning(at: image.location, image.path,
                               "filename is an absolute host path, so \"\(image.value.escapedForMessage)\" is only a name here")
            }
            return absolutePath(file).map(FileSourceSpec.hostPath)
        }
        guard let image else {
            reader.error(at: file.location, file.path, "\"\(file.value.escapedForMessage)\" is relative: give the image it is in (image:), or an absolute host path")
            return nil
        }
        guard Self.isImageReference(image.value) else {
            reader.error(at: image.location, image.path,
                         "\"\(image.value.escapedForMessage)\" is not an image reference (want e.g. ghcr.io/example/kernel:6.1, or a digest: name@sha256:<64 hex digits>; no '..', no leading '/')")
            return nil
        }
        guard Self.isRelativePathInside(file.value) else {
            reader.error(at: file.location, file.path, "\"\(file.value.escapedForMessage)\" must stay inside the image (no '..', no empty parts, no control characters)")
            return nil
        }
        return .image(reference: image, file: file)
    }

    /// `rootVolume` or a `volumes` entry: `{id, path | image, readOnly, mountPoint}`.
    func decodeVolume(_ volume: MappingReader) -> VolumeSpec? {
        defer { volume.finish() }
        let idNode = volume.string("id")
        if let idNode, !idNode.value.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) {
            // The id becomes QEMU's drive id inside a comma-separated option string (`r,file=/etc/shadow`).
            reader.error(at: idNode.location, volume.childPath("id"),
                         "\"\(idNode.value.escapedForMessage)\" may hold only letters, digits, '-' and '_' (it names the VMM's drive)")
        }
        let image = volume.string("image")
        let path = volume.string("path")
        let readOnly = volume.bool("readOnly")?.value ?? false
        var mountPoint = volume.string("mountPoint")
        if let point = mountPoint, !point.value.hasPrefix("/") || point.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            reader.error(at: point.location, point.path, "\"\(point.value.escapedForMessage)\" is not an absolute path in the guest (e.g. /data)")
            mountPoint = nil
        }
        var source: FileSourceSpec?
        if let path {
            if let image { reader.warning(at: image.location, image.path, "path is a host disk, so it is used: \"\(image.value.escapedForMessage)\" is only a name here") }
            source = absolutePath(path).map(FileSourceSpec.hostPath)
        } else if let image {
            // An image's disk: `<imageRoot>/<image>/disk.img` (docs/manifests.md).
            source = fileSource(image: image, file: image.map { _ in DesiredVolume.imageDiskName })
        } else {
            reader.error(volume.node, volume.childPath("path"), "is required (a host disk image, e.g. /var/lib/vms/web-1.img), or image (unpacked under Host.spec.imageRoot)")
        }
        return VolumeSpec(id: idNode?.value, source: source, readOnly: readOnly, mountPoint: mountPoint?.value)
    }

    /// A container image reference as a path under the image root: registry, path and tag or digest characters,
    /// no component that climbs out (`..`) or is empty.
    static func isImageReference(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 255, !text.hasPrefix("/") else { return false }
        let allowed = text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-:/@+".unicodeScalars.contains($0) }
        guard allowed, isRelativePathInside(text) else { return false }
        // At most one `@`, and then a real digest after it (`name@sha256:<64 hex>`).
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 1 || (parts.count == 2 && !parts[0].isEmpty && ImageReference.isDigest(String(parts[1])))
    }

    static func isRelativePathInside(_ text: String) -> Bool {
        guard !text.isEmpty, !text.hasPrefix("/"), !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return false }
        return text.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != ".." && $0 != "." }
    }

    func decodeInterface(_ entry: MappingReader) -> NetworkInterfaceSpec? {
        let guestName = entry.string("guestDeviceName")
        if entry.take("guestDeviceName") == nil {
            reader.error(entry.node, entry.childPath("guestDeviceName"), "is required (the device name inside the guest, e.g. eth0)")
        }
        if let guestName, !Self.isGuestDeviceName(guestName.value) {
            reader.error(at: guestName.location, guestName.path,
                         "\"\(guestName.value.escapedForMessage)\" is not a guest device name (want ^[a-z][a-z0-9_]*$, at most 15 bytes, e.g. eth0)")
        }
        let type = entry.oneOf("type", NetworkInterfaceType.self)
        if entry.take("type") == nil { reader.error(entry.node, entry.childPath("type"), "is required (tap or macvtap)") }
        var guestMac: Located<MACAddress>?
        if let text = entry.string("guestMac") {
            if let mac = MACAddress(text.value) {
                if mac.isMulticast {
                    reader.error(at: text.location, text.path,
                                 "\"\(text.value.escapedForMessage)\" is a multicast MAC address (want a unicast one: the first byte even, e.g. 02:00:00:00:00:01)")
                } else if mac.isZero {
                    reader.error(at: text.location, text.path, "the all-zero MAC address cannot be used")
                } else {
                    guestMac = text.map { _ in mac }
                }
            } else {
                reader.error(at: text.location, text.path,
                             "\"\(text.value.escapedForMessage)\" is not a MAC address (want six hex pairs, e.g. 02:00:00:00:00:01)")
            }
        }
        // `address: A` is the one-address shorthand of `addresses: [A, ...]`; both may be given.
        var addresses: [Located<CIDR>] = []
        for text in [entry.string("address")].compactMap({ $0 }) + (entry.stringList("addresses") ?? []) {
            guard let cidr = cidr(text) else { continue }
            if addresses.contains(where: { $0.value.address == cidr.value.address }) {
                reader.error(at: text.location, text.path, "\(cidr.value.address) is given twice")
            } else {
                addresses.append(cidr)
            }
        }
        var gateways: [Located<IPAddress>] = []
        for gateway in (entry.stringList("gateways") ?? []).compactMap({ ipAddress($0) }) {
            let family = gateway.value.isIPv4 ? "IPv4" : "IPv6"
            if gateways.contains(where: { $0.value.family == gateway.value.family }) {
                reader.error(at: gateway.location, gateway.path, "a second \(family) gateway (the guest has one default route per family)")
            } else if !(gateway.value.family == .ipv6 && gateway.value.isLinkLocal),
                      !addresses.contains(where: { $0.value.contains(gateway.value) }) {
                reader.error(at: gateway.location, gateway.path,
                             "gateway \(gateway.value) is not in the interface's \(family) subnets (\(addresses.filter { $0.value.address.family == gateway.value.family }.map(\.value.description).joined(separator: ", ")))"
                             + ": the guest could not reach it on the link")
            } else {
                gateways.append(gateway)
            }
        }
        let isolated = entry.bool("isolated")
        let learning = entry.bool("learning")
        let antiSpoofing = entry.bool("antiSpoofing")
        var rateLimit: RateLimit?
        if let limits = entry.mapping("rateLimit") {
            var limit = RateLimit()
            for (key, keyPath) in [("toGuest", \RateLimit.toGuest), ("fromGuest", \RateLimit.fromGuest)] {
                guard let text = limits.string(key) else { continue }
                if let rate = RateLimit.bytesPerSecond(text.value) {
                    limit[keyPath: keyPath] = rate
                } else {
                    reader.error(at: text.location, text.path, "\"\(text.value.escapedForMessage)\" is not a rate (want e.g. 100mbit, 1gbit, 512kbit; at least 8kbit)")
                }
            }
            limits.finish()
            rateLimit = limit
        }
        var nameservers: Nameservers?
        if let mapping = entry.mapping("nameservers") {
            nameservers = decodeNameservers(mapping)
            mapping.finish()
        }
        let bridge = interfaceName(entry.string("bridge"))
        let parent = interfaceName(entry.string("parentInterface"))
        let mode = entry.oneOf("macvtapMode", MacvtapMode.self)
        let sourceList = entry.take("sourceMacs")
        let sourcePath = entry.childPath("sourceMacs")
        var sourceMACs: [MACAddress] = []
        for text in sourceList.flatMap({ reader.stringList($0, sourcePath) }) ?? [] {
            if let mac = MACAddress(text.value), !mac.isMulticast, !mac.isZero {
                if !sourceMACs.contains(mac) { sourceMACs.append(mac) }
            } else {
                reader.error(at: text.location, text.path, "\"\(text.value.escapedForMessage)\" is not a unicast MAC address (e.g. 02:00:00:00:00:05)")
            }
        }
        if mode?.value == .source && sourceList == nil {
            reader.error(entry.node, sourcePath, "is required with macvtapMode: source (the MACs whose frames the macvtap receives, e.g. [\"02:00:00:00:00:05\"])")
        } else if let sourceList, mode?.value != .source {
            reader.error(sourceList, sourcePath, "applies to macvtapMode: source only")
        }
        let hostName = interfaceName(entry.string("hostDeviceName"))
        if let type {
            switch type.value {
            case .tap:
                if let parent { reader.error(at: parent.location, parent.path, "applies to macvtap interfaces only (a tap joins a bridge; set bridge)") }
                if let mode { reader.error(at: mode.location, mode.path, "applies to macvtap interfaces only") }
            case .macvtap where rateLimit != nil:
                reader.error(entry.node, entry.childPath("rateLimit"), "applies to tap interfaces only (a macvtap is no bridge port, where the limits are enforced)")
            case .macvtap where learning != nil:
                reader.error(at: learning!.location, learning!.path, "applies to tap interfaces only (a macvtap is no bridge port; the kernel delivers it only frames for its own MAC)")
            case .macvtap where isolated?.value == true:
                // A macvtap is no bridge port; its own modes (private, vepa) keep guests apart.
                reader.error(at: isolated!.location, isolated!.path, "applies to tap interfaces only (for a macvtap, macvtapMode: private keeps guests apart)")
            case .macvtap:
                if let bridge { reader.error(at: bridge.location, bridge.path, "applies to tap interfaces only (a macvtap sits on a parentInterface)") }
            }
        }
        guard let guestName, Self.isGuestDeviceName(guestName.value), let type else { return nil }
        var spec = NetworkInterfaceSpec(guestDeviceName: guestName, type: type, guestMac: guestMac, addresses: addresses,
                                    gateways: gateways, nameservers: nameservers, isolated: isolated?.value ?? false, antiSpoofing: antiSpoofing?.value, rateLimit: rateLimit, bridge: bridge, parentInterface: parent, macvtapMode: mode?.value ?? .bridge,
                                    sourceMACs: sourceMACs,
                                    hostDeviceName: hostName, location: reader.location(of: entry.node), path: entry.path)
        spec.learning = learning?.value ?? true
        return spec
    }

    static func isGuestDeviceName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...15).contains(bytes.count), (0x61...0x7a).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
    }
}
