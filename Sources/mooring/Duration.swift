import ArgumentParser
import MooringDrivers

/// `250ms`, `30s`, `5m` or `5min`, `1h` (a bare number is seconds).
struct DurationArgument: ExpressibleByArgument {
    var seconds: Double

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("min", 60), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where argument.hasSuffix(suffix) {
            guard let value = Double(argument.dropLast(suffix.count)), value >= 0 else { return nil }
            seconds = value * scale
            return
        }
        guard let value = Double(argument), value >= 0 else { return nil }
        seconds = value
    }

    init(seconds: Double) { self.seconds = seconds }
}

extension DurationArgument: CustomStringConvertible {
    var description: String { seconds >= 60 ? "\(Int(seconds / 60))m" : seconds >= 1 ? "\(Int(seconds))s" : "\(Int(seconds * 1000))ms" }
}

/// `--probe tcp:HOST:PORT` or `--probe ping:HOST`.
struct ProbeArgument: ExpressibleByArgument {
    var probe: ReachabilityProbe

    init?(argument: String) {
        guard let probe = ReachabilityProbe(argument: argument) else { return nil }
        self.probe = probe
    }
}
