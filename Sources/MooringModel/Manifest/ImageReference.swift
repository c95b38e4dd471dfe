import Foundation

/// A container image reference as the manifests give it (`ghcr.io/org/kernel:5.10`, `host:5000/x@sha256:...`),
/// split the way registries read it. Validation (characters, no `..`) is `MicroVMDecoding.isImageReference`.
public struct ImageReference: Sendable, Hashable {
    public let text: String

    public init(_ text: String) { self.text = text }

    /// The registry host and port: the first component when it looks like a host (has a dot or a colon, or is
    /// `localhost`), as Docker decides it; otherwise Docker Hub.
    public var registry: String {
        let first = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
        guard text.contains("/"), first.contains(".") || first.contains(":") || first == "localhost" else { return "docker.io" }
        return first
    }

    /// The pinned digest (`sha256:<hex>`) when the reference names one.
    public var pinnedDigest: String? {
        guard let at = text.range(of: "@", options: .backwards) else { return nil }
        return String(text[at.upperBound...])
    }

    /// The repository without tag or digest (`ghcr.io/org/kernel`).
    public var repository: String {
        var name = text
        if let at = name.range(of: "@", options: .backwards) { name = String(name[..<at.lowerBound]) }
        if let colon = name.range(of: ":", options: .backwards), !name[colon.upperBound...].contains("/") {
            name = String(name[..<colon.lowerBound])
        }
        return name
    }

    /// The same image, by digest: what is pulled, so that the bytes are exactly those the plan named.
    public func byDigest(_ digest: String) -> String { "\(repository)@\(digest)" }

    /// Plain HTTP is used for loopback registries only (a test's, a local mirror's); every other registry is TLS.
    public var isLoopbackRegistry: Bool {
        let host: Substring
        if registry.hasPrefix("[") { host = registry.dropFirst().prefix { $0 != "]" } }
        else { host = registry.split(separator: ":").first ?? "" }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A digest as the store and the plan write it: `sha256:` and 64 lowercase hex digits.
    public static func isDigest(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}
