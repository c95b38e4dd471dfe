import MooringModel
import MooringPlan

/// The words for each `ChangeReason`: the planner says which cause applies, this says it to people (JSON's
/// `reason`, the text report's `--verbose` lines).
extension ChangeReason {
    public var text: String {
        switch self {
        case let .declared(group, field): return "declared in \(group)" + (field.map { " \($0)" } ?? "")
        case let .declaredBy(subjects): return "declared in \(subjects.joined(separator: ", "))"
        case let .notDeclared(group): return "not in \(group)"
        case .noLongerInManifests: return "no longer in manifests"
        case .leftUnmarked: return "left unmarked by an interrupted run"
        case .noManifestNeedsIt: return "no manifest needs it"
        case let .setting(path, value): return "\(path): \(value)"
        case let .unsetIn(group, field): return "\(group) declares no \(field)"
        case let .differs(field, group): return "\(field) differs from " + (group.map(\.description) ?? "the manifest")
        case .perHostBridgeMAC: return "bridge MACs are derived per host now (the host's identity and the bridge's name)"
        case .notAttachedToItsBridge: return "not attached to its bridge"
        case .linkDown: return "the link is down"
        case .ownerChanged: return "the link's owner changed"
        case let .portsLeaveBridge(ports):
            return "\(ports.joined(separator: ", ")) leave\(ports.count == 1 ? "s" : "") the bridge"
        case let .cannotChangeInPlace(what): return "\(what) cannot change in place"
        case let .recreated(what): return "recreated: \(what)"
        case .guestMACInPlaceOfLearning: return "the guest's MAC, in place of learning"
        case let .listedAsPort(group): return "listed in \(group) spec.ports"
        case let .notListedAsPort(group): return "not in \(group) spec.ports"
        case .bridgePortMustBeUp: return "a bridge port must be up to forward"
        case let .portAddressMovesToBridge(group, address, port):
            return "\(group) carries \(address) and enslaves \(port): a bridge port's own addresses no longer reach the host"
        case let .portRoutesStranded(port, bridge):
            return "\(port) is a port of bridge \(bridge) now: routes out of it no longer reach anything"
        case .forwardingNeededForNAT: return "NAT needs forwarding in this namespace"
        case .liveTableDiffers: return "the live table differs from the manifests"
        case let .guestFilter(antiSpoofing, rateLimits):
            switch (antiSpoofing, rateLimits) {
            case (true, true): return "the guests' anti-spoofing filter and rate limits (spec.networkInterfaces antiSpoofing, rateLimit)"
            case (false, true): return "the guests' rate limits (spec.networkInterfaces rateLimit)"
            default: return "the guests' anti-spoofing filter (spec.networkInterfaces antiSpoofing)"
            }
        case let .vmmFailed(failure, lastOutput):
            return "the VMM failed" + (failure.map { " (\($0))" } ?? "")
                + (lastOutput.isEmpty ? "" : "; its last output: " + lastOutput.joined(separator: " | "))
        case .notRunning: return "the MicroVM is not running"
        case .guestVisibleSpecChanged: return "the manifest changed the VMM's command line"
        case .devicesRecreated: return "the VMM holds the old devices"
        case .restartRequested: return "asked for by `mooring restart`"
        case let .imageMoved(from, to): return "the tag moved from \(from) to \(to)"
        case .configurationEdited: return "its configuration file differs from the one mooring wrote (edited by hand)"
        case .ownDiskLayer: return "the MicroVM writes to the image's disk: it gets a layer of its own, the image stays as it is"
        case .undoingTrial: return "undoing the trial"
        }
    }
}
