import Foundation
import MooringModel
import MooringPlan

/// MicroVMs' own VMM users in systemd's runtime user database: JSON records in `/run/userdb` (`NAME.user`,
/// `NAME.group`, and `UID.user`, `GID.group` symlinks to them), which `libnss-systemd` serves to systemd when it
/// resolves a unit's `User=` and `Group=`. Written and removed by descriptor; read back to keep each VM's uid.
public enum UserDatabase {
    public static let directory = "/run/userdb"

    /// Whether systemd reads that database here: `systemd` on the passwd and group lines of /etc/nsswitch.conf.
    public static func isRead() -> Bool {
        guard let text = try? String(contentsOfFile: "/etc/nsswitch.conf", encoding: .utf8) else { return false }
        func serves(_ database: String) -> Bool {
            text.split(separator: "\n").contains { line in
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return words.first == "\(database):" && words.dropFirst().contains("systemd")
            }
        }
        return serves("passwd") && serves("group")
    }

    /// Ids of the VM identities' range that /etc/passwd or /etc/group hold (another tool's users and groups).
    public static func foreignIDs() -> [UInt32] {
        var ids: [UInt32] = []
        for file in ["/etc/passwd", "/etc/group"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.count > 2, let id = UInt32(fields[2]), id >= 0x6D6F_0000, id - 0x6D6F_0000 < 65536 { ids.append(id) }
            }
        }
        return ids
    }

    /// Each MicroVM's uid, from the records mooring wrote (`realName` names the VM).
    public static func observe() -> [String: UInt32] {
        guard let handle = try? DirectoryHandle.open(directory), let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            return [:]
        }
        var identities: [String: UInt32] = [:]
        for entry in entries where entry.hasPrefix("vm-") && entry.hasSuffix(".user") {
            guard let data = try? handle.read(entry, untrusted: true, limit: 4096), let record = JSONValue.parse(String(decoding: data, as: UTF8.self)),
                  let realName = record["realName"]?.string, realName.hasPrefix(UserRecord.realNamePrefix), let uid = record["uid"]?.int else { continue }
            let name = String(realName.dropFirst(UserRecord.realNamePrefix.count))
            if ResourceName.isValid(name), uid >= 0 { identities[name] = UInt32(uid) }
        }
        return identities
    }

    /// Writes `record` (and its group), replacing any earlier one of that name.
    public static func write(_ record: UserRecord) throws {
        let database = try DirectoryHandle.open(directory, createMode: 0o755)
        try database.replaceFile("\(record.name).user", contents: Array(record.userJSON.utf8), mode: 0o644)
        try database.replaceFile("\(record.name).group", contents: Array(record.groupJSON.utf8), mode: 0o644)
        try link(in: database, "\(record.uid).user", to: "\(record.name).user")
        try link(in: database, "\(record.gid).group", to: "\(record.name).group")
    }

    /// Removes the records of `microVM`'s user, if any.
    public static func remove(microVM: String, name: String) {
        guard let database = try? DirectoryHandle.open(directory),
              let data = try? database.read("\(name).user", untrusted: true, limit: 4096),
              let record = JSONValue.parse(String(decoding: data, as: UTF8.self)),
              record["realName"]?.string == UserRecord.realNamePrefix + microVM else { return }
        if let uid = record["uid"]?.int { try? database.remove("\(uid).user") }
        if let gid = record["gid"]?.int { try? database.remove("\(gid).group") }
        try? database.remove("\(name).user")
        try? database.remove("\(name).group")
    }

    private static func link(in database: DirectoryHandle, _ name: String, to target: String) throws {
        try database.remove(name)
        guard symlinkat(target, database.descriptor, name) == 0 else {
            throw DriverError("cannot link \(directory)/\(name): \(String(cString: strerror(errno)))")
        }
    }
}
