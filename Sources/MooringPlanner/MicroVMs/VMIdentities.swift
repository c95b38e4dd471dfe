import MooringModel
import MooringPlan

/// One identity per MicroVM: each VMM runs as a uid (and gid) of its own, which owns only that VM's taps, the
/// group of its run directory and its writable disks, so no VMM can see, signal, connect to, open or attach to
/// another's (firecracker's jailer takes `--uid/--gid` per VM for the same reason).
///
/// The uids come from a range of mooring's, `base` + 0..<65536, inside the block systemd leaves to containers
/// (524288-1879048191). A VM keeps the uid it has (its user record in systemd's runtime user database,
/// `/run/userdb`, observed); a new one takes the first free slot from a hash of its name, so the same manifests
/// give the same uids on every host and after a reboot, and adding a VM never moves another's. No state of
/// mooring's: the records are systemd's, made again by the next run if lost.
///
/// Only under the system manager, and only where the user database is read through `libnss-systemd` (systemd
/// must resolve `User=` and the group); otherwise every VMM runs as the shared `mooring-vmm` user, with a warning.
public enum VMIdentities {
    public static let base: UInt32 = 0x6D6F_0000  // "mo": 1836974080
    public static let size: UInt32 = 65536

    public static func contains(_ uid: UInt32) -> Bool { uid >= base && uid - base < size }

    /// The identity each MicroVM's VMM runs as, by VM name; empty when VMMs share `shared` (a user manager, no
    /// user database).
    public static func allocate(_ desired: DesiredState, observed: ObservedState) -> [String: VMMIdentity] {
        guard let shared = observed.capabilities.vmmIdentity, shared.user != nil, observed.capabilities.userDatabase else { return [:] }
        let names = desired.microVMs.filter { $0.vmm != .none }.map(\.name).sorted()
        var taken = Set(observed.capabilities.foreignIDs)
        var uids: [String: UInt32] = [:]
        // What runs keeps its uid.
        for name in names {
            if let uid = observed.vmIdentities[name], contains(uid), !taken.contains(uid) {
                uids[name] = uid
                taken.insert(uid)
            }
        }
        for name in names where uids[name] == nil {
            var slot = UInt32(truncatingIfNeeded: StableHash.fnv1a64(name)) % size
            while taken.contains(base + slot) { slot = (slot + 1) % size }
            uids[name] = base + slot
            taken.insert(base + slot)
        }
        var identities: [String: VMMIdentity] = [:]
        for (name, uid) in uids {
            // Its own group first; then the shared group (files the operator gave the VMMs to read) and kvm.
            identities[name] = VMMIdentity(user: userName(forMicroVM: name), uid: uid, gid: uid,
                                           supplementaryGroups: [SystemdNames.vmmUser] + shared.supplementaryGroups,
                                           supplementaryGIDs: [shared.gid] + shared.supplementaryGIDs)
        }
        return identities
    }

    /// `vm-<name>`, or for a name too long for a user name (31 characters) its first 18 characters and a hash.
    public static func userName(forMicroVM name: String) -> String {
        let full = "vm-" + name
        if full.count <= 31 { return full }
        let hash = String(StableHash.fnv1a64(name) & 0xffff_ffff, radix: 16)
        return "vm-" + name.prefix(18) + "-" + String(repeating: "0", count: 8 - hash.count) + hash
    }

    /// The user record systemd reads for `identity` (`/run/userdb/NAME.user`, JSON user records).
    public static func record(_ identity: VMMIdentity, microVM: String) -> UserRecord {
        UserRecord(name: identity.user ?? userName(forMicroVM: microVM), uid: identity.uid, gid: identity.gid,
                   realName: UserRecord.realNamePrefix + microVM)
    }
}

/// Who each MicroVM's VMM runs as: its own identity where it has one, else the shared one.
public struct VMMIdentityMap: Sendable, Equatable {
    public var shared: VMMIdentity?
    public var own: [String: VMMIdentity]

    public init(shared: VMMIdentity?, own: [String: VMMIdentity] = [:]) {
        self.shared = shared
        self.own = own
    }

    public func identity(of microVM: String) -> VMMIdentity? { own[microVM] ?? shared }

    /// The identities the plan of `desired` on `observed` gives the VMMs.
    public static func of(_ desired: DesiredState, _ observed: ObservedState) -> VMMIdentityMap {
        VMMIdentityMap(shared: observed.capabilities.vmmIdentity, own: VMIdentities.allocate(desired, observed: observed))
    }
}
