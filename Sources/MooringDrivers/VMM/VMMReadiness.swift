import Foundation
import MooringModel
import MooringPlan

/// Whether a started VMM runs (`UnitReadiness`), asked of the VMM itself so `apply` need not wait out the
/// whole settle time for every unit.
enum VMMReadiness {
    /// One attempt: true when QEMU's QMP socket answers `query-status` with `"running": true` within
    /// `patience`. A socket nobody listens on yet, a QEMU still initialising (it greets from its main loop
    /// only) or one that went away is false, and the caller asks again.
    static func isRunning(_ readiness: UnitReadiness, patience: TimeInterval = 0.25) -> Bool {
        guard case let .qmpRunning(socket) = readiness else { return false }
        let deadline = Date().addingTimeInterval(patience)
        guard let connection = try? UnixConnection(path: socket) else { return false }
        defer { connection.close() }
        guard (try? connection.qmp("qmp_capabilities", until: deadline)) != nil,
              let status = try? connection.qmp("query-status", until: deadline) else { return false }
        return JSONValue.parse(status)?["return"]?["running"]?.bool == true
    }
}
