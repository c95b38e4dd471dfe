import CNetlink
import MooringModel
import Foundation

/// Persistent tap devices. rtnetlink cannot create tun/tap devices; the TUNSETIFF ioctl on /dev/net/tun
/// can, in the namespace of the calling thread, at an interface index chosen with TUNSETIFINDEX.
enum TapDevice {
    static func create(name: String, index: Int32, config: TapConfig) throws {
        let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw DriverError("create tap \(name): cannot open /dev/net/tun: \(String(cString: strerror(errno))) (is the tun module loaded?)")
        }
        defer { close(fd) }
        var requestedIndex = UInt32(index)
        guard ioctl(fd, mooring_TUNSETIFINDEX(), &requestedIndex) == 0 else {
            throw DriverError("create tap \(name): TUNSETIFINDEX failed: \(String(cString: strerror(errno)))")
        }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { buffer in
            let bytes = Array(name.utf8.prefix(buffer.count - 1))
            for (offset, byte) in bytes.enumerated() { buffer[offset] = byte }
        }
        var flags = Int32(IFF_TAP | IFF_NO_PI)
        if config.vnetHeader { flags |= Int32(IFF_VNET_HDR) }
        if config.multiQueue { flags |= Int32(IFF_MULTI_QUEUE) }
        request.ifr_ifru.ifru_flags = Int16(truncatingIfNeeded: flags)
        guard ioctl(fd, mooring_TUNSETIFF(), &request) == 0 else {
            throw DriverError("create tap \(name): TUNSETIFF failed: \(String(cString: strerror(errno)))")
        }
        // Owner and group before persistence: the tap outlives this descriptor already owned.
        if let owner = config.owner, ioctl(fd, mooring_TUNSETOWNER(), Int32(bitPattern: owner)) != 0 {
            throw DriverError("create tap \(name): TUNSETOWNER \(owner) failed: \(String(cString: strerror(errno)))")
        }
        if let group = config.group, ioctl(fd, mooring_TUNSETGROUP(), Int32(bitPattern: group)) != 0 {
            throw DriverError("create tap \(name): TUNSETGROUP \(group) failed: \(String(cString: strerror(errno)))")
        }
        guard ioctl(fd, mooring_TUNSETPERSIST(), 1) == 0 else {
            throw DriverError("create tap \(name): TUNSETPERSIST failed: \(String(cString: strerror(errno)))")
        }
    }
}
