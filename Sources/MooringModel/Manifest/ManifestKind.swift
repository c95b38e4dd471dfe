/// The kinds of document mooring understands, in the order reports list them.
public enum ManifestKind: String, CaseIterable, Sendable, Codable, Comparable {
    case host = "Host"
    case bridge = "Bridge"
    case nat = "NAT"
    case microVM = "MicroVM"

    public static let apiVersion = "mooring.dev/v1alpha1"

    public static func < (lhs: ManifestKind, rhs: ManifestKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which program runs a MicroVM; `none` leaves that to another tool (Flintlock, microvm.nix).
public enum VMMKind: String, CaseIterable, Sendable, Codable {
    case qemuMicrovm = "qemu-microvm"
    case cloudHypervisor = "cloud-hypervisor"
    case firecracker
    case none

    /// The executable that runs it, looked up on PATH; nil for `none`.
    public var program: String? {
        switch self {
        case .qemuMicrovm: return "qemu-system-x86_64"
        case .cloudHypervisor: return "cloud-hypervisor"
        case .firecracker: return "firecracker"
        case .none: return nil
        }
    }

    /// Whether it reads a qcow2 layer over a raw image disk (a VM's own layer of a pulled image); one that
    /// does not gets a copy. QEMU does; cloud-hypervisor only from v51 and with backing_files=on, firecracker not at all.
    public var readsQcow2Layers: Bool {
        switch self {
        case .qemuMicrovm: return true
        case .cloudHypervisor, .firecracker, .none: return false
        }
    }
}

public enum Accelerator: String, CaseIterable, Sendable, Codable {
    case kvm
    case tcg
}

public enum NetworkInterfaceType: String, CaseIterable, Sendable, Codable {
    case tap
    case macvtap
}

public enum MacvtapMode: String, CaseIterable, Sendable, Codable {
    case bridge, vepa, `private`, passthru, source
}

public enum TransportProtocol: String, CaseIterable, Sendable, Codable {
    case tcp, udp
}
