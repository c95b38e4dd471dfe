import MooringModel

/// The one shape of every JSON document mooring prints (`plan`, `apply`, `status`, `doctor`, `validate`
/// with `--output json`): the format's version, the command, the error that stopped it (or null), the
/// findings about the manifests, then the command's own fields, each always present (null when the command
/// stopped before it had them). docs/schemas/output.schema.json describes it; a test validates real output.
public enum JSONEnvelope {
    /// 3: the envelope (`command`, `error`, `diagnostics`) around format 2's plan fields, and status, doctor
    /// and validate in it too.
    public static let formatVersion = 3

    public static func document(command: String, payload: [(key: String, value: JSONValue)], diagnostics: [Diagnostic] = [],
                                error: String? = nil) -> JSONValue {
        .object([
            ("formatVersion", JSONValue(formatVersion)),
            ("command", .string(command)),
            ("error", JSONValue(error)),
            ("diagnostics", .array(diagnostics.map(diagnostic))),
        ] + payload)
    }

    /// A command that stopped on `error`: its own fields, all null.
    public static func failure(command: String, payloadKeys: [String], diagnostics: [Diagnostic], error: String) -> JSONValue {
        document(command: command, payload: payloadKeys.map { ($0, JSONValue.null) }, diagnostics: diagnostics, error: error)
    }

    public static func diagnostic(_ diagnostic: Diagnostic) -> JSONValue {
        [
            "severity": .string(diagnostic.severity.rawValue),
            "file": JSONValue(diagnostic.location?.file),
            "line": JSONValue(diagnostic.location?.line),
            "column": JSONValue(diagnostic.location?.column),
            "subject": JSONValue(diagnostic.subject),
            "path": JSONValue(diagnostic.path),
            "message": .string(diagnostic.message),
        ]
    }
}
