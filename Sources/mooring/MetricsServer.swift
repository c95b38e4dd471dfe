import Foundation
import MooringDrivers

/// `run --metrics-address`: answers `GET /metrics` with the last round's metrics, each connection on a thread of
/// its own (at most `maxConnections` at once; more are closed at once), beside the watch loop (which only swaps
/// the text). Each request has one deadline for all of it (`deadline`, reading and answering), and its head is
/// at most 8 KiB: a client that sends a byte now and then is hung up on when the deadline passes, instead of
/// holding the only connection for as long as it keeps sending (a per-read timeout restarted with every byte:
/// 8 KiB at a byte every 1.5 s was 3.4 hours).
///
/// Hand-written on purpose, measured: FlyingFox, the light HTTP server in the package mirror, imports
/// FoundationNetworking for its proxy handler, which links libcurl into the static release binary and with it
/// OpenSSL, GSSAPI, LDAP and nghttp2: 56 shared libraries instead of 38, 92.7 MB instead of 87.4 MB, and every
/// `mooring` start 28 ms instead of 20-21 ms (`--version` 100 times, twice each). Prometheus needs one route of
/// HTTP/1.1 with `Connection: close`; that is this file.
final class MetricsServer: @unchecked Sendable {
    private let lock = NSLock()
    private var latest = ""
    private var listener: Int32 = -1
    private var connections = 0
    static let maxConnections = 16
    static let deadline: TimeInterval = 2

    var text: String {
        get { lock.withLock { latest } }
        set { lock.withLock { latest = newValue } }
    }

    /// Listens on `address` (`127.0.0.1:9840`, `[::1]:9840`) and serves from then on; throws if it cannot.
    func start(_ address: String) throws {
        let (family, storage, length) = try Self.socketAddress(address)
        listener = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw DriverError("metrics: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = storage
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw DriverError("cannot serve metrics on \(address): \(reason)")
        }
        let thread = Thread { [self] in serve() }
        thread.name = "metrics"
        thread.start()
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let admitted = lock.withLock {
                if connections >= Self.maxConnections { return false }
                connections += 1
                return true
            }
            guard admitted else { close(connection); continue }
            Thread.detachNewThread { [self] in
                answer(connection, until: Date().addingTimeInterval(Self.deadline))
                close(connection)
                lock.withLock { connections -= 1 }
            }
        }
    }

    /// Waits until the connection is ready for `events`, at most until `deadline`.
    private static func wait(_ connection: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            if remaining == 0 { return false }
            var entry = pollfd(fd: connection, events: events, revents: 0)
            let ready = poll(&entry, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    /// Reads the request head (at most 8 KiB) and answers it, all before `deadline`.
    private func answer(_ connection: Int32, until deadline: Date) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while !request.ends(with: [13, 10, 13, 10]) {
            guard request.count < 8192 else { break }
            guard Self.wait(connection, for: Int16(POLLIN), until: deadline) else { return }
            let count = recv(connection, &buffer, min(buffer.count, 8192 - request.count), Int32(MSG_DONTWAIT))
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            if count <= 0 { return }
            request += buffer[0..<count]
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let (status, body): (String, String)
        if line.count < 2 || !request.ends(with: [13, 10, 13, 10]) {
            (status, body) = ("400 Bad Request", "bad request (a request head of at most 8 KiB)\n")
        } else if line[0] != "GET" && line[0] != "HEAD" {
            (status, body) = ("405 Method Not Allowed", "only GET\n")
        } else if line[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first != "/metrics" {
            // A query string (`/metrics?x=1`, some scrapers add one) is ignored.
            (status, body) = ("404 Not Found", "see /metrics\n")
        } else {
            (status, body) = ("200 OK", text)
        }
        let payload = Array(body.utf8)
        var response = Array(("HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n").utf8)
        if line.first != "HEAD" { response += payload }
        var sent = 0
        while sent < response.count {
            guard Self.wait(connection, for: Int16(POLLOUT), until: deadline.addingTimeInterval(Self.deadline)) else { return }
            // MSG_NOSIGNAL: a scraper that hung up must not kill the loop with SIGPIPE.
            let count = response[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            if count <= 0 { return }
            sent += count
        }
    }

    /// `127.0.0.1:9840` or `[::1]:9840` as a socket address.
    static func socketAddress(_ text: String) throws -> (Int32, sockaddr_storage, socklen_t) {
        var storage = sockaddr_storage()
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":"),
           let port = UInt16(text[text.index(close, offsetBy: 2)...]) {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, String(text[text.index(after: text.startIndex)..<close]), &address.sin6_addr) == 1 else {
                throw DriverError("--metrics-address: \(text) is not an IPv6 address and port")
            }
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: withUnsafeBytes(of: address) { UnsafeRawBufferPointer($0) }) }
            return (AF_INET6, storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var address = sockaddr_in()
        // `localhost:PORT` is the loopback address; `:PORT` every IPv4 address, as most exporters read it.
        let host = parts.first.map { $0 == "localhost" ? "127.0.0.1" : $0.isEmpty ? "0.0.0.0" : String($0) } ?? ""
        guard parts.count == 2, let port = UInt16(parts[1]), port > 0, inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw DriverError("--metrics-address wants HOST:PORT (127.0.0.1:9840, localhost:9840, :9840, [::1]:9840), not \(text)")
        }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: withUnsafeBytes(of: address) { UnsafeRawBufferPointer($0) }) }
        return (AF_INET, storage, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
