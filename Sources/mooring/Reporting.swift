import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringReports

/// Turns failures into the messages and exit codes every command shares.
enum Reporting {
    static func fail(_ error: Error, style: TextStyle = .plain) -> ExitCode {
        switch error {
        case let invalid as InvalidManifests:
            for diagnostic in invalid.diagnostics { Terminal.printError(DiagnosticText.render(diagnostic, style: style)) }
            Terminal.printError(summary(invalid))
        case let execution as ExecutionError:
            for report in execution.stops { Terminal.printError("stopped \(report.microVM ?? report.unit): \(report.stop.summary)") }
            Terminal.printError("error: \(execution.description)")
            Terminal.printError("\(execution.completed) change(s) were applied before it; run apply again after fixing the cause")
        default:
            Terminal.printError("error: \(error)")
        }
        return ExitCode(MooringExit.error)
    }

    /// `2 error(s) in the manifests; nothing was changed`: the last line of a failure, and a JSON document's error.
    static func summary(_ invalid: InvalidManifests) -> String {
        "\(invalid.diagnostics.filter { $0.severity == .error }.count) error(s) in the manifests; nothing was changed"
    }

    static func warnings(_ warnings: [Diagnostic], style: TextStyle = .plain) {
        for warning in warnings { Terminal.printError(DiagnosticText.render(warning, style: style)) }
    }

    /// What a failed command prints on stdout with `--output json`: the envelope with its error, the manifests'
    /// findings, and its own fields null.
    static func failureDocument(_ error: Error, command: String, payloadKeys: [String]) -> JSONValue {
        switch error {
        case let invalid as InvalidManifests:
            return JSONEnvelope.failure(command: command, payloadKeys: payloadKeys, diagnostics: invalid.diagnostics, error: summary(invalid))
        default:
            return JSONEnvelope.failure(command: command, payloadKeys: payloadKeys, diagnostics: [], error: "\(error)")
        }
    }
}

/// The shape every command shares: run the body, turn its result into the exit code, and report any other
/// error the same way (message on stderr, exit 1; with `--output json` also the envelope on stdout, so a
/// script reading stdout always gets one document).
/// - Parameters:
///   - command: the command's name in the JSON envelope.
///   - payloadKeys: the command's own JSON fields, null in a failure document.
///   - metrics: told when the command failed (the body reports success itself, with what it found).
func runCommand(_ display: DisplayOptions? = nil, command: String = "", payloadKeys: [String] = [], metrics: MetricsSink? = nil,
                _ body: () throws -> Int32) throws {
    Terminal.lineBufferStdout()
    let code: Int32
    do {
        code = try body()
    } catch let exit as ExitCode {
        metrics?.failed()
        throw exit
    } catch {
        metrics?.failed()
        if let display, display.json {
            print(JSONRenderer.render(Reporting.failureDocument(error, command: command, payloadKeys: payloadKeys)), terminator: "")
        }
        throw Reporting.fail(error, style: display?.stderr ?? .plain)
    }
    if code == MooringExit.error { metrics?.failed() }
    if code != 0 { throw ExitCode(code) }
}
