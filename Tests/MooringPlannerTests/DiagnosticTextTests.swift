import MooringModel
import MooringReports
import Testing

/// Findings for people: the compiler-style line with `error:`/`warning:`, the manifest's line and a caret; colour
/// only when chosen, and never a control character from the manifest on the terminal.
@Suite struct DiagnosticTextTests {
    static func finding(_ line: String, column: Int, severity: Diagnostic.Severity = .error) -> Diagnostic {
        var diagnostic = Diagnostic(severity, at: SourceLocation(file: "m/br.yaml", line: 12, column: column),
                                    subject: "Bridge \"br0\"", path: "spec.adresses", "unknown field \"adresses\"")
        diagnostic.sourceLine = line
        return diagnostic
    }

    @Test func theLineAndACaretUnderTheColumn() {
        let text = DiagnosticText.render(Self.finding("  adresses: [10.0.0.1/24]", column: 3))
        #expect(text == """
            m/br.yaml:12:3: error: Bridge "br0" spec.adresses: unknown field "adresses"
                12 |   adresses: [10.0.0.1/24]
                   |   ^
            """)
        let warning = DiagnosticText.render(Self.finding("x: 1", column: 1, severity: .warning))
        #expect(warning.hasPrefix("m/br.yaml:12:1: warning: Bridge"))
    }

    @Test func tabsKeepTheCaretAlignedAndControlCharactersNeverReachTheTerminal() {
        let text = DiagnosticText.render(Self.finding("\tname: \u{1b}[2Jevil\u{7}", column: 8))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[1] == "    12 | \tname: ?[2Jevil?")
        #expect(lines[2] == "       | \t      ^")
        #expect(!text.contains("\u{1b}"))
    }

    @Test func colourIsChosenPerStreamAndNO_COLORWins() {
        #expect(TextStyle.choose(.auto, isTerminal: true, environment: [:]).colored)
        #expect(!TextStyle.choose(.auto, isTerminal: false, environment: [:]).colored)
        #expect(!TextStyle.choose(.auto, isTerminal: true, environment: ["NO_COLOR": "1"]).colored)
        #expect(TextStyle.choose(.auto, isTerminal: true, environment: ["NO_COLOR": ""]).colored, "an empty NO_COLOR is unset")
        #expect(!TextStyle.choose(.auto, isTerminal: true, environment: ["TERM": "dumb"]).colored)
        #expect(TextStyle.choose(.always, isTerminal: false, environment: ["NO_COLOR": "1"]).colored)
        #expect(!TextStyle.choose(.never, isTerminal: true, environment: [:]).colored)
        let colored = DiagnosticText.render(Self.finding("  adresses: []", column: 3), style: TextStyle(colored: true))
        #expect(colored.contains("\u{1b}[1;31merror:\u{1b}[0m") && colored.contains("\u{1b}[1;31m^\u{1b}[0m"))
    }
}
