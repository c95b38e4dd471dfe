import CNetlink
import Foundation

/// An rtnetlink socket (libnl) that sends many requests per `sendmsg` and matches the kernel's acks to them.
///
/// The kernel handles every request of one `sendmsg` in that system call, in order, before returning; a
/// process killed meanwhile is killed only after it. So requests that must happen together (create a link
/// and mark it as mooring's) go into one send, and bulk work costs one system call per chunk instead of a
/// round trip per request.
final class NetlinkSocket {
    let socket: OpaquePointer
    private var sequence: UInt32
    private var receiveBuffer = [UInt8](repeating: 0, count: 1 << 18)

    /// Requests per send stay under this many bytes (the kernel refuses sends over its socket buffer).
    static let maxSendBytes = 128 * 1024

    /// - Parameter strict: NETLINK_GET_STRICT_CHK: the kernel checks dump requests and honours their filters
    ///   (an interface index for addresses, an output interface for routes) instead of returning everything.
    init(strict: Bool = false) throws {
        guard let socket = nl_socket_alloc() else { throw DriverError("netlink: cannot allocate a socket") }
        self.socket = socket
        sequence = UInt32(truncatingIfNeeded: time(nil))
        let rc = nl_connect(socket, NETLINK_ROUTE)
        if rc < 0 {
            nl_socket_free(socket)
            throw DriverError("netlink: cannot connect: \(String(cString: nl_geterror(rc)))")
        }
        let fd = nl_socket_get_fd(socket)
        // libnl's nl_connect leaves 32 KiB buffers: too small for batched sends and their acks. Force needs
        // CAP_NET_ADMIN; fall back to the capped option for unprivileged dumps.
        var size: Int32 = 8 << 20
        for (forced, capped) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)] {
            if setsockopt(fd, SOL_SOCKET, forced, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, capped, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        var on: Int32 = 1
        // Extended acks carry the kernel's own error text; capped acks do not echo our request back.
        _ = setsockopt(fd, 270 /* SOL_NETLINK */, 11 /* NETLINK_EXT_ACK */, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, 270, 10 /* NETLINK_CAP_ACK */, &on, socklen_t(MemoryLayout<Int32>.size))
        if strict { _ = setsockopt(fd, 270, 12 /* NETLINK_GET_STRICT_CHK */, &on, socklen_t(MemoryLayout<Int32>.size)) }
    }

    deinit { nl_socket_free(socket) }

    var fd: Int32 { nl_socket_get_fd(socket) }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    // MARK: Sending

    /// Sends `requests` (each a complete netlink message) in as few sends as fit, and returns the first
    /// failure per request index. Every request is acked; a failure does not stop later requests of the
    /// same send (each is independent), so callers stop at the end of a transaction that had one.
    func transact(_ requests: [NetlinkRequest]) throws -> [Int: NetlinkFailure] {
        var failures: [Int: NetlinkFailure] = [:]
        var start = 0
        while start < requests.count {
            var end = start
            var bytes = 0
            // Never split a request group (its members must be handled in one send).
            while end < requests.count {
                var groupEnd = end + 1
                while groupEnd < requests.count && requests[groupEnd].continuesGroup { groupEnd += 1 }
                let groupBytes = requests[end..<groupEnd].reduce(0) { $0 + $1.bytes.count }
                if end > start && bytes + groupBytes > Self.maxSendBytes { break }
                bytes += groupBytes
                end = groupEnd
            }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(bytes)
            var pending: [UInt32: Int] = [:]
            for index in start..<end {
                var message = requests[index].bytes
                let seq = nextSequence()
                message.withUnsafeMutableBytes { raw in
                    raw.storeBytes(of: seq, toByteOffset: 8, as: UInt32.self)
                    let flags = raw.load(fromByteOffset: 6, as: UInt16.self) | UInt16(NLM_F_REQUEST | NLM_F_ACK)
                    raw.storeBytes(of: flags, toByteOffset: 6, as: UInt16.self)
                }
                pending[seq] = index
                buffer += message
            }
            try send(buffer)
            try receiveAcks(&pending) { index, failure in failures[index] = failure }
            start = end
        }
        return failures
    }

    /// Sends `requests` (gets, each answered by one message and an ack) in one send; calls `reply` with each
    /// answer and returns the failures by request index. For a handful of requests: no chunking.
    func request(_ requests: [NetlinkRequest], reply: (UnsafeMutablePointer<nlmsghdr>) throws -> Void) throws -> [Int: NetlinkFailure] {
        guard !requests.isEmpty else { return [:] }
        var buffer: [UInt8] = []
        var pending: [UInt32: Int] = [:]
        for (index, request) in requests.enumerated() {
            var message = request.bytes
            let seq = nextSequence()
            message.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: seq, toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: UInt16(NLM_F_REQUEST | NLM_F_ACK), toByteOffset: 6, as: UInt16.self)
            }
            pending[seq] = index
            buffer += message
        }
        try send(buffer)
        var failures: [Int: NetlinkFailure] = [:]
        while !pending.isEmpty {
            try receiveMessages { type, seq, bytes in
                guard pending[seq] != nil else { return }
                if type == Int(NLMSG_ERROR) {
                    let index = pending.removeValue(forKey: seq)!
                    if let failure = NetlinkFailure(errorMessage: bytes) { failures[index] = failure }
                } else {
                    try reply(UnsafeMutableRawPointer(mutating: bytes.baseAddress!).assumingMemoryBound(to: nlmsghdr.self))
                }
            }
        }
        return failures
    }

    private func send(_ buffer: [UInt8]) throws {
        let rc = buffer.withUnsafeBytes { raw in
            nl_sendto(socket, UnsafeMutableRawPointer(mutating: raw.baseAddress), raw.count)
        }
        // libnl folds many errnos into "Unspecific failure"; errno still has the kernel's answer.
        if rc < 0 { throw DriverError("netlink: send of \(buffer.count) bytes failed: \(String(cString: strerror(errno)))") }
    }

    private func receiveAcks(_ pending: inout [UInt32: Int], _ failed: (Int, NetlinkFailure) -> Void) throws {
        while !pending.isEmpty {
            try receiveMessages { type, seq, message in
                guard type == Int(NLMSG_ERROR), let index = pending.removeValue(forKey: seq) else { return }
                if let failure = NetlinkFailure(errorMessage: message) { failed(index, failure) }
            }
        }
    }

    /// Reads one datagram and calls `body(type, seq, message bytes)` for each message in it.
    func receiveMessages(_ body: (Int, UInt32, UnsafeRawBufferPointer) throws -> Void) throws {
        var got: Int
        repeat {
            got = receiveBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        } while got < 0 && errno == EINTR
        if got < 0 {
            let code = errno
            if code == ENOBUFS {
                throw DriverError("netlink: the kernel dropped replies (ENOBUFS); the socket buffer is too small")
            }
            throw DriverError("netlink: receive failed: \(String(cString: strerror(code)))")
        }
        try receiveBuffer.withUnsafeBytes { raw in
            var offset = 0
            while offset + 16 <= got {
                let length = Int(raw.load(fromByteOffset: offset, as: UInt32.self))
                guard length >= 16, offset + length <= got else { break }
                let type = Int(raw.load(fromByteOffset: offset + 4, as: UInt16.self))
                let seq = raw.load(fromByteOffset: offset + 8, as: UInt32.self)
                try body(type, seq, UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length]))
                offset += (length + 3) & ~3
            }
        }
    }

    // MARK: Dumps

    /// Sends one dump request and calls `body` with every message of the answer.
    func dump(_ request: NetlinkRequest, _ body: (UnsafeMutablePointer<nlmsghdr>) throws -> Void) throws {
        var message = request.bytes
        let seq = nextSequence()
        message.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: seq, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt16(NLM_F_REQUEST | NLM_F_DUMP), toByteOffset: 6, as: UInt16.self)
        }
        try send(message)
        var done = false
        while !done {
            try receiveMessages { type, messageSeq, bytes in
                guard messageSeq == seq else { return }
                switch type {
                case Int(NLMSG_DONE): done = true
                case Int(NLMSG_ERROR):
                    if let failure = NetlinkFailure(errorMessage: bytes) {
                        throw DriverError("netlink: dump failed: \(failure)")
                    }
                default:
                    let header = UnsafeMutableRawPointer(mutating: bytes.baseAddress!).assumingMemoryBound(to: nlmsghdr.self)
                    try body(header)
                }
            }
        }
    }
}

/// One complete netlink message ready to send.
struct NetlinkRequest {
    var bytes: [UInt8]
    /// True when this request must travel in the same send as the one before it.
    var continuesGroup = false
}

/// The kernel's answer to a failed request: the errno and its extended-ack text, if any.
struct NetlinkFailure: CustomStringConvertible, Sendable {
    var errno: Int32
    var kernelMessage: String?

    /// Parses an NLMSG_ERROR message; nil for a plain ack (error 0).
    init?(errorMessage bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 20 else { return nil }
        let code = bytes.load(fromByteOffset: 16, as: Int32.self)
        if code == 0 { return nil }
        errno = -code
        let flags = bytes.load(fromByteOffset: 6, as: UInt16.self)
        guard flags & 0x200 != 0 /* NLM_F_ACK_TLVS */ else { return }
        var offset = 20 + 16  // our nlmsghdr, error code, then the echoed request header
        if flags & 0x100 == 0 /* NLM_F_CAPPED */, bytes.count >= 40 {
            offset = 20 + ((Int(bytes.load(fromByteOffset: 20, as: UInt32.self)) + 3) & ~3)
        }
        while offset + 4 <= bytes.count {
            let length = Int(bytes.load(fromByteOffset: offset, as: UInt16.self))
            let type = bytes.load(fromByteOffset: offset + 2, as: UInt16.self)
            guard length >= 4, offset + length <= bytes.count else { break }
            if type == 1 /* NLMSGERR_ATTR_MSG */ {
                let text = bytes[(offset + 4)..<(offset + length)].prefix { $0 != 0 }
                kernelMessage = String(decoding: text, as: UTF8.self)
            }
            offset += (length + 3) & ~3
        }
    }

    init(errno: Int32, kernelMessage: String? = nil) {
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    var description: String {
        let text = String(cString: strerror(errno))
        guard let kernelMessage, !kernelMessage.isEmpty else { return text }
        return "\(text): \(kernelMessage)"
    }
}
