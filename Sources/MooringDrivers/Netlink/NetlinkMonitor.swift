import CNetlink
import Foundation

/// A netlink socket subscribed to link and address changes in the target namespace. The watch loop polls its
/// descriptor and drains it; any change is a reason to plan again, so the messages themselves are not parsed.
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
        for group in [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR] {
            _ = nl_socket_add_membership(socket, Int32(group.rawValue))
        }
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = nl_socket_set_nonblocking(socket)
    }

    deinit { nl_socket_free(socket) }

    /// Reads everything queued; returns how many datagrams there were (an overflow counts as one).
    @discardableResult
    public func drain() -> Int {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var count = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got > 0 { count += 1; continue }
            if got < 0 && errno == EINTR { continue }
            // ENOBUFS: events were dropped; that is still "something changed".
            if got < 0 && errno == ENOBUFS { count += 1; continue }
            return count
        }
    }
}

extension HostDrivers {
    /// A monitor whose socket lives in this target's namespace.
    public func makeMonitor() throws -> NetlinkMonitor {
        try runInNamespace { try NetlinkMonitor() }
    }
}
