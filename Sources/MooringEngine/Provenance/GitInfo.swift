import CGit2
import Foundation

/// The git commit of a manifest directory, for reports: GitOps hosts say which commit they applied.
///
/// Read with libgit2, never by running git. A `.git` in the manifest directory or any parent is input that
/// someone other than root may control, and git runs code from it: `core.fsmonitor`, hooks, clean/smudge filter
/// drivers (a read-only `plan` ran a hostile repository's fsmonitor script as root through `git status`).
/// libgit2 runs none of those (it has no fsmonitor, runs no hooks for status, and knows no external filter
/// drivers), and its owner check refuses a repository that root does not own: provenance is then reported as
/// unavailable, with why, and the run goes on.
public struct GitInfo: Sendable, Equatable {
    public var commit: String?
    public var dirty: Bool?
    /// Why the commit cannot be told ("the repository ... is owned by uid 1000, not by root").
    public var unavailable: String?

    /// Nil when `directory` is not inside a git work tree.
    public static func of(_ directory: String) -> GitInfo? {
        guard let dotGit = enclosingDotGit(directory) else { return nil }
        var owner = stat()
        if stat(dotGit, &owner) == 0, owner.st_uid != geteuid() {
            // libgit2 refuses it too, but 1.5 reports that as "not found"; say why here.
            return GitInfo(unavailable: "provenance unavailable: the repository \(dotGit) is owned by uid \(owner.st_uid), "
                           + "not by the user running mooring, so it is not read")
        }
        GitLibrary.initialize()
        var repository: OpaquePointer?
        // `-f one-file.yaml`: the repository is found from the file's directory; its status is the file's.
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && !isDirectory.boolValue
        let start = isFile ? URL(fileURLWithPath: directory).deletingLastPathComponent().path : directory
        let rc = git_repository_open_ext(&repository, start, 0, nil)
        defer { git_repository_free(repository) }
        guard rc == 0, let repository else {
            return GitInfo(unavailable: "provenance unavailable: \(GitLibrary.lastError(rc))")
        }
        var head = git_oid()
        guard git_reference_name_to_id(&head, repository, "HEAD") == 0, let text = git_oid_tostr_s(&head) else {
            return GitInfo(unavailable: "provenance unavailable: the repository has no commit (HEAD)")
        }
        return GitInfo(commit: String(cString: text), dirty: isDirty(repository, directory: directory))
    }

    /// Whether anything under the manifest directory differs from HEAD: modified, staged, deleted or untracked.
    private static func isDirty(_ repository: OpaquePointer, directory: String) -> Bool? {
        guard let workdir = git_repository_workdir(repository).map({ String(cString: $0) }) else { return nil }
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: workdir).standardizedFileURL.resolvingSymlinksInPath().path
        let relative = absolute.hasPrefix(root) ? String(absolute.dropFirst(root.count)).trimmingCharacters(in: ["/"]) : ""
        var options = git_status_options()
        git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        let rc: Int32 = relative.isEmpty ? git_status_list_new(&list, repository, &options) : relative.withCString { path in
            var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: path)]
            return strings.withUnsafeMutableBufferPointer { buffer in
                options.pathspec = git_strarray(strings: buffer.baseAddress, count: 1)
                return git_status_list_new(&list, repository, &options)
            }
        }
        defer { git_status_list_free(list) }
        guard rc == 0, let list else { return nil }
        return git_status_list_entrycount(list) > 0
    }
}

extension GitInfo {
    /// The nearest `.git` in or above `directory`, found with a few stat calls (cheaper than opening a
    /// repository on every drift check); nil when there is none, so the directory is not in a work tree.
    static func enclosingDotGit(_ directory: String) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(".git").path
            if access(candidate, F_OK) == 0 { return candidate }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }
}

/// libgit2's global state: initialised once, with its repository owner check on (the default, stated).
enum GitLibrary {
    private static let once: Void = {
        git_libgit2_init()
        _ = mooring_git_set_owner_validation(1)
    }()

    static func initialize() { _ = once }

    static func lastError(_ rc: Int32) -> String {
        guard let error = git_error_last(), let message = error.pointee.message else { return "libgit2 error \(rc)" }
        return String(cString: message)
    }
}
