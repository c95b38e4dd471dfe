import ArgumentParser
import Logging
import MooringDrivers

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level`; logs go to the journal (structured fields) under systemd, to stderr otherwise.
struct LoggingOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level?

    func bootstrap(default level: Logger.Level, colored: Bool = false) -> Logger {
        LoggingSetup.bootstrap(level: logLevel ?? level, colored: colored)
        return Logger(label: "mooring")
    }
}
