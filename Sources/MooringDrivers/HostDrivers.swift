import Foundation
import MooringModel
import MooringPlanner

/// The drivers for one target (the host, or one network namespace), created and used on its namespace thread.
public final class HostDrivers: Sendable {
    public let netns: String?
    private let thread: NamespaceThread
    private let netlink: NetlinkDriver

    public init(netns: String?) throws {
        self.netns = netns
        thread = try NamespaceThread(netns: netns)
        netlink = try thread.run { try NetlinkDriver() }
    }

    deinit { thread.stop() }

    /// Reads everything the planner compares: links and addresses now; nftables and units as they land.
    public func observe() throws -> ObservedState {
        let netlink = self.netlink
        let links = try thread.run { try netlink.observeLinks() }
        return ObservedState(links: links, capabilities: HostCapabilities(vlan: Self.kernelHasVLAN()))
    }

    /// Executes a run of link actions in the target namespace.
    public func applyLinks(_ actions: [Action], flushAfter: @escaping @Sendable (Int) -> Bool,
                           completed: @escaping @Sendable (Int) -> Void) throws {
        let netlink = self.netlink
        try thread.run { try netlink.apply(actions, flushAfter: flushAfter, completed: { completed($0) }) }
    }

    /// 802.1Q needs the 8021q module: loaded, or available to load.
    public static func kernelHasVLAN() -> Bool {
        if FileManager.default.fileExists(atPath: "/sys/module/8021q") { return true }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let directory = "/lib/modules/\(release)/kernel/net/8021q"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.contains { $0.hasPrefix("8021q.ko") }
    }
}
