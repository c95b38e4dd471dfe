/// Facts about a run that reports name besides the plan itself.
public struct ReportContext: Sendable, Equatable {
    public var manifestDirectory: String
    public var host: String?
    public var netns: String?
    /// The manifests' git commit and whether the work tree had uncommitted changes.
    public var gitCommit: String?
    public var gitDirty: Bool?
    /// Why the commit could not be told although the manifests sit in a repository (not owned by root, ...).
    public var provenanceProblem: String?

    public init(manifestDirectory: String, host: String? = nil, netns: String? = nil, gitCommit: String? = nil,
                gitDirty: Bool? = nil, provenanceProblem: String? = nil) {
        self.manifestDirectory = manifestDirectory
        self.host = host
        self.netns = netns
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.provenanceProblem = provenanceProblem
    }

    /// `manifests/ at 1a2b3c4 (dirty)`
    public var sourceLine: String {
        var text = manifestDirectory
        if let gitCommit { text += " at \(gitCommit.prefix(12))\(gitDirty == true ? " (dirty)" : "")" }
        if let provenanceProblem { text += " (\(provenanceProblem))" }
        if let netns { text += " in netns \(netns)" }
        return text
    }
}
