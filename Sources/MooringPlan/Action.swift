import MooringModel

/// One idempotent step a driver executes. Plans are lists of these, so they can be printed, saved,
/// reviewed and executed later exactly as shown.
public enum Action: Sendable, Equatable {
    // Links. A create carries the link's whole configuration: the driver sends the create and the
    // settings (alias, master, MTU, up) in one netlink buffer, so a kill never leaves an unmarked link.
    // What each kind adds is its `LinkConfig` (LinkKinds/).
    case createLink(name: String, alias: String, master: String?, mtu: Int?, config: LinkConfig)
    case setMaster(link: String, master: String?)
    case setMTU(link: String, mtu: Int)
    /// Sets a bridge's MTU so that it stays: the driver steps through a neighbouring value first, because the
    /// kernel lets a bridge follow its ports' MTUs unless its own was *changed* by a user, and setting the
    /// value it already has (a bridge that followed its ports there) changes nothing and pins nothing.
    case pinBridgeMTU(link: String, mtu: Int)
    case setMAC(link: String, mac: MACAddress)
    case setUp(link: String)
    case setAlias(link: String, alias: String)
    /// A bridge port's isolation (IFLA_BRPORT_ISOLATED): isolated ports cannot reach each other.
    case setPortIsolation(link: String, isolated: Bool)
    /// A bridge port's MAC learning and unknown-unicast flooding, both on or both off (IFLA_BRPORT_LEARNING,
    /// IFLA_BRPORT_UNICAST_FLOOD).
    case setPortLearning(link: String, learning: Bool)
    /// A static forwarding entry in the port's bridge: frames for `mac` go out of `link`, and no other port takes
    /// it over (`bridge fdb replace MAC dev LINK master static sticky`).
    case addStaticFDB(link: String, mac: MACAddress)
    case deleteStaticFDB(link: String, mac: MACAddress)
    case deleteLink(name: String)
    case addAddress(link: String, address: CIDR)
    case removeAddress(link: String, address: CIDR)
    /// One of mooring's routes (marked with `DesiredRoute.mooringProtocol`), out of `link`.
    case addRoute(link: String, route: DesiredRoute)
    case deleteRoute(link: String, route: DesiredRoute)
    // nftables: the whole `inet mooring` table is replaced in one transaction, never edited rule by rule.
    case replaceNftTable(NftTable)
    case deleteNftTable
    /// A guests' filter, `bridge mooring` (taps) or `netdev mooring` (macvtaps), replaced as a whole
    /// (GuestFilterPlanner; the table says its family), or deleted.
    case replaceGuestFilter(NftTable)
    case deleteGuestFilter(family: String)
    case setSysctl(name: String, value: String)
    /// DNS servers and search domains of a link, in systemd-resolved (empty: forget them).
    case setNameservers(link: String, nameservers: Nameservers)
    // Images: pulled by digest into the store under the image root (skopeo, umoci), before the units that use them.
    case fetchImage(ImageFetch)
    /// A MicroVM's writable layer over an image's disk, made before its unit starts.
    case createVMDisk(VMDiskLayer)
    /// Removes a file or directory of the image store that nothing wants any more (a digest no manifest names, a
    /// layer over an image the VM no longer uses). `path` is always inside `<root>/.digests` or `<root>/.vm-disks`.
    case deleteFromImageStore(root: String, path: String)
    // MicroVMs: transient units. A restart stops the unit and starts it with the (new) spec.
    case startUnit(UnitSpec)
    case restartUnit(UnitSpec)
    /// Stops a unit; `runDirectory` (its console, log, configs) is removed too when its MicroVM is gone.
    case stopUnit(name: String, runDirectory: String?)

    /// The link this operation is about, for links.
    public var linkName: String? {
        switch self {
        case let .createLink(name, _, _, _, _), let .deleteLink(name):
            return name
        case let .setMaster(link, _), let .setMTU(link, _), let .pinBridgeMTU(link, _), let .setMAC(link, _), let .setUp(link),
             let .setAlias(link, _), let .setPortIsolation(link, _), let .setPortLearning(link, _), let .addStaticFDB(link, _),
             let .deleteStaticFDB(link, _), let .addAddress(link, _), let .removeAddress(link, _), let .addRoute(link, _),
             let .deleteRoute(link, _):
            return link
        case .replaceNftTable, .deleteNftTable, .replaceGuestFilter, .deleteGuestFilter, .setSysctl, .setNameservers,
             .startUnit, .restartUnit, .stopUnit, .fetchImage, .createVMDisk, .deleteFromImageStore:
            return nil
        }
    }
}

extension Action {
    /// The case's name, as the plan's JSON `operation.type` shows it.
    public var typeName: String {
        switch self {
        case .createLink: return "createLink"
        case .setMaster: return "setMaster"
        case .setMTU: return "setMTU"
        case .pinBridgeMTU: return "pinBridgeMTU"
        case .setMAC: return "setMAC"
        case .setUp: return "setUp"
        case .setAlias: return "setAlias"
        case .setPortIsolation: return "setPortIsolation"
        case .setPortLearning: return "setPortLearning"
        case .addStaticFDB: return "addStaticFDB"
        case .deleteStaticFDB: return "deleteStaticFDB"
        case .deleteLink: return "deleteLink"
        case .addAddress: return "addAddress"
        case .removeAddress: return "removeAddress"
        case .addRoute: return "addRoute"
        case .deleteRoute: return "deleteRoute"
        case .replaceNftTable: return "replaceNftTable"
        case .deleteNftTable: return "deleteNftTable"
        case .replaceGuestFilter: return "replaceGuestFilter"
        case .deleteGuestFilter: return "deleteGuestFilter"
        case .setSysctl: return "setSysctl"
        case .setNameservers: return "setNameservers"
        case .startUnit: return "startUnit"
        case .restartUnit: return "restartUnit"
        case .stopUnit: return "stopUnit"
        case .fetchImage: return "fetchImage"
        case .createVMDisk: return "createVMDisk"
        case .deleteFromImageStore: return "deleteFromImageStore"
        }
    }

    /// Actions the netlink driver executes (batched together).
    public var isLinkAction: Bool { linkName != nil }

    /// Starts (or restarts) of units, which the systemd driver runs together and then watches settle.
    public var unitToStart: UnitSpec? {
        switch self {
        case let .startUnit(spec), let .restartUnit(spec): return spec
        default: return nil
        }
    }
}
