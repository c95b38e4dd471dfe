import CSystemd
import Foundation

/// sd_notify for `Type=notify` services: readiness, status lines, watchdog pings. A no-op outside systemd.
public enum ServiceNotifier {
    public static func notify(_ state: String) {
        _ = sd_notify(0, state)
    }

    /// The watchdog interval the service manager asked for (WatchdogSec=), or nil.
    public static func watchdogInterval() -> TimeInterval? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return TimeInterval(microseconds) / 1_000_000
    }
}
