// A guest's VMM, reduced to its sending loop, for benchmarks/filter-cost: opens a tap the way a VMM does and
// writes COUNT identical frames into it, then prints the nanoseconds per frame. A tap write runs the whole
// receive path (the bridge, its nftables hooks, forwarding to the destination port) in the writer's own system
// call, so the time per write is the kernel's cost per frame plus a constant system-call overhead; comparing
// runs with and without the guests' filter isolates the filter's cost. Compiled by filter-cost with swiftc -O:
// Python's per-write overhead (several microseconds) would bury a cost of tens of nanoseconds.
//
// RECEIVER is the destination guest's tap, held open (never read) as its VMM would: a tap nobody has open has no
// carrier, and a bridge port without carrier forwards nothing. Its queue fills, then the tap drops each frame
// (counted in its tx_dropped, which filter-cost checks).
//
//   frame-injector TAP COUNT ipv4|ipv6 SRC_MAC DST_MAC SRC_IP DST_IP RECEIVER
import Glibc

func fail(_ message: String) -> Never {
    fputs("frame-injector: \(message)\n", stderr)
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 9, let count = Int(arguments[2]), count > 0 else {
    fail("usage: frame-injector TAP COUNT ipv4|ipv6 SRC_MAC DST_MAC SRC_IP DST_IP RECEIVER")
}
let (tap, family, sourceMAC, destinationMAC, sourceIP, destinationIP) =
    (arguments[1], arguments[3], arguments[4], arguments[5], arguments[6], arguments[7])

func mac(_ text: String) -> [UInt8] {
    let bytes = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    guard bytes.count == 6 else { fail("not a MAC: \(text)") }
    return bytes
}

func address(_ text: String, _ family: Int32) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: family == AF_INET ? 4 : 16)
    guard inet_pton(family, text, &bytes) == 1 else { fail("not an address: \(text)") }
    return bytes
}

func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

func checksum(_ data: [UInt8]) -> Int {
    var total = 0
    for index in stride(from: 0, to: data.count, by: 2) { total += Int(data[index]) << 8 | Int(index + 1 < data.count ? data[index + 1] : 0) }
    while total >> 16 != 0 { total = (total & 0xffff) + (total >> 16) }
    return ~total & 0xffff
}

// A small UDP datagram from the guest's own address: the frame a well-behaved guest sends most.
let payload = [UInt8](repeating: 0x61, count: 18)
let udp = be16(40000) + be16(9) + be16(8 + payload.count) + be16(0) + payload
var frame = mac(destinationMAC) + mac(sourceMAC)
switch family {
case "ipv4":
    var header = [0x45, 0] + be16(20 + udp.count) + [0, 0, 0, 0, 64, 17, 0, 0]
        + address(sourceIP, AF_INET) + address(destinationIP, AF_INET)
    let sum = be16(checksum(header))
    header[10] = sum[0]
    header[11] = sum[1]
    frame += be16(0x0800) + header + udp
case "ipv6":
    frame += be16(0x86dd) + [0x60, 0, 0, 0] + be16(udp.count) + [17, 64]
        + address(sourceIP, AF_INET6) + address(destinationIP, AF_INET6) + udp
default:
    fail("family must be ipv4 or ipv6")
}
// virtio_net_hdr (no offloads) before the frame, as a VMM writes with IFF_VNET_HDR.
let packet = [UInt8](repeating: 0, count: 10) + frame

func attach(_ tap: String) -> Int32 {
    let fd = open("/dev/net/tun", O_RDWR)
    guard fd >= 0 else { fail("cannot open /dev/net/tun") }
    var request = ifreq()
    withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
        for (index, byte) in tap.utf8.prefix(15).enumerated() { name[index] = byte }
    }
    request.ifr_ifru.ifru_flags = Int16(0x0002 | 0x1000 | 0x4000)  // IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
    guard ioctl(fd, UInt(0x400454CA) /* TUNSETIFF */, &request) == 0 else { fail("cannot attach to \(tap): \(String(cString: strerror(errno)))") }
    return fd
}
let receiver = attach(arguments[8])
let fd = attach(tap)
// The receiver's port forwards once the bridge has seen its carrier come up (an event, not instant): wait
// for the port's state to read forwarding, at most a second.
func portState() -> String {
    guard let file = fopen("/sys/class/net/\(arguments[8])/brport/state", "r") else { return "" }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 16)
    return fgets(&buffer, 16, file) == nil ? "" : String(cString: buffer).filter(\.isNumber)
}
for _ in 0..<1000 where portState() != "3" /* BR_STATE_FORWARDING */ { usleep(1000) }

var start = timespec()
var end = timespec()
packet.withUnsafeBytes { bytes in
    clock_gettime(CLOCK_MONOTONIC, &start)
    for _ in 0..<count {
        if write(fd, bytes.baseAddress, bytes.count) != bytes.count { fail("write: \(String(cString: strerror(errno)))") }
    }
    clock_gettime(CLOCK_MONOTONIC, &end)
}
let nanoseconds = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
print((nanoseconds / Double(count) * 10).rounded() / 10)
close(receiver)
