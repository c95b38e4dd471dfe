import CNetlink
import Foundation

/// What a drain of the monitor read: the links the messages name, or that some were lost.
public struct MonitorEvents: Sendable, Equatable {
    /// Datagrams read (an overflow counts as one).
    public var count = 0
    /// Links named by link messages (created, changed, deleted), by index.
    public var links: [Int: String] = [:]
    /// Interface indexes named by address and route messages (the loop maps them to names).
    public var indexes: Set<Int> = []
    /// The socket overflowed (ENOBUFS): events were dropped, so nothing can be concluded from the others.
    public var overflowed = false

    public init() {}
}

/// A netlink socket subscribed to link, address and route changes in the target namespace. The watch loop polls
/// its descriptor and drains it; the messages say which links changed, so a round can skip what mooring does
/// not use (MonitorEvents).
public final class NetlinkMonitor: @unchecked Sendable {
    private let socket: OpaquePointer
    public var fd: Int32 { nl_socket_get_fd(socket) }

    init() throws {
        guard let socket = nl_socket_alloc() else { throw DriverError("netlink monitor: cannot allocate a socket") }
        self.socket = socket
        nl_socket_disable_seq_check(socket)
        let rc = nl_connect(socket, NETLINK_ROUTE)
        guard rc >= 0 else {
            nl_socket_free(socket)
            throw DriverError("netlink monitor: cannot connect: \(String(cString: nl_geterror(rc)))")
        }
        for group in [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE] {
            _ = nl_socket_add_membership(socket, Int32(group.rawValue))
        }
        var size: Int32 = 4 << 20
        #if MOORING_TEST_HOOKS
        // The event-storm test makes the buffer small enough to overflow (the kernel doubles it, at least 2 KiB).
        if let small = ProcessInfo.processInfo.environment["MOORING_TEST_MONITOR_BUFFER"].flatMap(Int32.init) { size = small }
        #endif
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = nl_socket_set_nonblocking(socket)
    }

    deinit { nl_socket_free(socket) }

    /// Reads everything queued, and what it names.
    @discardableResult
    public func drain() -> MonitorEvents {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var events = MonitorEvents()
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got > 0 {
                events.count += 1
                buffer.withUnsafeMutableBytes { Self.parse(UnsafeMutableRawBufferPointer(rebasing: $0[0..<got]), into: &events) }
                continue
            }
            if got < 0 && errno == EINTR { continue }
            // ENOBUFS: events were dropped, and with them maybe a change to one of mooring's links.
            if got < 0 && errno == ENOBUFS { events.count += 1; events.overflowed = true; continue }
            return events
        }
    }

    /// The links one datagram's messages name: link messages by name, address and route messages by index.
    static func parse(_ datagram: UnsafeMutableRawBufferPointer, into events: inout MonitorEvents) {
        var offset = 0
        let headerSize = MemoryLayout<nlmsghdr>.size
        while offset + headerSize <= datagram.count {
            let header = datagram.baseAddress!.advanced(by: offset).assumingMemoryBound(to: nlmsghdr.self)
            let length = Int(header.pointee.nlmsg_len)
            guard length >= headerSize, offset + length <= datagram.count else { return }
            switch Int32(header.pointee.nlmsg_type) {
            case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
                // By name and by index: a link renamed away from one of mooring's names is about that link too.
                guard length >= headerSize + MemoryLayout<ifinfomsg>.size, let name = LinkDumpParser.linkName(header) else {
                    events.overflowed = true
                    break
                }
                events.links[Int(nlmsg_data(header)!.load(as: ifinfomsg.self).ifi_index)] = name
            case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
                if length >= headerSize + MemoryLayout<ifaddrmsg>.size {
                    events.indexes.insert(Int(nlmsg_data(header)!.load(as: ifaddrmsg.self).ifa_index))
                }
            case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE):
                if let index = LinkDumpParser.routeInterface(header) { events.indexes.insert(index) }
            default:
                break
            }
            offset += (length + 3) & ~3
        }
    }
}

extension HostDrivers {
    /// A monitor whose socket lives in this target's namespace.
    public func makeMonitor() throws -> NetlinkMonitor {
        try runInNamespace { try NetlinkMonitor() }
    }
}
