import Foundation
import MooringDrivers
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports

/// `mooring doctor`: what on this host would fight mooring or stop it, each with how to fix it.
public struct HostDoctor {
    public struct Finding: Sendable, Codable, Equatable {
        public enum Level: String, Sendable, Codable { case ok, info, warning, error }
        public var level: Level
        public var check: String
        public var message: String
        public var fix: String?

        public var json: JSONValue {
            ["level": .string(level.rawValue), "check": .string(check), "message": .string(message), "fix": JSONValue(fix)]
        }
    }

    public let drivers: HostDrivers
    public let desired: DesiredState?

    public init(drivers: HostDrivers, desired: DesiredState?) {
        self.drivers = drivers
        self.desired = desired
    }

    public func run() -> [Finding] {
        var findings: [Finding] = []
        func add(_ level: Finding.Level, _ check: String, _ message: String, fix: String? = nil) {
            findings.append(Finding(level: level, check: check, message: message, fix: fix))
        }

        // Network managers that could take over or undo mooring's links.
        let processes = Self.runningProcesses()
        if processes.contains("NetworkManager") {
            add(.warning, "NetworkManager", "NetworkManager is running and may manage mooring's bridges and taps",
                fix: "mark them unmanaged: /etc/NetworkManager/conf.d/mooring.conf with [keyfile] unmanaged-devices=interface-name:vm-*;interface-name:vx-*;interface-name:<your bridges>")
        } else {
            add(.ok, "NetworkManager", "not running")
        }
        if processes.contains("systemd-networkd") {
            let config = (try? String(contentsOfFile: "/etc/systemd/networkd.conf", encoding: .utf8)) ?? ""
            if config.contains("ManageForeignRoutes=no") {
                add(.ok, "systemd-networkd", "running, with ManageForeignRoutes=no")
            } else {
                add(.warning, "systemd-networkd", "running with ManageForeignRoutes on: it may remove routes and addresses on links it manages",
                    fix: "set ManageForeignRoutes=no and ManageForeignRoutingPolicyRules=no in /etc/systemd/networkd.conf, and give mooring's links no .network file")
            }
        } else {
            add(.ok, "systemd-networkd", "not running")
        }

        // Other nftables tables on the same hooks.
        do {
            let chains = try drivers.foreignBaseChains()
            for (family, table, chain) in chains {
                let name = "table \(family) \(table), chain \(chain.name) (\(chain.type) \(chain.hook) priority \(chain.priority))"
                if chain.type == "nat" {
                    add(.warning, "nftables", "\(name) also does NAT; with mooring's table, both run in priority order",
                        fix: "make sure it does not masquerade or DNAT the MicroVM bridges' traffic differently (e.g. Docker, CNI, firewalld)")
                } else if chain.hook == "forward" && chain.policy == "drop" {
                    add(.warning, "nftables", "\(name) drops forwarded traffic by default: MicroVMs behind NAT get nothing through unless it accepts them",
                        fix: "accept traffic from and to the internal bridges in that table (mooring's own accepts do not apply to other tables)")
                }
            }
            if !chains.contains(where: { $0.chain.type == "nat" || ($0.chain.hook == "forward" && $0.chain.policy == "drop") }) {
                add(.ok, "nftables", "no other table does NAT or drops forwarded traffic")
            }
        } catch {
            add(.error, "nftables", "cannot list the ruleset: \(error)", fix: "run as root (CAP_NET_ADMIN)")
        }
        let legacy = (try? String(contentsOfFile: "/proc/net/ip_tables_names", encoding: .utf8)) ?? ""
        if legacy.split(separator: "\n").contains("nat") {
            add(.warning, "iptables", "iptables-legacy has a nat table loaded; its rules run beside nftables and are not visible to `nft`",
                fix: "inspect with `iptables-legacy -t nat -S`; migrate them to nftables or make sure they leave the MicroVM bridges alone")
        } else {
            add(.ok, "iptables", "no iptables-legacy NAT rules")
        }

        // Forwarding, devices, VMMs, the bus.
        let sysctls = SysctlDriver.read()
        let natNeeded = !(desired?.nats.isEmpty ?? true)
        if sysctls["net.ipv4.ip_forward"] == "1" {
            add(.ok, "forwarding", "net.ipv4.ip_forward is on")
        } else {
            add(natNeeded ? .info : .ok, "forwarding", "net.ipv4.ip_forward is off\(natNeeded ? "; `mooring apply` turns it on for NAT" : "")")
        }
        if access("/dev/net/tun", R_OK | W_OK) == 0 {
            add(.ok, "tun", "/dev/net/tun is available")
        } else {
            add(.error, "tun", "/dev/net/tun is missing: taps cannot be created", fix: "modprobe tun")
        }
        if HostFacts.vhostNet() {
            add(.ok, "vhost-net", "/dev/vhost-net exists: taps are served by the kernel (vhost=on)")
        } else {
            add(.info, "vhost-net", "/dev/vhost-net is missing: the VMM moves every packet itself (vhost=off)", fix: "modprobe vhost_net")
        }
        let (identity, identityProblem) = HostFacts.vmmIdentity(userManager: drivers.userBus)
        if let identity {
            add(.ok, "vmm-user", identity.user.map { "VMMs run as \($0) (uid \(identity.uid))" }
                ?? "VMMs run as the user manager's user (uid \(identity.uid))")
        } else if let identityProblem {
            add(desired?.needsUnits == true ? .error : .warning, "vmm-user", identityProblem,
                fix: "install the package, or systemd-sysusers units/sysusers.d/mooring.conf")
        }
        let needsKVM = desired?.microVMs.contains { $0.vmm != .none && $0.accelerator == .kvm } ?? true
        if let problem = HostFacts.kvmProblem() {
            add(needsKVM ? .warning : .info, "kvm", problem, fix: "use Host spec.accelerator: tcg (slow, emulated) or a host with hardware virtualisation")
        } else {
            add(.ok, "kvm", "/dev/kvm is usable")
        }
        let executables = HostFacts.executables()
        let wanted = Set((desired?.microVMs ?? []).compactMap(\.vmm.program))
        for program in ["qemu-system-x86_64", "cloud-hypervisor", "firecracker"] {
            if let path = executables[program] {
                add(.ok, "vmm", "\(program) is \(path)")
            } else if wanted.contains(program) {
                add(.error, "vmm", "\(program) is not installed but the manifests use it",
                    fix: program == "qemu-system-x86_64" ? "apt install qemu-system-x86" : "install \(program)")
            } else {
                add(.info, "vmm", "\(program) is not installed")
            }
        }
        add(HostDrivers.kernelHasVLAN() ? .ok : .info, "vlan", HostDrivers.kernelHasVLAN() ? "802.1Q VLANs are supported" : "no 8021q module: Bridge spec.vlan cannot work here")
        do {
            _ = try drivers.systemdDriver()
            add(.ok, "systemd", "connected to the \(drivers.userBus ? "user" : "system") manager")
        } catch {
            add(desired?.needsUnits == true ? .error : .warning, "systemd", "\(error)",
                fix: drivers.userBus ? "set XDG_RUNTIME_DIR to the user manager's runtime directory" : "run under systemd, or use --user")
        }
        return findings
    }

    static func runningProcesses() -> Set<String> {
        var names: Set<String> = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            if let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8) {
                names.insert(comm.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return names
    }
}
