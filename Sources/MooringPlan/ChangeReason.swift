import MooringModel

/// Why a change is in the plan, as data: the planner decides which reason applies, MooringReports words it
/// (`ChangeReason.text`) and JSON carries both its `code` and the words. One case per distinct cause, so a
/// report, an alert or a test can tell causes apart without parsing sentences.
public enum ChangeReason: Sendable, Equatable {
    // Declared or not.
    /// The manifest (or, for a field, the manifest's field) asks for it.
    case declared(ChangeGroup, field: String? = nil)
    /// Several manifests make it together (the NAT table): their subjects, `NAT "egress"`.
    case declaredBy([String])
    /// The manifest has no such thing any more (an address, a route): `not in Bridge "br0"`.
    case notDeclared(ChangeGroup)
    /// Nothing in the manifests wants what mooring owns.
    case noLongerInManifests
    /// Something mooring made but a killed run never marked as its own.
    case leftUnmarked
    /// The manifests no longer need one of mooring's shared tables.
    case noManifestNeedsIt
    /// A manifest setting in force, e.g. `spec.networkInterfaces isolated: true`.
    case setting(String, value: String)
    /// A manifest leaves a setting unset, which means its empty value (`declares no nameservers`).
    case unsetIn(ChangeGroup, field: String)

    // Links.
    /// A field differs from what the manifest says (`mtu differs from Bridge "br0"`).
    case differs(field: String, from: ChangeGroup?)
    /// Bridge MACs are derived from the host's identity now; a once-only change.
    case perHostBridgeMAC
    case notAttachedToItsBridge
    case linkDown
    /// The link's alias names another owner.
    case ownerChanged
    /// Ports leave a bridge whose MTU only followed them: it is pinned first.
    case portsLeaveBridge([String])
    /// The kernel cannot change these fields of a link in place; it is deleted and made again.
    case cannotChangeInPlace(String)
    case recreated(String)
    /// A static FDB entry for the guest's MAC stands in for learning.
    case guestMACInPlaceOfLearning
    case listedAsPort(ChangeGroup)
    case notListedAsPort(ChangeGroup)
    case bridgePortMustBeUp
    /// A host port's address moves to the bridge that enslaves it.
    case portAddressMovesToBridge(ChangeGroup, address: String, port: String)
    /// Routes out of a link that became a bridge port no longer reach anything.
    case portRoutesStranded(port: String, bridge: String)

    // NAT and the guests' filter.
    case forwardingNeededForNAT
    case liveTableDiffers
    case guestFilter(antiSpoofing: Bool, rateLimits: Bool)

    // MicroVMs.
    /// The unit failed or is restarting; its failure and last output, in the VMM's own words.
    case vmmFailed(failure: String?, lastOutput: [String])
    case notRunning
    case guestVisibleSpecChanged
    /// Its network devices are made again, and the VMM holds the old ones.
    case devicesRecreated
    case restartRequested
    /// The reference's tag resolves to another digest than the one the host has.
    case imageMoved(from: String, to: String)
    /// An image's disk that a MicroVM writes to: its own layer, made before it starts.
    case ownDiskLayer
    /// A file mooring writes for a unit (a bridge's dnsmasq.conf) differs from what it wrote.
    case configurationEdited

    // apply --try.
    case undoingTrial

    /// A stable identifier for machines (JSON's `reasonCode`), one per case.
    public var code: String {
        switch self {
        case .declared: return "declared"
        case .declaredBy: return "declared"
        case .notDeclared: return "not-declared"
        case .noLongerInManifests: return "no-longer-in-manifests"
        case .leftUnmarked: return "left-unmarked"
        case .noManifestNeedsIt: return "no-manifest-needs-it"
        case .setting: return "setting"
        case .unsetIn: return "unset"
        case .differs: return "differs"
        case .perHostBridgeMAC: return "per-host-bridge-mac"
        case .notAttachedToItsBridge: return "not-attached"
        case .linkDown: return "link-down"
        case .ownerChanged: return "owner-changed"
        case .portsLeaveBridge: return "ports-leave-bridge"
        case .cannotChangeInPlace: return "cannot-change-in-place"
        case .recreated: return "recreated"
        case .guestMACInPlaceOfLearning: return "static-fdb-for-guest"
        case .listedAsPort: return "listed-as-port"
        case .notListedAsPort: return "not-listed-as-port"
        case .bridgePortMustBeUp: return "port-must-be-up"
        case .portAddressMovesToBridge: return "port-address-moves"
        case .portRoutesStranded: return "port-routes-stranded"
        case .forwardingNeededForNAT: return "forwarding-for-nat"
        case .liveTableDiffers: return "table-differs"
        case .guestFilter: return "guest-filter"
        case .vmmFailed: return "vmm-failed"
        case .notRunning: return "not-running"
        case .guestVisibleSpecChanged: return "spec-changed"
        case .devicesRecreated: return "devices-recreated"
        case .restartRequested: return "restart-requested"
        case .imageMoved: return "image-moved"
        case .ownDiskLayer: return "own-disk-layer"
        case .configurationEdited: return "configuration-edited"
        case .undoingTrial: return "undoing-trial"
        }
    }
}
