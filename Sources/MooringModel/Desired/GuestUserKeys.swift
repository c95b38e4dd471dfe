/// SSH public keys a guest user is given (CAPMVM's `sshPublicKeys` entry), through the guest's cloud-init.
public struct GuestUserKeys: Sendable, Codable, Equatable, Hashable {
    public var user: String
    public var authorizedKeys: [String]

    public init(user: String, authorizedKeys: [String]) {
        self.user = user
        self.authorizedKeys = authorizedKeys
    }

    /// A POSIX-ish user name as useradd takes it.
    public static func isValidUser(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), bytes[0] == 0x5f || (0x61...0x7a).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f || $0 == 0x2d }
    }

    /// One line of `authorized_keys` without options: a key type, base64, an optional comment.
    public static func isValidKey(_ key: String) -> Bool {
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return false }
        let parts = key.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2 else { return false }
        let types = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                     "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]
        return types.contains(String(parts[0]))
            && parts[1].unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "+/=".unicodeScalars.contains($0) }
    }
}
