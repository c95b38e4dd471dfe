import Foundation
import MooringModel
import MooringPlan

/// The plan for machines: a stable document described in docs/drift-report.md.
public struct PlanReport: Sendable, Codable, Equatable {
    public static let currentFormat = 1

    public var formatVersion: Int
    public var context: ReportContext?
    public var inSync: Bool
    public var summary: Plan.Summary
    public var changes: [Change]
    public var conflicts: [Conflict]
    /// Changes the conflicts hold back: applied once they are resolved.
    public var held: [Change]?
    public var warnings: [String]
    /// Kinds of object that could not be observed, with why; the report is not in sync while any is listed.
    public var unchecked: [String]?

    public init(plan: Plan, context: ReportContext?) {
        formatVersion = Self.currentFormat
        self.context = context
        inSync = plan.isInSync
        summary = plan.summary
        changes = plan.changes
        conflicts = plan.conflicts
        held = plan.held
        warnings = plan.warnings
        unchecked = plan.unchecked
    }

    public var plan: Plan { Plan(changes: changes, conflicts: conflicts, held: held ?? [], warnings: warnings, unchecked: unchecked ?? []) }
}

public enum JSONRenderer {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func render<T: Encodable>(_ value: T) -> String {
        // Encoding these plain value types cannot fail.
        String(decoding: (try? encoder().encode(value)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
