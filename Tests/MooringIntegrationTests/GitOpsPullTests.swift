import Foundation
import Testing

/// scripts/gitops-pull (mooring-gitops.service's pull) against a real upstream: a bare repository and a clone,
/// as an operator sets them up. A fast-forward is taken; a force-pushed upstream is refused (the work tree stays
/// where it was, so the apply that follows changes nothing) unless the operator opted in to follow it; with an
/// allowed-signers file only a commit signed by a listed key is taken.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct GitOpsPullTests {
    static let script = TestEnvironment.repository.appendingPathComponent("scripts/gitops-pull").path

    /// A scratch directory with `upstream.git`, an operator's clone `work` to push from, and the host's clone
    /// `manifests`, both on branch main with one commit.
    final class Repositories {
        let root: URL
        var upstream: String { root.appendingPathComponent("upstream.git").path }
        var work: String { root.appendingPathComponent("work").path }
        var manifests: String { root.appendingPathComponent("manifests").path }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("mooring-gitops-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try Shell.must(["git", "init", "-q", "--bare", "-b", "main", upstream])
            try Shell.must(["git", "clone", "-q", upstream, work])
            try commit("m.yaml", "one")
            try Shell.must(["git", "-C", work, "push", "-q", "origin", "main"])
            try Shell.must(["git", "clone", "-q", upstream, manifests])
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func git(_ arguments: String...) throws -> String { try Shell.must(["git", "-C", work, "-c", "user.name=t", "-c", "user.email=t@example.invalid"] + arguments) }

        func commit(_ file: String, _ text: String, sign: String? = nil) throws {
            try text.write(toFile: work + "/" + file, atomically: true, encoding: .utf8)
            _ = try git("add", file)
            if let key = sign {
                _ = try git("-c", "gpg.format=ssh", "-c", "user.signingkey=\(key)", "commit", "-q", "-S", "-m", text)
            } else {
                _ = try git("commit", "-q", "-m", text)
            }
        }

        func head(_ directory: String) throws -> String {
            try Shell.must(["git", "-C", directory, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func pull(_ environment: [String: String] = [:]) throws -> Shell.Output {
            var env = ProcessInfo.processInfo.environment
            env["MOORING_MANIFESTS"] = manifests
            for (key, value) in environment { env[key] = value }
            return try Shell.run(["bash", GitOpsPullTests.script], environment: env)
        }
    }

    @Test func aFastForwardIsTakenAndAForcePushOnlyWhenTheOperatorOptedIn() throws {
        let repos = try Repositories()
        #expect(try repos.pull().stdout.contains("up to date"))
        try repos.commit("m.yaml", "two")
        _ = try repos.git("push", "-q", "origin", "main")
        let forward = try repos.pull()
        #expect(forward.status == 0 && forward.stdout.contains("fast-forwarded"), "\(forward.stdout)\(forward.stderr)")
        #expect(try repos.head(repos.manifests) == repos.head(repos.work))

        // The upstream is rewritten: two is gone, three replaces it.
        let before = try repos.head(repos.manifests)
        _ = try repos.git("reset", "-q", "--hard", "HEAD~1")
        try repos.commit("m.yaml", "three")
        _ = try repos.git("push", "-q", "--force", "origin", "main")
        let refused = try repos.pull()
        #expect(refused.status == 1 && refused.stderr.contains("was rewritten (a force-push)"), "\(refused.stdout)\(refused.stderr)")
        #expect(try repos.head(repos.manifests) == before, "a refused pull leaves the work tree where it was")
        #expect(try repos.pull().status == 1, "and keeps refusing, saying why, until someone decides")

        let followed = try repos.pull(["MOORING_GITOPS_FORCE_PUSH": "reset"])
        #expect(followed.status == 0 && followed.stdout.contains("rewritten: reset"), "\(followed.stdout)\(followed.stderr)")
        #expect(try repos.head(repos.manifests) == repos.head(repos.work))
        #expect(try String(contentsOfFile: repos.manifests + "/m.yaml", encoding: .utf8) == "three")
    }

    @Test func withAllowedSignersOnlyASignedCommitIsTaken() throws {
        let repos = try Repositories()
        let key = repos.root.appendingPathComponent("signer").path
        try Shell.must(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release@example.invalid", "-f", key])
        let signers = repos.root.appendingPathComponent("allowed_signers").path
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8)
        try "release@example.invalid \(publicKey)".write(toFile: signers, atomically: true, encoding: .utf8)
        let verified = ["MOORING_GITOPS_ALLOWED_SIGNERS": signers]

        let before = try repos.head(repos.manifests)
        try repos.commit("m.yaml", "unsigned")
        _ = try repos.git("push", "-q", "origin", "main")
        let refused = try repos.pull(verified)
        #expect(refused.status == 1 && refused.stderr.contains("has no good signature"), "\(refused.stdout)\(refused.stderr)")
        #expect(try repos.head(repos.manifests) == before)

        try repos.commit("m.yaml", "signed", sign: key)
        _ = try repos.git("push", "-q", "origin", "main")
        let taken = try repos.pull(verified)
        #expect(taken.status == 0 && taken.stdout.contains("fast-forwarded"), "\(taken.stdout)\(taken.stderr)")
        #expect(try repos.head(repos.manifests) == repos.head(repos.work))
    }
}
