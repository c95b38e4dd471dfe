/// What the manifests say this host should look like, validated and with every default resolved.
public struct DesiredState: Sendable, Codable, Equatable {
    public var host: DesiredHost
    public var bridges: [DesiredBridge]
    public var nats: [DesiredNAT]
    public var microVMs: [DesiredMicroVM]

    public init(host: DesiredHost = DesiredHost(), bridges: [DesiredBridge] = [], nats: [DesiredNAT] = [],
                microVMs: [DesiredMicroVM] = []) {
        self.host = host
        self.bridges = bridges
        self.nats = nats
        self.microVMs = microVMs
    }

    public var documentCount: Int { (host.origin == nil ? 0 : 1) + bridges.count + nats.count + microVMs.count }

    public var countsByKind: [(ManifestKind, Int)] {
        [(.host, host.origin == nil ? 0 : 1), (.bridge, bridges.count), (.nat, nats.count), (.microVM, microVMs.count)]
            .filter { $0.1 > 0 }
    }
}

public struct DesiredHost: Sendable, Codable, Equatable {
    /// The image root without a Host manifest that sets one, so CAPMVM's template (images by reference)
    /// validates without an extra manifest.
    public static let defaultImageRoot = "/var/lib/mooring/images"

    public var origin: ManifestOrigin?
    public var parentInterface: String?
    public var defaultBridge: String?
    /// Where the container images MicroVMs name are unpacked: `Host.spec.imageRoot`, else `defaultImageRoot`.
    public var imageRoot: String? = DesiredHost.defaultImageRoot
    public var antiSpoofing = true
    public var vmm: VMMKind = .qemuMicrovm
    public var accelerator: Accelerator = .kvm
    /// What makes this host's bridge MACs its own (`DeviceNaming.bridgeMAC`): the Host manifest's name, else the
    /// `--host` given, else the machine id. Set by whoever loads the manifests for a host; empty: the name alone.
    public var macIdentity = ""

    public init(origin: ManifestOrigin? = nil, parentInterface: String? = nil, defaultBridge: String? = nil,
                vmm: VMMKind = .qemuMicrovm, accelerator: Accelerator = .kvm) {
        self.origin = origin
        self.parentInterface = parentInterface
        self.defaultBridge = defaultBridge
        self.vmm = vmm
        self.accelerator = accelerator
    }
}

/// A route mooring keeps on one of its links, marked with mooring's routing protocol number so that only
/// routes it declared are ever changed or removed.
public struct DesiredRoute: Sendable, Codable, Equatable, Hashable {
    /// `0.0.0.0/0` or `::/0` for a default route.
    public var destination: CIDR
    public var gateway: IPAddress?
    public var metric: Int
    /// The routing table; 254 is `main`.
    public var table: Int
    /// rtm_protocol it is made with: mooring's own mark, except when `apply --try` puts back a route someone
    /// else made (a host's default route from DHCP or ifupdown), which must come back as theirs.
    public var protocolNumber: Int

    public static let mainTable = 254
    /// The protocol number on mooring's routes (`ip route show proto 193`): not one iproute2 or a routing daemon uses.
    public static let mooringProtocol = 193

    public init(destination: CIDR, gateway: IPAddress?, metric: Int = 0, table: Int = DesiredRoute.mainTable,
                protocolNumber: Int = DesiredRoute.mooringProtocol) {
        self.destination = destination
        self.gateway = gateway
        self.protocolNumber = protocolNumber
        // The kernel gives an IPv6 route without a metric 1024 (IP6_RT_PRIO_USER): say what it will show.
        self.metric = metric == 0 && destination.address.family == .ipv6 ? 1024 : metric
        self.table = table
    }

    public var isDefault: Bool { destination.prefixLength == 0 }

    /// What the kernel tells routes apart by: two routes with the same destination, metric and table are one.
    public func sameKey(as other: DesiredRoute) -> Bool {
        destination == other.destination && metric == other.metric && table == other.table
    }

    /// `default via 192.0.2.1`, `10.9.0.0/16 via 10.0.0.2 metric 100 table 7`.
    public var text: String {
        var parts = [isDefault ? "default" : destination.description]
        if let gateway { parts.append("via \(gateway)") }
        if metric != 0 { parts.append("metric \(metric)") }
        if table != DesiredRoute.mainTable { parts.append("table \(table)") }
        if protocolNumber != DesiredRoute.mooringProtocol {
            // iproute2's names (/etc/iproute2/rt_protos) for the usual ones.
            let names = [2: "kernel", 3: "boot", 4: "static", 9: "ra", 16: "dhcp"]
            parts.append("proto \(names[protocolNumber] ?? String(protocolNumber))")
        }
        return parts.joined(separator: " ")
    }
}

public struct DesiredBridge: Sendable, Codable, Equatable {
    public var origin: ManifestOrigin
    public var name: String
    public var addresses: [CIDR]
    public var mtu: Int?
    /// Existing host interfaces to enslave; used, never created or deleted.
    public var ports: [String]
    /// The ports mooring makes for it (`spec.vxlan`, `spec.vlan`), in the order of `LinkConfig.Name`.
    public var madePorts: [DesiredBridgePort]
    /// Routes through the bridge (`spec.routes`, `spec.gateways`).
    public var routes: [DesiredRoute]
    /// Whether it accepts IPv6 router advertisements; nil leaves the kernel's setting alone.
    public var acceptRA: Bool?
    /// DNS servers and search domains for the bridge, set in systemd-resolved.
    public var nameservers: Nameservers?
    /// A DHCPv4 server for its guests, and IPv6 router advertisements (dnsmasq, a unit per bridge).
    public var dhcpServer: DHCPServer?
    public var ipv6SendRA: RouterAdvertisements?

    /// The sysctl that says whether a link accepts router advertisements. Bridge names hold no dots, so the
    /// dotted sysctl name maps to one path.
    public static func acceptRASysctl(_ link: String) -> String { "net.ipv6.conf.\(link).accept_ra" }
    /// The link a per-link sysctl (`net.ipv6.conf.br0.accept_ra`) is about, or nil for a namespace-wide one.
    public static func linkOfSysctl(_ name: String) -> String? {
        let parts = name.split(separator: ".")
        guard parts.count >= 5, parts[0] == "net", parts[2] == "conf" else { return nil }
        let link = parts[3..<(parts.count - 1)].joined(separator: ".")  // a VLAN's name has dots of its own
        return link == "all" || link == "default" ? nil : link
    }

    public init(origin: ManifestOrigin, name: String, addresses: [CIDR] = [], mtu: Int? = nil, ports: [String] = [],
                madePorts: [DesiredBridgePort] = [], routes: [DesiredRoute] = [], acceptRA: Bool? = nil) {
        self.routes = routes
        self.acceptRA = acceptRA
        self.origin = origin
        self.name = name
        self.addresses = addresses
        self.mtu = mtu
        self.ports = ports
        self.madePorts = madePorts
    }
}

public struct DesiredNAT: Sendable, Codable, Equatable {
    public var origin: ManifestOrigin
    public var externalInterface: String
    public var internalInterfaces: [String]
    public var enableIPv6: Bool
    public var forwards: [DesiredForward]

    public init(origin: ManifestOrigin, externalInterface: String, internalInterfaces: [String], enableIPv6: Bool = false,
                forwards: [DesiredForward] = []) {
        self.origin = origin
        self.externalInterface = externalInterface
        self.internalInterfaces = internalInterfaces
        self.enableIPv6 = enableIPv6
        self.forwards = forwards
    }
}

public struct DesiredForward: Sendable, Codable, Equatable, Hashable {
    public var proto: TransportProtocol
    public var sourcePort: PortRange
    public var destination: IPAddress
    /// nil keeps the packet's own destination port.
    public var destinationPort: Int?
    public var loopback: Bool

    public init(proto: TransportProtocol, sourcePort: PortRange, destination: IPAddress, destinationPort: Int? = nil,
                loopback: Bool = false) {
        self.proto = proto
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
        self.loopback = loopback
    }

    /// `10.0.0.10:80`, `[fd12::10]:80`, or the bare address when the port is kept.
    public var destinationText: String {
        guard let destinationPort else { return destination.description }
        return destination.isIPv4 ? "\(destination):\(destinationPort)" : "[\(destination)]:\(destinationPort)"
    }
}

public struct DesiredMicroVM: Sendable, Codable, Equatable {
    public var origin: ManifestOrigin
    public var name: String
    public var vcpu: Int
    public var memoryMb: Int
    public var kernel: String?
    public var initrd: String?
    public var rootVolume: DesiredVolume?
    /// CAPMVM's additional volumes: more virtio-blk disks after the root one.
    public var additionalVolumes: [DesiredVolume] = []
    /// The container images its files are in (unpacked under the host's image root).
    public var imageReferences: [String] = []
    public var kernelCmdline: String
    public var vmm: VMMKind
    public var accelerator: Accelerator
    public var labels: [String: String]
    public var interfaces: [DesiredInterface]
    /// A stop asks the guest to power off and waits this long before the VMM is terminated (`spec.stopTimeoutSeconds`).
    public var stopTimeoutSeconds: Int
    /// The guest gets a cloud-init NoCloud disk with its network, hostname and SSH keys (`spec.cloudInit`).
    public var cloudInit: Bool = true
    public var sshPublicKeys: [GuestUserKeys] = []

    /// Every disk in the order the guest sees them: the root volume first, then the additional ones.
    public var volumes: [DesiredVolume] { (rootVolume.map { [$0] } ?? []) + additionalVolumes }

    /// The default wait for a guest to shut down: long enough for a distribution's shutdown with a disk sync.
    public static let defaultStopTimeoutSeconds = 30

    public init(origin: ManifestOrigin, name: String, vcpu: Int = 1, memoryMb: Int = 256, kernel: String? = nil,
                initrd: String? = nil, rootVolume: DesiredVolume? = nil, kernelCmdline: String = "",
                vmm: VMMKind = .qemuMicrovm, accelerator: Accelerator = .kvm, labels: [String: String] = [:],
                interfaces: [DesiredInterface] = [], stopTimeoutSeconds: Int = DesiredMicroVM.defaultStopTimeoutSeconds) {
        self.origin = origin
        self.stopTimeoutSeconds = stopTimeoutSeconds
        self.name = name
        self.vcpu = vcpu
        self.memoryMb = memoryMb
        self.kernel = kernel
        self.initrd = initrd
        self.rootVolume = rootVolume
        self.kernelCmdline = kernelCmdline
        self.vmm = vmm
        self.accelerator = accelerator
        self.labels = labels
        self.interfaces = interfaces
    }
}

public struct DesiredVolume: Sendable, Codable, Equatable {
    public var id: String
    public var path: String
    public var readOnly: Bool
    /// Where the guest mounts it (an additional volume's `mountPoint`, through cloud-init's `mounts`).
    public var mountPoint: String?
    /// The disk is a qcow2 layer over this raw file (an image's disk in the store): the VMM opens it read-only
    /// through the layer, so its sandbox needs it too. Set by the planner, never by a manifest.
    public var overlayOf: String?

    /// The disk a volume `image` stands for, in the image's directory under `Host.spec.imageRoot`.
    public static let imageDiskName = "disk.img"

    public init(id: String, path: String, readOnly: Bool, mountPoint: String? = nil) {
        self.id = id
        self.path = path
        self.readOnly = readOnly
        self.mountPoint = mountPoint
    }
}

public struct DesiredInterface: Sendable, Codable, Equatable {
    public var guestDeviceName: String
    public var type: NetworkInterfaceType
    /// The kernel link name on the host (given, or derived and at most 15 bytes).
    public var hostDeviceName: String
    public var mac: MACAddress
    /// The guest's addresses on this interface, IPv4 and IPv6, in manifest order.
    public var addresses: [CIDR]
    /// Default gateways handed to the guest, at most one per family: given in the manifest, or the bridge's own
    /// declared gateway on the guest's subnet (the guest sits on the LAN), or else the bridge's address there.
    public var gateways: [IPAddress]
    /// The addresses the guest gives itself by SLAAC when its bridge sends router advertisements (its MAC in
    /// each of the bridge's /64s): its own, as far as the guests' filter is concerned.
    public var slaacAddresses: [IPAddress] = []
    /// DNS handed to the guest: given, or the bridge's `nameservers`.
    public var nameservers: Nameservers?
    /// The tap's bridge port is isolated: it reaches the bridge and non-isolated ports (the uplink, the host),
    /// never another isolated port.
    public var isolated: Bool = false
    /// false: the tap's bridge port neither learns source MACs nor floods unknown unicast to the guest; a static
    /// forwarding entry for the guest's MAC takes learning's place (broadcast and multicast still reach it).
    public var learning: Bool = true
    /// The guest may send only from its own MAC and declared addresses, and no router advertisement or DHCP
    /// offer (GuestFilterPlanner). Resolution decides it (on unless the interface or the Host says otherwise;
    /// off for `vmm: none` unless asked); an interface built by hand starts without it.
    public var antiSpoofing: Bool = false
    /// Bandwidth limits at the guest's bridge port (tap only).
    public var rateLimit: RateLimit?
    public var bridge: String?
    public var parentInterface: String?
    public var macvtapMode: MacvtapMode
    /// `source` mode: the MACs whose frames the macvtap receives (IFLA_MACVLAN_MACADDR_DATA).
    public var sourceMACs: [MACAddress]

    public init(guestDeviceName: String, type: NetworkInterfaceType, hostDeviceName: String, mac: MACAddress,
                addresses: [CIDR] = [], gateways: [IPAddress] = [], nameservers: Nameservers? = nil, bridge: String? = nil,
                parentInterface: String? = nil, macvtapMode: MacvtapMode = .bridge, sourceMACs: [MACAddress] = []) {
        self.sourceMACs = sourceMACs
        self.guestDeviceName = guestDeviceName
        self.type = type
        self.hostDeviceName = hostDeviceName
        self.mac = mac
        self.addresses = addresses
        self.gateways = gateways
        self.nameservers = nameservers
        self.bridge = bridge
        self.parentInterface = parentInterface
        self.macvtapMode = macvtapMode
    }

    /// The first IPv4 address: the one `ip=` on the kernel command line can carry.
    public var ipv4Address: CIDR? { addresses.first { $0.address.isIPv4 } }
    public var ipv4Gateway: IPAddress? { gateways.first { $0.isIPv4 } }
}
