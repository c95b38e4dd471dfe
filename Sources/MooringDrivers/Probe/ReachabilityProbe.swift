import Foundation
import MooringModel

/// What `apply --try --probe` checks after a trial apply: that the host still reaches something it must
/// reach (its gateway, a management server). A TCP connect proves a full round trip through the routing
/// table and neighbour tables without any helper program; a refusal (RST) is an answer too, so it counts as
/// reached: this checks the path, not the service. An ICMP echo needs no listening port at all.
public enum ReachabilityProbe: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: IPAddress, port: Int)
    case ping(host: IPAddress)
    /// An ARP request or neighbour solicitation for a directly connected address, asked of the link itself
    /// (`NeighbourProbe`): no cached neighbour entry answers for it.
    case neighbour(host: IPAddress)

    /// `tcp:192.0.2.1:22`, `tcp:[2001:db8::1]:22`, `ping:192.0.2.1`, `neighbour:192.0.2.1` (or `neighbor:`).
    public init?(argument: String) {
        if argument.hasPrefix("ping:"), let host = IPAddress(String(argument.dropFirst(5))) {
            self = .ping(host: host)
            return
        }
        for prefix in ["neighbour:", "neighbor:"] where argument.hasPrefix(prefix) {
            guard let host = IPAddress(String(argument.dropFirst(prefix.count))) else { return nil }
            self = .neighbour(host: host)
            return
        }
        guard argument.hasPrefix("tcp:") else { return nil }
        let rest = argument.dropFirst(4)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let address = IPAddress(host) else { return nil }
        self = .tcp(host: address, port: port)
    }

    public var description: String {
        switch self {
        case let .tcp(host, port): return host.isIPv4 ? "tcp:\(host):\(port)" : "tcp:[\(host)]:\(port)"
        case let .ping(host): return "ping:\(host)"
        case let .neighbour(host): return "neighbour:\(host)"
        }
    }

    /// Nil when the target answered within `timeout` seconds, else why not. Runs in the caller's network
    /// namespace (`HostDrivers.runInNamespace` for a `--netns` target).
    public func check(timeout: Double) -> String? {
        switch self {
        case let .tcp(host, port): return Self.connect(host, port: port, timeout: timeout)
        case let .ping(host): return Self.echo(host, timeout: timeout)
        case let .neighbour(host): return NeighbourProbe.check(host, timeout: timeout)
        }
    }

    /// `host:port` as a socket address (the neighbour probe uses it too, to ask the routes which way `host` is).
    static func socketAddress(_ host: IPAddress, port: Int) -> (storage: sockaddr_storage, length: socklen_t) {
        var storage = sockaddr_storage()
        if host.isIPv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: host.bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: host.bytes) }
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
        return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Waits for `events` on `fd`; false on timeout.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(max(1, left * 1000)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    private static func connect(_ host: IPAddress, port: Int, timeout: Double) -> String? {
        let fd = socket(host.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(errorText(errno))" }
        defer { close(fd) }
        var (storage, length) = socketAddress(host, port: port)
        let started = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if started == 0 || errno == ECONNREFUSED { return nil }
        guard errno == EINPROGRESS else { return "connect to \(host) port \(port): \(errorText(errno))" }
        guard wait(fd, for: Int16(POLLOUT), until: Date().addingTimeInterval(timeout)) else {
            return "no answer from \(host) port \(port) within \(timeout) s"
        }
        var failure: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size)
        return failure == 0 || failure == ECONNREFUSED ? nil : "connect to \(host) port \(port): \(errorText(failure))"
    }

    /// One ICMP or ICMPv6 echo on a raw socket (root; the probe runs in the apply). The kernel computes the
    /// ICMPv6 checksum itself; the ICMP one is computed here.
    private static func echo(_ host: IPAddress, timeout: Double) -> String? {
        let v4 = host.isIPv4
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), v4 ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { return "raw socket: \(errorText(errno))" }
        defer { close(fd) }
        let identifier = UInt16(truncatingIfNeeded: getpid())
        let sequence = UInt16.random(in: 1...UInt16.max)
        var packet: [UInt8] = [v4 ? 8 : 128, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff),
                               UInt8(sequence >> 8), UInt8(sequence & 0xff)] + Array("mooring-probe".utf8)
        if v4 {
            let sum = internetChecksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        var (storage, length) = socketAddress(host, port: 0)
        let sent = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, length) }
        }
        guard sent == packet.count else { return "ping \(host): \(errorText(errno))" }
        let deadline = Date().addingTimeInterval(timeout)
        var reply = [UInt8](repeating: 0, count: 1500)
        while wait(fd, for: Int16(POLLIN), until: deadline) {
            var from = sockaddr_storage()
            var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &reply, reply.count, 0, $0, &fromLength) }
            }
            guard count > 0 else { continue }
            // An IPv4 raw socket hands over the IP header too; an IPv6 one does not.
            let offset = v4 ? Int(reply[0] & 0x0f) * 4 : 0
            guard count >= offset + 8 else { continue }
            let type = reply[offset], id = UInt16(reply[offset + 4]) << 8 | UInt16(reply[offset + 5])
            let seq = UInt16(reply[offset + 6]) << 8 | UInt16(reply[offset + 7])
            if type == (v4 ? 0 : 129) && id == identifier && seq == sequence { return nil }
        }
        return "no echo reply from \(host) within \(timeout) s"
    }

    private static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
