import MooringModel
import MooringPlan

/// Which changes a conflict holds back. One MicroVM with a renamed kernel, or one bridge whose name is taken
/// by a host interface, must not stop mooring from repairing everything else; but nothing that depends on
/// the conflicted object may run either, or it would fail half-way (a tap enslaved to a bridge that was
/// never created, a VMM started without its tap). Pure.
///
/// A change is held when it
/// - touches a conflict's resource (or one it `holds`),
/// - serves the same manifest (`group`) as a conflict or as another held change, or
/// - names a held link as its master, parent or underlay device.
/// These rules are applied until nothing more is held. Stale objects (group `stale`) and the guests' filter
/// (group `guestFilter`) share no single manifest, so they are held only by resource.
public enum ConflictScope {
    public static func split(_ changes: [Change], by conflicts: [Conflict]) -> (run: [Change], held: [Change]) {
        guard !conflicts.isEmpty else { return (changes, []) }
        var heldResources = Set(conflicts.map(\.resource) + conflicts.flatMap(\.holds))
        var heldGroups = Set(conflicts.map(\.group).filter(\.isManifest))
        var isHeld = [Bool](repeating: false, count: changes.count)
        var grew = true
        while grew {
            grew = false
            for (index, change) in changes.enumerated() where !isHeld[index] {
                let references = linksReferenced(by: change.operation).map(ResourceID.link)
                guard heldResources.contains(change.resource) || heldGroups.contains(change.group)
                    || references.contains(where: heldResources.contains) else { continue }
                isHeld[index] = true
                grew = true
                heldResources.insert(change.resource)
                if change.group.isManifest { heldGroups.insert(change.group) }
            }
        }
        let indexed = changes.enumerated()
        return (indexed.filter { !isHeld[$0.offset] }.map(\.element), indexed.filter { isHeld[$0.offset] }.map(\.element))
    }

    /// The other links an action needs to exist: a create's master, parent or underlay; a new master.
    static func linksReferenced(by action: Action) -> [String] {
        switch action {
        case let .createLink(_, _, master, _, config): return config.kind.references.map(\.link) + [master].compactMap { $0 }
        case let .setMaster(_, master): return [master].compactMap { $0 }
        default: return []
        }
    }
}
