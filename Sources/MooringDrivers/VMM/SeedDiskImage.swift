import Foundation
import MooringModel
import MooringPlan

/// Lays out a `SeedDisk` as a 1 MiB FAT12 image: a volume label, and its files in the root directory under
/// their long (VFAT) names. Hand-written rather than run through mkfs.vfat and mtools: mooring runs no helper
/// programs (docs/reliability.md), and the layout needed is fixed and tiny (one sector per cluster, no
/// subdirectories, nothing fragmented). The same input always gives the same bytes.
public enum SeedDiskImage {
    static let sectorSize = 512
    static let totalSectors = 2048
    static let reservedSectors = 1
    static let fatCount = 2
    static let sectorsPerFAT = 6
    static let rootEntries = 512
    static var rootSectors: Int { rootEntries * 32 / sectorSize }
    static var firstDataSector: Int { reservedSectors + fatCount * sectorsPerFAT + rootSectors }
    /// 2003 clusters: below 4085, so every reader takes it for FAT12.
    static var clusterCount: Int { totalSectors - firstDataSector }

    public struct TooLarge: Error, CustomStringConvertible {
        public var bytes: Int
        public var description: String { "the seed disk's files take \(bytes) bytes; at most \(SeedDiskImage.clusterCount * SeedDiskImage.sectorSize) fit" }
    }

    public static func bytes(_ disk: SeedDisk) throws -> [UInt8] {
        var image = [UInt8](repeating: 0, count: totalSectors * sectorSize)
        let files = disk.files.map { (name: $0.path, data: Array($0.contents.utf8)) }
        let needed = files.reduce(0) { $0 + ($1.data.count + sectorSize - 1) / sectorSize }
        guard needed <= clusterCount, files.count * 4 + 1 <= rootEntries else {
            throw TooLarge(bytes: files.reduce(0) { $0 + $1.data.count })
        }
        let label = shortLabel(disk.label)
        // The volume serial: derived from the contents, so the same seed gives the same image.
        let serial = StableHash.fnv1a64(disk.files.map { $0.path + "\u{0}" + $0.contents }.joined(separator: "\u{1}"))
        writeBootSector(&image, label: label, serial: UInt32(truncatingIfNeeded: serial))

        var fat = [UInt8](repeating: 0, count: sectorsPerFAT * sectorSize)
        setFAT12(&fat, 0, 0xFF8)
        setFAT12(&fat, 1, 0xFFF)
        var directory: [[UInt8]] = [entry(name: label, attributes: 0x08, cluster: 0, size: 0)]
        var nextCluster = 2
        for (index, file) in files.enumerated() {
            let clusters = (file.data.count + sectorSize - 1) / sectorSize
            let first = clusters == 0 ? 0 : nextCluster
            for offset in 0..<clusters {
                let cluster = nextCluster + offset
                setFAT12(&fat, cluster, offset == clusters - 1 ? 0xFFF : cluster + 1)
                let start = (firstDataSector + cluster - 2) * sectorSize
                let chunk = file.data[(offset * sectorSize)..<min(file.data.count, (offset + 1) * sectorSize)]
                image.replaceSubrange(start..<(start + chunk.count), with: chunk)
            }
            nextCluster += clusters
            // An 8.3 alias the long name hangs on; readers show the long name.
            let alias = Array("SEED~\(index + 1)".utf8) + [UInt8](repeating: 0x20, count: 11 - "SEED~\(index + 1)".utf8.count)
            directory += longNameEntries(file.name, checksum: checksum(alias))
            directory.append(entry(name: alias, attributes: 0x21 /* read-only, archive */, cluster: first, size: file.data.count))
        }
        for copy in 0..<fatCount {
            let start = (reservedSectors + copy * sectorsPerFAT) * sectorSize
            image.replaceSubrange(start..<(start + fat.count), with: fat)
        }
        let rootStart = (reservedSectors + fatCount * sectorsPerFAT) * sectorSize
        let flat = directory.flatMap { $0 }
        image.replaceSubrange(rootStart..<(rootStart + flat.count), with: flat)
        return image
    }

    /// `cidata` as FAT stores a label: upper case, space-padded to 11 bytes.
    static func shortLabel(_ label: String) -> [UInt8] {
        let bytes = Array(label.uppercased().utf8.prefix(11))
        return bytes + [UInt8](repeating: 0x20, count: 11 - bytes.count)
    }

    private static func put16(_ image: inout [UInt8], _ offset: Int, _ value: Int) {
        image[offset] = UInt8(value & 0xff)
        image[offset + 1] = UInt8((value >> 8) & 0xff)
    }

    private static func put32(_ image: inout [UInt8], _ offset: Int, _ value: UInt32) {
        for byte in 0..<4 { image[offset + byte] = UInt8((value >> (8 * UInt32(byte))) & 0xff) }
    }

    private static func writeBootSector(_ image: inout [UInt8], label: [UInt8], serial: UInt32) {
        image.replaceSubrange(0..<3, with: [0xEB, 0x3C, 0x90])
        image.replaceSubrange(3..<11, with: Array("MOORING ".utf8))
        put16(&image, 11, sectorSize)
        image[13] = 1  // sectors per cluster
        put16(&image, 14, reservedSectors)
        image[16] = UInt8(fatCount)
        put16(&image, 17, rootEntries)
        put16(&image, 19, totalSectors)
        image[21] = 0xF8  // fixed disk
        put16(&image, 22, sectorsPerFAT)
        put16(&image, 24, 32)  // sectors per track, heads: geometry nobody reads, but mkfs fills it
        put16(&image, 26, 64)
        image[36] = 0x80
        image[38] = 0x29  // the extended boot signature: serial, label and type follow
        put32(&image, 39, serial)
        image.replaceSubrange(43..<54, with: label)
        image.replaceSubrange(54..<62, with: Array("FAT12   ".utf8))
        image[510] = 0x55
        image[511] = 0xAA
    }

    /// FAT12 packs two 12-bit entries into three bytes.
    static func setFAT12(_ fat: inout [UInt8], _ cluster: Int, _ value: Int) {
        let offset = cluster * 3 / 2
        if cluster % 2 == 0 {
            fat[offset] = UInt8(value & 0xff)
            fat[offset + 1] = (fat[offset + 1] & 0xf0) | UInt8((value >> 8) & 0x0f)
        } else {
            fat[offset] = (fat[offset] & 0x0f) | UInt8((value << 4) & 0xf0)
            fat[offset + 1] = UInt8((value >> 4) & 0xff)
        }
    }

    /// A 32-byte short directory entry, dated 2020-01-01 (a fixed date keeps the image reproducible).
    private static func entry(name: [UInt8], attributes: UInt8, cluster: Int, size: Int) -> [UInt8] {
        var entry = [UInt8](repeating: 0, count: 32)
        entry.replaceSubrange(0..<11, with: name)
        entry[11] = attributes
        let date = (2020 - 1980) << 9 | 1 << 5 | 1
        put16(&entry, 16, date)  // created
        put16(&entry, 18, date)  // accessed
        put16(&entry, 24, date)  // written
        put16(&entry, 26, cluster)
        put32(&entry, 28, UInt32(size))
        return entry
    }

    /// The checksum of the 8.3 alias that ties the long-name entries to it.
    static func checksum(_ alias: [UInt8]) -> UInt8 {
        alias.reduce(UInt8(0)) { sum, byte in ((sum & 1) << 7) &+ (sum >> 1) &+ byte }
    }

    /// VFAT long-name entries, 13 UTF-16 units each, last part first (its sequence number carries 0x40).
    static func longNameEntries(_ name: String, checksum: UInt8) -> [[UInt8]] {
        var units = Array(name.utf16)
        if units.count % 13 != 0 { units.append(0) }
        while units.count % 13 != 0 { units.append(0xFFFF) }
        let parts = units.count / 13
        var entries: [[UInt8]] = []
        for part in (0..<parts).reversed() {
            var entry = [UInt8](repeating: 0, count: 32)
            entry[0] = UInt8(part + 1) | (part == parts - 1 ? 0x40 : 0)
            entry[11] = 0x0F
            entry[13] = checksum
            let chunk = Array(units[(part * 13)..<(part * 13 + 13)])
            let offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
            for (unit, offset) in zip(chunk, offsets) {
                entry[offset] = UInt8(unit & 0xff)
                entry[offset + 1] = UInt8(unit >> 8)
            }
            entries.append(entry)
        }
        return entries
    }
}
