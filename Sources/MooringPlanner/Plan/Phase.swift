/// Execution order of a plan. Gaps leave room; within a phase, changes keep the planner's order.
public enum Phase {
    /// A MicroVM stops before its devices go away.
    public static let stopUnits = 5
    /// Deleting MicroVM devices before the bridges they hang off, and recreated links before their new selves.
    public static let deleteMicroVMDevices = 10
    public static let deletePorts = 11
    public static let deleteBridges = 12
    public static let createBridges = 20
    public static let updateBridges = 25
    public static let hostPorts = 30
    public static let bridgePorts = 40
    public static let microVMDevices = 50
    public static let removeAddresses = 60
    public static let addAddresses = 61
    public static let sysctls = 70
    public static let nftables = 80
    public static let startUnits = 95
}
