import MooringModel
import MooringPlan

/// The plan for people: grouped by manifest, one line per change, a summary line at the end.
public struct TextRenderer {
    public var style: TextStyle

    public init(style: TextStyle) { self.style = style }

    public static func sign(_ verb: Change.Verb) -> String {
        switch verb {
        case .create, .start: return "+"
        case .update, .restart: return "~"
        case .delete, .stop: return "-"
        case .replace: return "-/+"
        }
    }

    private func paint(_ text: String, _ verb: Change.Verb) -> String {
        switch verb {
        case .create, .start: return style.green(text)
        case .update, .restart: return style.yellow(text)
        case .delete, .stop: return style.red(text)
        case .replace: return style.magenta(text)
        }
    }

    /// Lines for the changes, grouped by the manifest they serve, in order of first appearance.
    public func changeLines(_ changes: [Change]) -> [String] {
        var order: [ChangeGroup] = []
        var groups: [ChangeGroup: [Change]] = [:]
        for change in changes {
            if groups[change.group] == nil { order.append(change.group) }
            groups[change.group, default: []].append(change)
        }
        var lines: [String] = []
        for group in order {
            lines.append(style.bold(Self.heading(group)))
            for change in groups[group]! {
                var line = "  " + paint(Self.sign(change.action), change.action) + " " + change.summary
                if change.disruptive { line += " " + style.error("[disruptive]") }
                lines.append(line)
                for detail in change.details { lines.append("      " + detail) }
            }
        }
        return lines
    }

    /// A group's heading: the manifest, the guests' filter (from every MicroVM's interfaces), or what no
    /// manifest wants any more.
    static func heading(_ group: ChangeGroup) -> String {
        switch group {
        case .manifest: return group.description
        case .guestFilter: return "the guests' filter (from the MicroVMs' interfaces)"
        case .stale: return "not in the manifests"
        }
    }

    public func render(plan: Plan, context: ReportContext?) -> String {
        var lines: [String] = []
        if let context { lines.append("Manifests: \(context.sourceLine)") }
        for warning in plan.warnings { lines.append(style.warning("warning: ") + warning) }
        lines += conflictLines(plan)
        if plan.changes.isEmpty {
            if plan.isInSync { lines.append("No changes: the host matches the manifests.") }
            else if plan.conflicts.isEmpty { lines.append("No changes found, but not everything could be checked:") }
            lines += uncheckedLines(plan)
            return lines.joined(separator: "\n") + "\n"
        }
        lines += changeLines(plan.changes)
        lines.append("")
        lines.append(summaryLine(plan.summary, prefix: "Plan"))
        lines += uncheckedLines(plan)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The conflicts, and the changes they hold back until they are resolved.
    public func conflictLines(_ plan: Plan) -> [String] {
        guard !plan.conflicts.isEmpty else { return [] }
        var lines = [style.error("Conflicts: mooring cannot resolve these; what they concern waits, the rest is applied")]
        for conflict in plan.conflicts {
            lines.append("  " + style.error("!") + " \(conflict.resource): \(conflict.message)")
            lines.append("    fix: \(conflict.fix)")
        }
        if !plan.held.isEmpty {
            lines.append(style.bold("Held back by the conflicts:"))
            lines += changeLines(plan.held).map { "  " + $0 }
        }
        return lines
    }

    /// One line per kind of object that could not be observed.
    public func uncheckedLines(_ plan: Plan) -> [String] {
        plan.unchecked.map { "  " + style.warning("not checked:") + " " + $0 }
    }

    /// `Applied: 2 created, 1 changed, 0 deleted in 12 ms.`
    public func appliedLine(_ summary: Plan.Summary, milliseconds: Int) -> String {
        var parts = ["\(summary.create) created", "\(summary.update) changed"]
        if summary.replace > 0 { parts.append("\(summary.replace) replaced") }
        parts.append("\(summary.delete) deleted")
        var line = "Applied: " + parts.joined(separator: ", ")
        if summary.disruptive > 0 { line += " (\(summary.disruptive) disruptive)" }
        return line + " in \(milliseconds) ms."
    }

    public func summaryLine(_ summary: Plan.Summary, prefix: String) -> String {
        var parts = ["\(summary.create) to create", "\(summary.update) to change"]
        if summary.replace > 0 { parts.append("\(summary.replace) to replace") }
        parts.append("\(summary.delete) to delete")
        var line = "\(prefix): " + parts.joined(separator: ", ")
        if summary.disruptive > 0 { line += " (" + style.error("\(summary.disruptive) disruptive") + ")" }
        return line + "."
    }
}
