import Foundation
import MooringModel
import MooringPlan

/// Executes the image store's actions. Every step writes under a name no reader trusts (`.partial-*`) and
/// renames into place, so a run killed half-way leaves nothing a later run would take for a finished image:
/// a digest's directory exists only once complete, a disk or a layer only once written.
public enum ImageStoreWriter {
    public static func fetch(_ fetch: ImageFetch, showProgress: Bool) throws {
        guard ImageReference.isDigest(fetch.digest) else { throw DriverError("\(fetch.digest) is not a sha256 digest") }
        let digests = "\(fetch.root)/\(ImageStore.digestsDirectory)"
        try makeDirectories(digests)
        removeLeftovers(in: digests)
        let partial = "\(digests)/.partial-\(fetch.digest.dropFirst(7).prefix(12))-\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        try makeDirectories(partial, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let directory = fetch.directory
        if access(directory, F_OK) != 0 {
            // By digest: skopeo checks the manifest against it, umoci every blob against the manifest.
            var copy = ["skopeo", "copy", "--retry-times", "2"]
            if !showProgress { copy.append("--quiet") }
            if fetch.plainHTTP { copy.append("--src-tls-verify=false") }
            copy += ["docker://\(ImageReference(fetch.reference).byDigest(fetch.digest))", "oci:\(partial)/layout:image"]
            try HelperProgram.run(copy, showProgress: showProgress)
            try HelperProgram.run(["umoci", "raw", "unpack", "--image", "\(partial)/layout:image", "\(partial)/rootfs"])
            // Readable to the VMMs' users (umoci keeps the image's own mode of /, often 0700); never writable.
            chmod("\(partial)/rootfs", 0o755)
            try defuse("\(partial)/rootfs")
            if fetch.makeDisk { try makeDisk(from: "\(partial)/rootfs", at: "\(partial)/disk.img", into: "\(partial)/rootfs") }
            try rename(from: "\(partial)/rootfs", to: directory)
        } else if fetch.makeDisk, access("\(directory)/\(DesiredVolume.imageDiskName)", F_OK) != 0 {
            try makeDisk(from: directory, at: "\(partial)/disk.img", into: directory)
        }
        try link(reference: fetch.reference, root: fetch.root, to: directory)
    }

    /// An image is the registry's, not root's: what it could do on the host once unpacked there is taken away.
    /// Device nodes (a world-writable `sda` in the store would be any local user's disk), FIFOs and sockets are
    /// removed; setuid, setgid and sticky bits and write permission for group and others are cleared. Symlinks stay
    /// (a guest's file system has them; `disk.img` keeps them as they are), and are never followed here: every
    /// entry is looked at with lstat, and only regular files and directories are changed. Where a MicroVM's file
    /// is a symlink that leads out of its image, the unit is refused at start (SystemdDriver.checkImageFiles).
    static func defuse(_ tree: String) throws {
        guard let entries = FileManager.default.enumerator(atPath: tree) else { return }
        while let entry = entries.nextObject() as? String {
            let path = "\(tree)/\(entry)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG, S_IFDIR:
                let mode = info.st_mode & 0o7777
                let safe = mode & ~(S_ISUID | S_ISGID | S_ISVTX | 0o022)
                if safe != mode, chmod(path, safe) != 0 {
                    throw DriverError("cannot take the special bits off \(path): \(String(cString: strerror(errno)))")
                }
            case S_IFLNK:
                continue
            default:
                guard unlink(path) == 0 else { throw DriverError("cannot remove the device or pipe \(path): \(String(cString: strerror(errno)))") }
            }
        }
    }

    /// The image's file system as an ext4 disk (`mkfs.ext4 -d`), sized to its contents with room to grow;
    /// an image that brings its own `disk.img` keeps it.
    static func makeDisk(from tree: String, at partialDisk: String, into directory: String) throws {
        let final = "\(directory)/\(DesiredVolume.imageDiskName)"
        guard access(final, F_OK) != 0 else { return }
        let used = treeSize(tree)
        let size = max(64 << 20, used + used / 4 + (32 << 20))
        FileManager.default.createFile(atPath: partialDisk, contents: nil, attributes: [.posixPermissions: 0o644])
        guard truncate(partialDisk, off_t((size + (1 << 20) - 1) & ~((1 << 20) - 1))) == 0 else {
            throw DriverError("cannot size \(partialDisk): \(String(cString: strerror(errno)))")
        }
        try HelperProgram.run(["mkfs.ext4", "-q", "-F", "-L", "root", "-E", "root_owner=0:0", "-d", tree, partialDisk])
        try rename(from: partialDisk, to: final)
    }

    /// `<root>/<reference>` -> the digest's directory, replaced in one rename.
    static func link(reference: String, root: String, to directory: String) throws {
        let path = "\(root)/\(reference)"
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFLNK {
            throw DriverError("\(path) is not mooring's link (an image unpacked by hand?): left as it is")
        }
        try makeDirectories((path as NSString).deletingLastPathComponent)
        let partial = "\(path).partial-\(getpid())"
        unlink(partial)
        guard symlink(directory, partial) == 0 else { throw DriverError("cannot link \(partial): \(String(cString: strerror(errno)))") }
        try rename(from: partial, to: path)
    }

    /// A MicroVM's own layer over an image's disk: a qcow2 overlay naming its raw backing file, or a copy.
    public static func createVMDisk(_ layer: VMDiskLayer) throws {
        guard access(layer.path, F_OK) != 0 else { return }
        let directory = (layer.path as NSString).deletingLastPathComponent
        try makeDirectories(directory)
        let partial = "\(directory)/.partial-\((layer.path as NSString).lastPathComponent)"
        unlink(partial)
        switch layer.format {
        case .qcow2: try HelperProgram.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", layer.backing, partial])
        case .copy: try HelperProgram.run(["cp", "--reflink=auto", "--sparse=always", layer.backing, partial])
        }
        chmod(partial, 0o600)
        try rename(from: partial, to: layer.path)
    }

    /// Removes a digest's directory or a layer: only paths directly in the store's two directories.
    public static func delete(root: String, path: String) throws {
        let inStore = [ImageStore.digestsDirectory, ImageStore.vmDisksDirectory].contains { store in
            guard path.hasPrefix("\(root)/\(store)/") else { return false }
            let rest = path.dropFirst("\(root)/\(store)/".count).split(separator: "/", omittingEmptySubsequences: false)
            return (1...2).contains(rest.count) && rest.allSatisfy { !$0.isEmpty && $0 != ".." && $0 != "." }
        }
        guard inStore else { throw DriverError("\(path) is not in the image store under \(root): not deleted") }
        // Out of sight first (a rename), then removed: a reader never sees half a directory as a digest.
        let doomed = "\((path as NSString).deletingLastPathComponent)/.partial-deleting-\((path as NSString).lastPathComponent)"
        guard Foundation.rename(path, doomed) == 0 else {
            if errno == ENOENT { return }
            throw DriverError("cannot delete \(path): \(String(cString: strerror(errno)))")
        }
        try FileManager.default.removeItem(atPath: doomed)
    }

    /// A killed run's `.partial-*` entries (this process holds the lock: no other run is writing them).
    static func removeLeftovers(in directory: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(".partial-") {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(entry)")
        }
    }

    static func makeDirectories(_ path: String, mode: Int = 0o755) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
    }

    static func rename(from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw DriverError("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    static func treeSize(_ tree: String) -> Int {
        var total = 0
        let enumerator = FileManager.default.enumerator(atPath: tree)
        while let entry = enumerator?.nextObject() as? String {
            var info = stat()
            if lstat("\(tree)/\(entry)", &info) == 0 { total += Int(info.st_blocks) * 512 + 4096 }
        }
        return total
    }
}
