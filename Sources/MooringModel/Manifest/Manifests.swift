/// Where a manifest document came from; printed as `Kind "name" (file:line:column)`.
public struct ManifestOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    public var kind: ManifestKind
    public var name: String
    public var location: SourceLocation

    public init(kind: ManifestKind, name: String, location: SourceLocation) {
        self.kind = kind
        self.name = name
        self.location = location
    }

    /// `MicroVM "web-1"`
    public var subject: String { "\(kind.rawValue) \"\(name)\"" }
    /// `MicroVM/web-1`, the form used in link aliases and rule comments.
    public var reference: String { "\(kind.rawValue)/\(name)" }
    public var description: String { "\(subject) (\(location))" }
}

/// One decoded document: its header and the spec of its kind.
public struct Manifest: Sendable {
    public var origin: ManifestOrigin
    public var labels: [String: String]
    public var nameLocation: SourceLocation
    /// `spec.hosts`: the hosts this document applies to; nil means every host.
    public var hosts: [Located<String>]?
    /// `spec.hostSelector`: labels a host must carry for this document to apply to it.
    public var hostSelector: [String: String]?

    /// Whether this document applies to a host with this name and these labels.
    public func applies(toHost name: String, labels: [String: String]) -> Bool {
        if let hosts, !hosts.contains(where: { $0.value == name }) { return false }
        if let hostSelector, !hostSelector.allSatisfy({ labels[$0.key] == $0.value }) { return false }
        return true
    }
    public var spec: ManifestSpec
}

/// Indirect: a MicroVM's spec is hundreds of bytes and dozens of references; the validator copies manifests into
/// per-kind lists, which boxed is a retain each instead of a copy of the whole spec (docs/performance.md).
public indirect enum ManifestSpec: Sendable {
    case host(HostSpec)
    case bridge(BridgeSpec)
    case nat(NATSpec)
    case microVM(MicroVMSpec)
}

public struct HostSpec: Sendable {
    /// Where container images named in MicroVMs are unpacked: `<imageRoot>/<image>/<filename>`.
    public var imageRoot: Located<String>?
    /// The default of every tap's `antiSpoofing` (on unless this says false).
    public var antiSpoofing: Located<Bool>?
    public var parentInterface: Located<String>?
    public var defaultBridge: Located<String>?
    public var vmm: Located<VMMKind>?
    public var accelerator: Located<Accelerator>?
}

public struct BridgeSpec: Sendable {
    public var addresses: [Located<CIDR>] = []
    public var mtu: Located<Int>?
    public var ports: [Located<String>] = []
    /// The ports mooring makes for it (`vxlan`, `vlan`: `BridgePortKind`), beside `ports`, the host's own.
    public var madePorts: [BridgePortSpec] = []
    /// `routes` and the `gateways` shorthand (default routes), in manifest order.
    public var routes: [DesiredRoute] = []
    /// `acceptRA`: whether the bridge takes IPv6 router advertisements (the host's own uplink in a bridge).
    public var acceptRA: Bool?
    /// `nameservers`: DNS for the bridge's link, through systemd-resolved.
    public var nameservers: Nameservers?
    /// `dhcpServer`, `ipv6SendRA`: what the bridge serves its guests (dnsmasq), and where the manifest says so.
    public var dhcpServer: Located<DHCPServer>?
    public var ipv6SendRA: Located<RouterAdvertisements>?
}

public struct NATSpec: Sendable {
    public var externalInterface: Located<String>
    public var internalInterfaces: [Located<String>]
    public var enableIPv6: Bool
    public var forwardPorts: [ForwardPortSpec]
}

public struct ForwardPortSpec: Sendable {
    public var proto: TransportProtocol
    public var sourcePort: PortRange
    public var destination: IPAddress
    /// nil keeps the packet's destination port.
    public var destinationPort: Int?
    public var loopback: Bool
    public var location: SourceLocation
    public var path: String
    public var destinationLocation: SourceLocation
}

/// A host file the VMM reads, given as a path or as CAPMVM's `{image, filename}`.
/// A file a MicroVM uses: a host path, or a file inside a container image unpacked under `Host.spec.imageRoot`.
public enum FileSourceSpec: Sendable {
    case hostPath(Located<String>)
    /// `file` is relative to the unpacked image's directory.
    case image(reference: Located<String>, file: Located<String>)
}

public struct BootFileSpec: Sendable {
    public var source: FileSourceSpec
}

/// `rootVolume` or an entry of `volumes` (CAPMVM's `Volume`).
public struct VolumeSpec: Sendable {
    public var id: String?
    public var source: FileSourceSpec?
    public var readOnly: Bool
    public var mountPoint: String?
}

public struct NetworkInterfaceSpec: Sendable {
    public var guestDeviceName: Located<String>
    public var type: Located<NetworkInterfaceType>
    public var guestMac: Located<MACAddress>?
    /// `address` and `addresses` together, IPv4 and IPv6.
    public var addresses: [Located<CIDR>]
    /// `gateways`: given explicitly (otherwise derived from the bridge).
    public var gateways: [Located<IPAddress>]
    public var nameservers: Nameservers?
    /// `isolated`: the tap's bridge port may talk to non-isolated ports only (IFLA_BRPORT_ISOLATED).
    public var isolated: Bool
    /// `learning`: false turns MAC learning and unknown-unicast flooding off on the tap's port, with a static
    /// forwarding entry for the guest's MAC instead.
    public var learning: Bool = true
    /// `antiSpoofing`: nil takes the Host's default.
    public var antiSpoofing: Bool?
    public var rateLimit: RateLimit?
    public var bridge: Located<String>?
    public var parentInterface: Located<String>?
    public var macvtapMode: MacvtapMode
    /// `source` mode: the MACs whose frames the macvtap receives.
    public var sourceMACs: [MACAddress]
    public var hostDeviceName: Located<String>?
    public var location: SourceLocation
    public var path: String
}

public struct MicroVMSpec: Sendable {
    public var vcpu: Located<Int>?
    public var memoryMb: Located<Int>?
    public var kernel: BootFileSpec?
    public var initrd: BootFileSpec?
    public var rootVolume: VolumeSpec?
    /// CAPMVM's `volumes` (AdditionalVolumes).
    public var volumes: [VolumeSpec]
    public var kernelCmdline: String
    public var vmm: Located<VMMKind>?
    /// How long a stop waits for the guest to power off before the VMM is terminated.
    public var stopTimeoutSeconds: Located<Int>?
    public var labels: [String: String]
    /// Hand the guest its configuration on a cloud-init NoCloud disk (`cidata`).
    public var cloudInit: Bool
    public var sshPublicKeys: [GuestUserKeys]
    public var networkInterfaces: [NetworkInterfaceSpec]
    public var specLocation: SourceLocation
    /// Fields written in the document, valid or not, so a bad value is not also reported as missing.
    public var writtenFields: Set<String>
}
