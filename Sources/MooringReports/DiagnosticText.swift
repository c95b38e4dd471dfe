import MooringModel

/// A finding about the manifests for people: the compiler-style line, then the manifest's line with a caret
/// under the column, as rustc and clang show them:
///
///     m.yaml:5:3: error: Bridge "br0" spec.adresses: unknown field "adresses" (did you mean "addresses"?)
///         5 |   adresses: [10.0.0.1/24]
///           |   ^
public enum DiagnosticText {
    /// Longest source line shown; a longer one is cut (a caret past the cut is left out).
    static let maxLineLength = 160

    public static func render(_ diagnostic: Diagnostic, style: TextStyle = .plain) -> String {
        let label = diagnostic.severity == .error ? style.error("error:") : style.warning("warning:")
        var head = diagnostic.description
        if let range = head.range(of: "\(diagnostic.severity.rawValue): ") {
            head.replaceSubrange(range, with: label + " ")
        }
        guard let location = diagnostic.location, let line = diagnostic.sourceLine else { return head }
        // The manifest's own text, made safe to print: a hostile file must not drive the terminal.
        let shown = String(line.unicodeScalars.prefix(maxLineLength).map { scalar -> Character in
            scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7f && !(0x80...0x9f).contains(scalar.value)) ? Character(scalar) : "?"
        })
        let number = String(location.line)
        let gutter = String(repeating: " ", count: number.count)
        var text = head + "\n    \(style.dim(number + " |")) \(shown)"
        if location.column >= 1, location.column <= shown.count + 1 {
            // Tabs before the column stay tabs, so the caret lines up however the terminal draws them.
            let lead = String(shown.prefix(location.column - 1).map { $0 == "\t" ? "\t" : " " })
            text += "\n    \(style.dim(gutter + " |")) \(lead)\(diagnostic.severity == .error ? style.error("^") : style.warning("^"))"
        }
        return text
    }
}
