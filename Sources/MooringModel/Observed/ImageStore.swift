import Foundation

/// The image cache under `Host.spec.imageRoot`, as the drivers found it, and what each registry says now.
///
/// Layout (docs/microvms.md, "Images by reference"): `<root>/.digests/sha256-<hex>/` is one pulled image's file
/// system, stored once per digest and never changed after it is renamed into place; `<root>/<reference>` is a
/// symlink to the digest the reference last resolved to (how an offline host knows what it has); a real
/// directory there is an image unpacked by hand, used as it is; `<root>/.vm-disks/<vm>/<volume>-<hex>.<format>`
/// are the MicroVMs' own writable layers over an image's disk.
public struct ImageStore: Sendable, Codable, Equatable {
    public var root: String
    /// Each reference the manifests name.
    public var images: [String: ObservedImage] = [:]
    /// Every digest in `.digests` (`sha256:<hex>`), with whether it holds a disk (`disk.img`).
    public var cached: [String: Bool] = [:]
    /// The MicroVMs' writable layers, as paths.
    public var vmDisks: [String] = []
    /// skopeo or umoci missing, or the store unreadable: nothing can be pulled.
    public var toolProblem: String?

    public init(root: String) { self.root = root }

    public static let digestsDirectory = ".digests"
    public static let vmDisksDirectory = ".vm-disks"

    /// `<root>/.digests/sha256-<hex>`: the directory of one digest.
    public static func directory(root: String, digest: String) -> String {
        "\(root)/\(digestsDirectory)/\(digest.replacingOccurrences(of: ":", with: "-"))"
    }
}

/// One image reference: what the host has under its name, and what its registry says it is now.
public struct ObservedImage: Sendable, Codable, Equatable {
    public enum Local: Sendable, Codable, Equatable {
        case absent
        /// A symlink into the digest store: the digest it was last pulled as.
        case pulled(digest: String)
        /// A real directory: unpacked by hand, used as it is, never pulled over.
        case unpackedByHand
        /// Something else is there (a file, a symlink out of the store): left alone, and a conflict.
        case foreign(String)
    }

    public var reference: String
    public var local: Local
    /// The digest the registry resolves the reference to now; nil when it was not asked (pinned by digest, or
    /// unpacked by hand) or did not answer (`remoteProblem`).
    public var remoteDigest: String?
    public var remoteProblem: String?

    public init(reference: String, local: Local, remoteDigest: String? = nil, remoteProblem: String? = nil) {
        self.reference = reference
        self.local = local
        self.remoteDigest = remoteDigest
        self.remoteProblem = remoteProblem
    }
}
