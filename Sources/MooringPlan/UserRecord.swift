/// A MicroVM's own VMM user as systemd's user database holds it: a JSON user record and group record in
/// `/run/userdb` (by name, and by number as a symlink), which systemd reads through `libnss-systemd` to resolve
/// the unit's `User=` and `Group=`. Runtime state of systemd's, not mooring's: gone at reboot, as transient units.
public struct UserRecord: Sendable, Equatable, Codable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    /// Names the VM (`mooring MicroVM web`), so observation maps a record back to it.
    public var realName: String
    public static let realNamePrefix = "mooring MicroVM "

    public init(name: String, uid: UInt32, gid: UInt32, realName: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.realName = realName
    }

    /// The user record (systemd's JSON user records: a locked system user with no home and no shell).
    public var userJSON: String {
        #"{"userName":"\#(name)","uid":\#(uid),"gid":\#(gid),"realName":"\#(realName)","homeDirectory":"/","shell":"/usr/sbin/nologin","locked":true}"#
            + "\n"
    }

    public var groupJSON: String { #"{"groupName":"\#(name)","gid":\#(gid)}"# + "\n" }
}
