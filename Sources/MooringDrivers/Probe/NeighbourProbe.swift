import Foundation
import MooringModel

/// `--probe neighbour:IP`: asks the link itself whether IP (a gateway on a directly connected subnet) is there
/// now, with an ARP request (IPv4) or a neighbour solicitation (IPv6) out of the interface the host's routes
/// take to it, and waits for its reply. A ping or a TCP connect goes through the neighbour table, whose entry
/// for the gateway the kernel keeps using while it is REACHABLE or STALE: after a broken uplink move the host
/// stayed reachable that way for 13-22 s. This probe sees the break in the next round. Raw sockets, root only
/// (the probe runs in the apply); the kernel computes the ICMPv6 checksum.
enum NeighbourProbe {
    static func check(_ host: IPAddress, timeout: Double) -> String? {
        guard let (index, name, mac, source) = outgoingInterface(to: host) else {
            return "no interface of this host reaches \(host)"
        }
        let deadline = Date().addingTimeInterval(timeout)
        return host.isIPv4 ? arp(host, index: index, name: name, mac: mac, source: source, until: deadline, timeout: timeout)
            : solicit(host, index: index, name: name, mac: mac, until: deadline, timeout: timeout)
    }

    /// The interface (index, name, MAC) and source address the routing table uses for `host`, from the source
    /// address a connected UDP socket gets (nothing is sent).
    private static func outgoingInterface(to host: IPAddress) -> (Int32, String, [UInt8], [UInt8])? {
        let family = host.isIPv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var (storage, length) = ReachabilityProbe.socketAddress(host, port: 9)
        let connected = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        guard connected == 0 else { return nil }
        var local = sockaddr_storage()
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard withUnsafeMutablePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0 else {
            return nil
        }
        let source: [UInt8] = host.isIPv4
            ? withUnsafeBytes(of: &local) { raw in Array(raw.load(as: sockaddr_in.self).sin_addr.s_addr.bigEndian.bytes) }
            : withUnsafeBytes(of: &local) { raw in withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) } }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var name: String?
        var macs: [String: [UInt8]] = [:]
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr else { continue }
            let interface = String(cString: entry.pointee.ifa_name)
            switch Int32(address.pointee.sa_family) {
            case AF_INET where host.isIPv4:
                let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Array($0.pointee.sin_addr.s_addr.bigEndian.bytes) }
                if bytes == source { name = interface }
            case AF_INET6 where !host.isIPv4:
                let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                if bytes == source { name = interface }
            case AF_PACKET:
                let raw = UnsafeRawPointer(address)
                let length = Int(raw.load(fromByteOffset: PacketAddress.lengthOffset, as: UInt8.self))
                macs[interface] = (0..<min(length, 8)).map { raw.load(fromByteOffset: PacketAddress.addressOffset + $0, as: UInt8.self) }
            default:
                break
            }
        }
        guard let name, let mac = macs[name], mac.count == 6 else { return nil }
        let index = Int32(if_nametoindex(name))
        return index > 0 ? (index, name, mac, source) : nil
    }

    private static func arp(_ host: IPAddress, index: Int32, name: String, mac: [UInt8], source: [UInt8], until deadline: Date,
                            timeout: Double) -> String? {
        let protocolARP = UInt16(0x0806).bigEndian
        let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(protocolARP))
        guard fd >= 0 else { return "packet socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let link = PacketAddress.broadcast(protocol: protocolARP, index: index)
        _ = link.withUnsafeBytes { bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        let request: [UInt8] = [0, 1, 0x08, 0x00, 6, 4, 0, 1] + mac + source + [UInt8](repeating: 0, count: 6) + host.bytes
        let sent = link.withUnsafeBytes { sendto(fd, request, request.count, 0, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        guard sent == request.count else { return "ARP request for \(host) on \(name): \(String(cString: strerror(errno)))" }
        var reply = [UInt8](repeating: 0, count: 1500)
        while wait(fd, until: deadline) {
            let count = recv(fd, &reply, reply.count, 0)
            // A reply (op 2) whose sender protocol address is the one asked for.
            if count >= 28, reply[6] == 0, reply[7] == 2, Array(reply[14..<18]) == host.bytes { return nil }
        }
        return "no ARP reply from \(host) on \(name) within \(timeout) s"
    }

    private static func solicit(_ host: IPAddress, index: Int32, name: String, mac: [UInt8], until deadline: Date, timeout: Double) -> String? {
        let fd = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { return "raw socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        // Neighbour discovery is only valid with a hop limit of 255 (RFC 4861), and leaves by this interface.
        var hops: Int32 = 255, interface = UInt32(index)
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &interface, socklen_t(MemoryLayout<UInt32>.size))
        let target = host.bytes
        let solicitation: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + target + [1, 1] + mac
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_scope_id = UInt32(index)
        // The target's solicited-node multicast address: ff02::1:ffXX:XXXX.
        let group: [UInt8] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff] + target[13...]
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: group) }
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, solicitation, solicitation.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        guard sent == solicitation.count else { return "neighbour solicitation for \(host) on \(name): \(String(cString: strerror(errno)))" }
        var reply = [UInt8](repeating: 0, count: 1500)
        while wait(fd, until: deadline) {
            let count = recv(fd, &reply, reply.count, 0)
            // A neighbour advertisement (136) for the target asked about.
            if count >= 24, reply[0] == 136, Array(reply[8..<24]) == target { return nil }
        }
        return "no neighbour advertisement from \(host) on \(name) within \(timeout) s"
    }

    private static func wait(_ fd: Int32, until deadline: Date) -> Bool {
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return false }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(max(1, left * 1000)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }
}

/// `struct sockaddr_ll` (<linux/if_packet.h>), laid out by hand: including that header in a C shim module made
/// Glibc's socket constants (SOCK_STREAM, ...) invisible to other files of this module in some build orders,
/// which broke clean builds. The layout is the kernel's ABI: family u16, protocol be16, ifindex i32,
/// hatype u16, pkttype u8, halen u8, addr[8]; 20 bytes.
private enum PacketAddress {
    static let lengthOffset = 11
    static let addressOffset = 12

    /// To the Ethernet broadcast address, on interface `index`, for `protocol` (network order).
    static func broadcast(protocol: UInt16, index: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { bytes.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: `protocol`) { bytes.replaceSubrange(2..<4, with: $0) }
        withUnsafeBytes(of: index) { bytes.replaceSubrange(4..<8, with: $0) }
        bytes[lengthOffset] = 6
        for offset in addressOffset..<(addressOffset + 6) { bytes[offset] = 0xff }
        return bytes
    }
}

private extension UInt32 {
    /// The four bytes in memory order (an address already in network order, read back as big-endian).
    var bytes: [UInt8] { [UInt8(self >> 24), UInt8((self >> 16) & 0xff), UInt8((self >> 8) & 0xff), UInt8(self & 0xff)] }
}
