import ArgumentParser

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Check this host for what would fight or stop mooring.")
    func run() throws {}
}
