import MooringModel

/// Pulling one image by digest into the store, and making its disk: everything the driver does is here.
public struct ImageFetch: Sendable, Equatable, Codable {
    /// As the manifests name it (`ghcr.io/org/kernel:5.10`): the symlink `<root>/<reference>` records the digest.
    public var reference: String
    /// `sha256:<hex>`, from the registry at plan time: exactly these bytes are pulled.
    public var digest: String
    public var root: String
    /// Whether the digest is already in the store (only the disk or the reference's symlink is missing).
    public var cached: Bool
    /// A MicroVM's volume names the image: its file system becomes `disk.img` (ext4) unless it has one.
    public var makeDisk: Bool
    /// The registry is on loopback: plain HTTP (`ImageReference.isLoopbackRegistry`).
    public var plainHTTP: Bool

    public init(reference: String, digest: String, root: String, cached: Bool, makeDisk: Bool, plainHTTP: Bool) {
        self.reference = reference
        self.digest = digest
        self.root = root
        self.cached = cached
        self.makeDisk = makeDisk
        self.plainHTTP = plainHTTP
    }

    public var directory: String { ImageStore.directory(root: root, digest: digest) }
}

/// A MicroVM's own writable layer over an image's disk: a qcow2 overlay (QEMU, cloud-hypervisor) or a copy
/// (firecracker reads raw disks only).
public struct VMDiskLayer: Sendable, Equatable, Codable {
    public enum Format: String, Sendable, Codable { case qcow2, copy }
    public var path: String
    /// The image's disk in the store, never written.
    public var backing: String
    public var format: Format

    public init(path: String, backing: String, format: Format) {
        self.path = path
        self.backing = backing
        self.format = format
    }
}
