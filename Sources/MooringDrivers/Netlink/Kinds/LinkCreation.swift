import MooringPlan

/// What every create carries besides its kind's own configuration: the netlink driver hands it to the
/// kind's file in this folder (`queue(_:_:_:_:)`, one overload per kind).
struct LinkCreation {
    var name: String
    var alias: String
    var master: String?
    var mtu: Int?
    /// The change's position in the plan, and its operation, for errors and progress.
    var position: Int
    var operation: Action
}
