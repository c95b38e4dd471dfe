import Foundation
import MooringModel

/// Reads the image store under the image root, and asks each registry what its references mean now (one
/// `skopeo inspect` per reference, all at once; a registry that does not answer in time is a problem for that
/// reference only).
public enum ImageStoreReader {
    /// How long one registry question may take: a plan waits for the slowest.
    static let registryTimeout = "20s"

    public static func observe(root: String, references: [String]) -> ImageStore {
        var store = ImageStore(root: root)
        let missing = ["skopeo", "umoci"].filter { HelperProgram.find($0) == nil }
        if !missing.isEmpty { store.toolProblem = "\(missing.joined(separator: " and ")) \(missing.count == 1 ? "is" : "are") not installed" }
        let digests = "\(root)/\(ImageStore.digestsDirectory)"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: digests)) ?? [] where entry.hasPrefix("sha256-") {
            let digest = "sha256:" + entry.dropFirst("sha256-".count)
            guard ImageReference.isDigest(digest) else { continue }
            store.cached[digest] = access("\(digests)/\(entry)/\(DesiredVolume.imageDiskName)", F_OK) == 0
        }
        let layers = "\(root)/\(ImageStore.vmDisksDirectory)"
        for vm in (try? FileManager.default.contentsOfDirectory(atPath: layers)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(layers)/\(vm)")) ?? [] where !file.hasPrefix(".") {
                store.vmDisks.append("\(layers)/\(vm)/\(file)")
            }
        }
        for reference in references {
            store.images[reference] = ObservedImage(reference: reference, local: local(root: root, reference: reference, cached: store.cached))
        }
        guard HelperProgram.find("skopeo") != nil else { return store }
        let asked = store.images.values.filter { image in
            guard ImageReference(image.reference).pinnedDigest == nil else { return false }
            if case .unpackedByHand = image.local { return false }
            if case .foreign = image.local { return false }
            return true
        }.map(\.reference)
        let answers = Answers()
        let group = DispatchGroup()
        for reference in asked {
            group.enter()
            Thread.detachNewThread {
                answers.set(reference, resolve(reference))
                group.leave()
            }
        }
        group.wait()
        for (reference, answer) in answers.all {
            switch answer {
            case let .success(digest): store.images[reference]?.remoteDigest = digest
            case let .failure(problem): store.images[reference]?.remoteProblem = problem.description
            }
        }
        return store
    }

    /// What `<root>/<reference>` is: mooring's link to a digest it has, a directory unpacked by hand, or neither.
    static func local(root: String, reference: String, cached: [String: Bool]) -> ObservedImage.Local {
        let path = "\(root)/\(reference)"
        var info = stat()
        guard lstat(path, &info) == 0 else { return .absent }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .unpackedByHand
        case S_IFLNK:
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? ""
            let prefix = "\(root)/\(ImageStore.digestsDirectory)/sha256-"
            guard target.hasPrefix(prefix) else { return .foreign("a symlink to \(target)") }
            let digest = "sha256:" + target.dropFirst(prefix.count)
            guard ImageReference.isDigest(digest) else { return .foreign("a symlink to \(target)") }
            // A link to a digest collected since (or never finished): as good as nothing.
            return cached[digest] == nil ? .absent : .pulled(digest: digest)
        default: return .foreign("a file")
        }
    }

    struct Problem: Error, CustomStringConvertible { var description: String }

    /// The digest the registry gives the reference now.
    static func resolve(_ reference: String) -> Result<String, Problem> {
        var argv = ["skopeo", "--command-timeout", registryTimeout, "inspect", "--retry-times", "0", "--format", "{{.Digest}}"]
        if ImageReference(reference).isLoopbackRegistry { argv.append("--tls-verify=false") }
        argv.append("docker://\(reference)")
        do {
            let digest = try HelperProgram.run(argv).trimmingCharacters(in: .whitespacesAndNewlines)
            guard ImageReference.isDigest(digest) else { return .failure(Problem(description: "the registry gave no sha256 digest (\(digest.prefix(80)))")) }
            return .success(digest)
        } catch let failure as HelperProgram.Failure {
            return .failure(Problem(description: Self.registryWords(failure.output) ?? failure.description))
        } catch {
            return .failure(Problem(description: "\(error)"))
        }
    }

    /// skopeo's last line, without its log prefix: `manifest unknown`, `connection refused`, ...
    static func registryWords(_ output: String) -> String? {
        guard let line = output.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return nil }
        var text = String(line)
        if let message = text.range(of: "msg=\"") { text = String(text[message.upperBound...]).replacingOccurrences(of: "\"", with: "") }
        return text.count > 300 ? String(text.prefix(300)) + "..." : text
    }

    private final class Answers: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String: Result<String, Problem>] = [:]
        func set(_ reference: String, _ answer: Result<String, Problem>) { lock.withLock { values[reference] = answer } }
        var all: [String: Result<String, Problem>] { lock.withLock { values } }
    }
}
