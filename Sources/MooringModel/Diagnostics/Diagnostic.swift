/// One finding about the manifests: where, about what, and what would be right.
///
/// Rendered as `file:line:column: error: Kind "name" field.path: message`, the form compilers use,
/// so editors and CI logs can jump to it (DiagnosticText adds the source line and a caret for people).
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation?
    /// The manifest the finding is about, e.g. `MicroVM "web-1"`; nil before `kind`/`name` are known.
    public var subject: String?
    /// The field path inside the document, e.g. `spec.networkInterfaces[0].guestMac`.
    public var path: String?
    public var message: String
    /// True for warnings that only the live host can settle (an interface no manifest declares):
    /// `plan` and `apply` check those against the host instead of repeating the warning.
    public var settledByHostCheck: Bool
    /// The manifest line the location points into, as written (filled in by ManifestSet once the file's text
    /// is at hand); nil without a location.
    public var sourceLine: String?

    public init(_ severity: Severity, at location: SourceLocation?, subject: String? = nil,
                path: String? = nil, _ message: String, settledByHostCheck: Bool = false) {
        self.severity = severity
        self.location = location
        self.subject = subject
        self.path = path
        self.message = message
        self.settledByHostCheck = settledByHostCheck
    }

    public static func error(at location: SourceLocation?, subject: String? = nil,
                             path: String? = nil, _ message: String) -> Diagnostic {
        Diagnostic(.error, at: location, subject: subject, path: path, message)
    }

    public static func warning(at location: SourceLocation?, subject: String? = nil,
                               path: String? = nil, _ message: String) -> Diagnostic {
        Diagnostic(.warning, at: location, subject: subject, path: path, message)
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += "\(severity.rawValue): "
        var about: [String] = []
        if let subject { about.append(subject) }
        if let path, !path.isEmpty { about.append(path) }
        if !about.isEmpty { text += about.joined(separator: " ") + ": " }
        return text + message
    }
}

/// Thrown when a manifest set has errors; carries every finding, not just the first.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
