import Foundation

/// Runs host commands (ip, nft, ...) for test setup and inspection.
enum Shell {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The process died of a signal (then `status` is the signal number).
        var signaled = false

        var killedBySIGKILL: Bool { signaled && status == SIGKILL }
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
    }

    /// Runs a command that must succeed (test setup).
    @discardableResult
    static func must(_ arguments: String...) throws -> String { try must(arguments) }

    @discardableResult
    static func must(_ arguments: [String]) throws -> String {
        let output = try run(arguments)
        guard output.status == 0 else {
            throw TestFailure("\(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)")
        }
        return output.stdout
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
