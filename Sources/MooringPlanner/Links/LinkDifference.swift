import MooringModel
import MooringPlan

/// One field in which a link differs from its spec: typed before/after values for the plan, a line for
/// people, and, for settings that can change in place, the action that changes it.
struct LinkDifference {
    var field: FieldChange
    /// `mtu 1500 -> 9000`.
    var text: String
    /// The in-place change; nil for what only recreating the link changes.
    var set: Action?
    var summary: String
    /// Why it changes in place; nil for what only recreating the link changes (the kind's fixed fields).
    var reason: ChangeReason?
    /// Where the change runs when it is not the link's own phase (addresses).
    var phase: Phase?

    init(_ field: String, _ before: JSONValue, _ after: JSONValue, _ text: String, set: Action? = nil, summary: String = "",
         reason: ChangeReason? = nil, phase: Phase? = nil) {
        self.field = FieldChange(field, before: before, after: after)
        self.text = text
        self.set = set
        self.summary = summary
        self.reason = reason
        self.phase = phase
    }
}
