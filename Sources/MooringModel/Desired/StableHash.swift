/// FNV-1a, 64-bit: a hash that is the same on every run and every machine, unlike `Hasher`,
/// so derived names, MACs and spec fingerprints never change between runs.
public enum StableHash {
    public static func fnv1a64(_ text: String) -> UInt64 {
        fnv1a64(bytes: Array(text.utf8))
    }

    public static func fnv1a64<Bytes: Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Lowercase hex of the hash, `digits` long (at most 16).
    public static func hex(_ text: String, digits: Int = 16) -> String {
        let full = String(fnv1a64(text), radix: 16)
        let padded = String(repeating: "0", count: 16 - full.count) + full
        return String(padded.prefix(digits))
    }
}
