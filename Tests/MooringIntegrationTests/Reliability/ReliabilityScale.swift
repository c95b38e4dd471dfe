import Foundation

/// Sizes of the long randomized reliability tests. The defaults keep `make test` quick; set
/// `MOORING_RELIABILITY_SCALE=4` (cycles, corpus size and plan size grow with it) for a longer run, and
/// `MOORING_RELIABILITY_SEED` to replay a randomized run.
enum ReliabilityScale {
    static let factor = max(1, Int(ProcessInfo.processInfo.environment["MOORING_RELIABILITY_SCALE"] ?? "") ?? 1)
    // 100 cycles take about 5 s: the count the reliability issue asks for, in every `make test`.
    static let cycles = 100 * factor
    static let seed: UInt64 = UInt64(ProcessInfo.processInfo.environment["MOORING_RELIABILITY_SEED"] ?? "")
        ?? UInt64(Date().timeIntervalSince1970 * 1000) & 0xffff_ffff
}

/// A small seeded generator, so a failing randomized run can be replayed from its printed seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9e37_79b9_7f4a_7c15 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
