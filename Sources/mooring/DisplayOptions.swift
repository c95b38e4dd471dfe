import ArgumentParser
import Foundation
import MooringDrivers
import MooringReports

extension TextStyle.Choice: ExpressibleByArgument {}

/// `--output` (`-o`) and `--color`, shared by every command that reports: how its stdout and stderr look.
struct DisplayOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "text, or json (one versioned document on stdout, even on errors: docs/drift-report.md).")
    var output: OutputFormat = .text

    @Option(help: "auto, always or never: colour the text (auto: only on a terminal, and not when NO_COLOR is set).")
    var color: TextStyle.Choice = .auto

    var json: Bool { output == .json }

    var stdout: TextStyle { style(for: STDOUT_FILENO) }
    var stderr: TextStyle { style(for: STDERR_FILENO) }

    private func style(for descriptor: Int32) -> TextStyle {
        TextStyle.choose(color, isTerminal: isatty(descriptor) == 1, environment: ProcessInfo.processInfo.environment)
    }
}
