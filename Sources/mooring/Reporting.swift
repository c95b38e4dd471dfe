import ArgumentParser
import Foundation
import MooringDrivers
import MooringEngine
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

/// Turns failures into the messages and exit codes every command shares.
enum Reporting {
    static func fail(_ error: Error) -> ExitCode {
        switch error {
        case let invalid as InvalidManifests:
            for diagnostic in invalid.diagnostics { Terminal.printError(diagnostic.description) }
            let count = invalid.diagnostics.filter { $0.severity == .error }.count
            Terminal.printError("\(count) error(s) in the manifests; nothing was changed")
        case let execution as ExecutionError:
            for report in execution.stops { Terminal.printError("stopped \(report.microVM ?? report.unit): \(report.stop.summary)") }
            Terminal.printError("error: \(execution.description)")
            Terminal.printError("\(execution.completed) change(s) were applied before it; run apply again after fixing the cause")
        default:
            Terminal.printError("error: \(error)")
        }
        return ExitCode(MooringExit.error)
    }

    static func warnings(_ warnings: [Diagnostic]) {
        for warning in warnings { Terminal.printError(warning.description) }
    }
}

/// The shape every command shares: run the body, turn its result into the exit code, and report any other
/// error the same way (message on stderr, exit 1).
func runCommand(_ body: () throws -> Int32) throws {
    Terminal.lineBufferStdout()
    let code: Int32
    do {
        code = try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw Reporting.fail(error)
    }
    if code != 0 { throw ExitCode(code) }
}
