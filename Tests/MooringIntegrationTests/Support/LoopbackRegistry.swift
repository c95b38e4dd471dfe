import Foundation
import Testing

/// Debian's own OCI registry (`docker-registry`, the CNCF distribution registry) on loopback, with images the
/// tests build as OCI layouts (umoci) and push with skopeo: the real clients mooring's pulls talk to.
final class LoopbackRegistry: @unchecked Sendable {
    static let available = ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/umoci"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    static let reason: Comment = "needs docker-registry, skopeo and umoci (scripts/install-deps)"

    let directory: URL
    let port: Int
    private var process: BackgroundProcess?

    var host: String { "127.0.0.1:\(port)" }

    /// A user and password the registry asks for (htpasswd, bcrypt), or nil for an open registry.
    let credentials: (user: String, password: String)?

    init(credentials: (user: String, password: String)? = nil) throws {
        self.credentials = credentials
        directory = URL(fileURLWithPath: "/var/lib/mooring/test-files/registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        // A port of its own: suites run side by side.
        port = 20000 + Int(getpid() % 5000) + Int.random(in: 0..<5000)
        try start()
    }

    /// containers' auth.json for this registry (`REGISTRY_AUTH_FILE`), as `podman login` or `skopeo login` writes it.
    func authFile(in directory: String) throws -> String {
        guard let credentials else { throw TestFailure("an open registry needs no credentials") }
        let path = directory + "/auth.json"
        let token = Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
        try "{\"auths\": {\"\(host)\": {\"auth\": \"\(token)\"}}}\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts (again) on the same port and storage: what was pushed before is still there.
    func start() throws {
        let config = directory.appendingPathComponent("config.yml")
        try """
            version: 0.1
            storage: {filesystem: {rootdirectory: \(directory.path)/data}}
            http: {addr: "\(host)"}
            log: {level: error}
            """.write(to: config, atomically: true, encoding: .utf8)
        if let credentials {
            // The distribution registry takes bcrypt htpasswd entries; Python's crypt makes one with glibc's.
            let hash = try Shell.must(["/usr/bin/python3", "-W", "ignore", "-c",
                                       "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                                       credentials.password]).trimmingCharacters(in: .whitespacesAndNewlines)
            try "\(credentials.user):\(hash)\n".write(to: directory.appendingPathComponent("htpasswd"), atomically: true, encoding: .utf8)
            let handle = try FileHandle(forWritingTo: config)
            handle.seekToEndOfFile()
            handle.write(Data("\nauth: {htpasswd: {realm: mooring-test, path: \(directory.path)/htpasswd}}\n".utf8))
            try handle.close()
        }
        process = try BackgroundProcess(["docker-registry", "serve", config.path], output: directory.appendingPathComponent("log").path)
        // It answers: 200, or 401 when it asks for a password.
        guard eventually(timeout: 10, { ["200", "401"].contains((try? Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "1", "http://\(host)/v2/"]))?.stdout ?? "") }) else {
            throw TestFailure("the registry did not answer on \(host): \((try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? "")")
        }
    }

    func stop() {
        _ = process?.terminate()
        process = nil
    }

    /// Builds an image holding `files` (host path -> directory in the image) and pushes it as `name:tag`;
    /// returns the reference and the digest the registry gives it.
    @discardableResult
    func push(_ name: String, tag: String, files: [(source: String, directory: String)]) throws -> (reference: String, digest: String) {
        let layout = directory.appendingPathComponent("layout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: layout) }
        try Shell.must(["umoci", "init", "--layout", layout])
        try Shell.must(["umoci", "new", "--image", "\(layout):\(tag)"])
        for (source, target) in files { try Shell.must(["umoci", "insert", "--image", "\(layout):\(tag)", source, target]) }
        let reference = "\(host)/\(name):\(tag)"
        let creds = credentials.map { ["--dest-creds", "\($0.user):\($0.password)"] } ?? []
        try Shell.must(["skopeo", "copy", "--quiet", "--dest-tls-verify=false"] + creds + ["oci:\(layout):\(tag)", "docker://\(reference)"])
        let readCreds = credentials.map { ["--creds", "\($0.user):\($0.password)"] } ?? []
        let digest = try Shell.must(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}"] + readCreds + ["docker://\(reference)"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (reference, digest)
    }

    /// Pushes an image whose one layer is not a tar archive (valid digests, so only unpacking finds out).
    @discardableResult
    func pushNotAFileSystem(_ name: String, tag: String) throws -> String {
        let layout = directory.appendingPathComponent("layout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let blobs = layout + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func blob(_ data: Data) throws -> (digest: String, size: Int) {
            let scratch = layout + "/scratch"
            try data.write(to: URL(fileURLWithPath: scratch))
            let hex = String(try Shell.must(["sha256sum", scratch]).prefix(64))
            try FileManager.default.moveItem(atPath: scratch, toPath: "\(blobs)/\(hex)")
            return ("sha256:\(hex)", data.count)
        }
        let layer = try blob(Data("this is not a tar archive, and not gzip either\n".utf8))
        let config = try blob(Data("""
            {"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\(layer.digest)"]},"config":{}}
            """.utf8))
        let manifest = try blob(Data("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config.digest)","size":\(config.size)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(layer.digest)","size":\(layer.size)}]}
            """.utf8))
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: layout + "/oci-layout", atomically: true, encoding: .utf8)
        try """
            {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(manifest.digest)",\
            "size":\(manifest.size),"annotations":{"org.opencontainers.image.ref.name":"\(tag)"}}]}
            """.write(toFile: layout + "/index.json", atomically: true, encoding: .utf8)
        let reference = "\(host)/\(name):\(tag)"
        try Shell.must(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:\(layout):\(tag)", "docker://\(reference)"])
        return reference
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
