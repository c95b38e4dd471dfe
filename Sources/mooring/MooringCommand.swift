import ArgumentParser

@main
struct MooringCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mooring",
        abstract: "Make this host's bridges, taps, NAT and MicroVMs match a directory of YAML manifests.",
        version: Version.text,
        subcommands: [ValidateCommand.self, PlanCommand.self, ApplyCommand.self, RestartCommand.self, StatusCommand.self, RunCommand.self, DoctorCommand.self, ConsoleCommand.self,
                      ConfirmCommand.self, ExecVMCommand.self, StopVMCommand.self]
    )

    static func main() {
        MemoryAllocator.configure()
        main(nil)
    }
}
