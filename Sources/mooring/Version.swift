import CBuildInfo

/// `mooring --version`: the release number (kept here, and in the Debian package's version) and the commit the
/// binary was built from (passed in by `make release` / `make deb`; "unknown" for a plain `swift build`).
enum Version {
    static let number = "0.4.0"
    static var commit: String { String(cString: mooring_build_commit()) }
    static var text: String { "mooring \(number) (commit \(commit))" }
}
