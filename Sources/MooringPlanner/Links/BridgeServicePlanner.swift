import MooringModel
import MooringPlan

/// A bridge's services (`spec.dhcpServer`, `spec.ipv6SendRA`): one dnsmasq per bridge, run as a transient unit
/// mooring owns (`mooring-bridge-<bridge>.service`) in the target's namespace, its configuration generated from
/// the manifests (DnsmasqConfig) and part of the unit's hash: a changed lease, DNS server or prefix restarts it,
/// a unit stopped or failed is started again, and turning both fields off stops it.
struct BridgeServicePlanner {
    let desired: DesiredState
    let observed: ObservedState
    let target: PlanTarget

    func plan() -> (changes: [Change], conflicts: [Conflict]) {
        var changes: [Change] = []
        var conflicts: [Conflict] = []
        var wanted: Set<String> = []
        let units = Dictionary(observed.bridgeServices.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for bridge in desired.bridges where bridge.dhcpServer != nil || bridge.ipv6SendRA != nil {
            let name = SystemdNames.unitName(forBridgeService: bridge.name, netns: target.networkNamespace)
            wanted.insert(name)
            let group = ChangeGroup(bridge.origin)
            guard let dnsmasq = observed.capabilities.executables["dnsmasq"] else {
                conflicts.append(Conflict(resource: .unit(name), group: group,
                                          message: "\(bridge.origin.subject) serves DHCP or router advertisements, but dnsmasq is not installed",
                                          fix: "apt install dnsmasq-base (the program alone; mooring runs it per bridge)"))
                continue
            }
            if let problem = observed.unitProblem {
                conflicts.append(Conflict(resource: .unit(name), group: group, message: "cannot run \(bridge.origin.subject)'s services: \(problem)",
                                          fix: "start systemd (or pass --user for a user manager), or remove spec.dhcpServer and spec.ipv6SendRA"))
                continue
            }
            let spec = unit(for: bridge, dnsmasq: dnsmasq)
            let what = [bridge.dhcpServer.map { _ in "DHCP" }, bridge.ipv6SendRA.map { _ in "router advertisements" }].compactMap { $0 }
                .joined(separator: " and ")
            func change(_ action: Change.Verb, _ summary: String, _ reason: ChangeReason, _ operation: Action, before: String?) -> Change {
                Change(resource: .unit(name), group: group, action: action, summary: summary, reason: reason,
                       fields: [FieldChange("state", before: JSONValue(before), after: "active/running"),
                                FieldChange("specHash", before: JSONValue(units[name]?.specHash), after: .string(spec.specHash))],
                       details: spec.files.first.map { $0.contents.split(separator: "\n").dropFirst().map { "  " + $0 } } ?? [],
                       operation: operation, phase: .startUnits)
            }
            guard let running = units[name] else {
                changes.append(change(.start, "start unit \(name) (dnsmasq: \(what) on \(bridge.name))", .declared(group), .startUnit(spec), before: nil))
                continue
            }
            let state = "\(running.activeState)/\(running.subState)"
            if !running.isRunning || running.activeState == "failed" {
                changes.append(change(.restart, "restart unit \(name) (it is \(state))",
                                      running.activeState == "failed" ? .vmmFailed(failure: running.failure, lastOutput: running.lastOutput) : .notRunning,
                                      .restartUnit(spec), before: state))
            } else if running.specHash != spec.specHash {
                changes.append(change(.restart, "restart unit \(name): its configuration changed", .declared(group), .restartUnit(spec), before: state))
            } else if let written = spec.files.first?.contents, let found = observed.bridgeServiceConfigs[name], found != written {
                // Edited by hand: dnsmasq reads it only at start, so it is written again and dnsmasq restarted.
                changes.append(change(.restart, "restart unit \(name): its configuration file was changed by hand", .configurationEdited,
                                      .restartUnit(spec), before: state))
            }
        }
        for unit in observed.bridgeServices where !wanted.contains(unit.name) {
            changes.append(Change(resource: .unit(unit.name), group: .stale, action: .stop,
                                  summary: "stop unit \(unit.name) (no bridge serves DHCP or router advertisements through it any more)",
                                  reason: .noLongerInManifests,
                                  fields: [FieldChange("state", before: .string("\(unit.activeState)/\(unit.subState)"), after: "stopped")],
                                  operation: .stopUnit(name: unit.name, runDirectory: SystemdNames.bridge(forServiceUnit: unit.name, netns: target.networkNamespace).map(runDirectory)),
                                  phase: .stopUnits))
        }
        return (changes, conflicts)
    }

    /// Where a bridge's dnsmasq configuration is written; removed with its unit.
    func runDirectory(_ bridge: String) -> String {
        SystemdNames.bridgeServiceDirectory(runRoot: target.runRoot, bridge: bridge, netns: target.networkNamespace)
    }

    /// dnsmasq in the foreground, its configuration written into a run directory of root's. It keeps the
    /// capabilities a DHCP server and RA sender need (binding port 67, raw ICMPv6, setting ARP entries for
    /// clients without an address yet) and drops to `nobody` itself; the rest of the system is read-only.
    func unit(for bridge: DesiredBridge, dnsmasq: String) -> UnitSpec {
        let runDirectory = runDirectory(bridge.name)
        let guests = desired.microVMs.flatMap { vm in
            vm.interfaces.filter { $0.type == .tap && $0.bridge == bridge.name }.map { interface in
                DnsmasqConfig.Guest(name: vm.name, mac: interface.mac, addresses: interface.addresses, gateways: interface.gateways,
                                    nameservers: interface.nameservers)
            }
        }
        let config = UnitFile(path: "\(runDirectory)/dnsmasq.conf", contents: DnsmasqConfig.render(bridge, guests: guests))
        let capabilities: [UInt64] = [6, 7, 10, 12, 13]  // SETGID, SETUID, NET_BIND_SERVICE, NET_ADMIN, NET_RAW
        var properties = VMMCommand.unitPolicy.filter { $0.name != "Restart" } + [
            .string(name: "Restart", value: "always"),
            .bool(name: "NoNewPrivileges", value: true),
            .uint64(name: "CapabilityBoundingSet", value: capabilities.reduce(0) { $0 | (1 << $1) }),
            .string(name: "ProtectSystem", value: "strict"),
            .bool(name: "PrivateTmp", value: true),
            .bool(name: "ProtectKernelModules", value: true),
            .bool(name: "ProtectControlGroups", value: true),
            .bool(name: "ProtectClock", value: true),
            .bool(name: "ProtectHostname", value: true),
            .bool(name: "RestrictRealtime", value: true),
            .bool(name: "RestrictSUIDSGID", value: true),
            .bool(name: "LockPersonality", value: true),
            .bool(name: "MemoryDenyWriteExecute", value: true),
            .list(name: "RestrictAddressFamilies", allow: true, values: ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"]),
            .strings(name: "SystemCallArchitectures", values: ["native"]),
            .list(name: "SystemCallFilter", allow: true, values: ["@system-service"]),
            .string(name: "DevicePolicy", value: "closed"),
            // Its configuration, read-only, wherever the run root is.
            .binds(name: "BindReadOnlyPaths", paths: [runDirectory]),
        ]
        // As for the VMMs (VMMSandbox): a user manager applies these three only through a user namespace of its own.
        if observed.capabilities.vmmIdentity?.user != nil {
            properties += [.string(name: "ProtectHome", value: "yes"), .bool(name: "ProtectKernelTunables", value: true),
                           .bool(name: "ProtectKernelLogs", value: true)]
        }
        if observed.capabilities.journal {
            properties += [.string(name: "StandardOutput", value: "journal"), .string(name: "StandardError", value: "journal")]
        }
        var spec = UnitSpec(name: SystemdNames.unitName(forBridgeService: bridge.name, netns: target.networkNamespace), microVM: "",
                            description: "mooring bridge \(bridge.name): dnsmasq (DHCP, router advertisements)",
                            argv: [dnsmasq, "--keep-in-foreground", "--conf-file=\(config.path)"],
                            environment: [], networkNamespacePath: target.networkNamespace.map { "/run/netns/\($0)" },
                            runDirectory: runDirectory, logFile: observed.capabilities.journal ? nil : runDirectory + "/dnsmasq.log",
                            files: [config], properties: properties, specHash: "")
        // Nothing a guest keeps across a restart of dnsmasq: any change restarts it, policy included.
        let (configuration, policy) = VMMCommand.hashes(spec)
        spec.specHash = StableHash.hex(configuration + policy)
        spec.policyHash = policy
        spec.environment = ["MOORING_SPEC_HASH=\(spec.specHash)", "MOORING_POLICY_HASH=\(spec.policyHash)"]
        return spec
    }
}
