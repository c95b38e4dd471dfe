import FlyingFox
import FlyingSocks
import Foundation
import MooringDrivers

/// `run --metrics-address`: GET /metrics answers the last round's metrics (FlyingFox, on Swift concurrency's
/// own threads, beside the watch loop, which only swaps the text).
final class MetricsServer: @unchecked Sendable {
    private let lock = NSLock()
    private var latest = ""

    var text: String {
        get { lock.withLock { latest } }
        set { lock.withLock { latest = newValue } }
    }

    /// Starts listening on `address` (`127.0.0.1:9840`, `[::1]:9840`) and returns once it does, or throws.
    func start(_ address: String) throws {
        let server = try HTTPServer(address: Self.socketAddress(address), logger: .disabled)
        let started = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task.detached { [self] in
            await server.appendRoute("GET /metrics") { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(self.text.utf8))
            }
            // A bind that fails ends run() at once; waitUntilListening gives up after its timeout then.
            let running = Task { try await server.run() }
            do { try await server.waitUntilListening(timeout: 5) } catch {
                running.cancel()
                if case let .failure(cause) = await running.result, !(cause is CancellationError) { failure.error = cause } else { failure.error = error }
            }
            started.signal()
            _ = await running.result
        }
        started.wait()
        if let error = failure.error { throw DriverError("cannot serve metrics on \(address): \(error)") }
    }

    private final class FailureBox: @unchecked Sendable { var error: (any Error)? }

    static func socketAddress(_ text: String) throws -> any SocketAddress {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), let port = UInt16(text[text.index(after: close)...].dropFirst()) {
            return try .inet6(ip6: String(text[text.index(after: text.startIndex)..<close]), port: port)
        }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw DriverError("--metrics-address wants HOST:PORT (127.0.0.1:9840, [::1]:9840), not \(text)")
        }
        return try sockaddr_in.inet(ip4: String(parts[0]), port: port)
    }
}
