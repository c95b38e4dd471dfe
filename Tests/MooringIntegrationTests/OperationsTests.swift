import Foundation
import MooringModel
import MooringPlan
import MooringPlanner
import MooringReports
import MooringEngine
import Testing

@Suite(.enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct OperationsTests {
    private func basicManifests(_ harness: Harness) throws {
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.7.0.1/24"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "br0"))
    }

    @Test func theWatchLoopRepairsDriftFollowsEditsIgnoresBadOnesAndStopsOnSIGTERM() throws {
        let harness = try Harness()
        try basicManifests(harness)
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("watch-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--run-directory", "/run/mooring-test-\(harness.ns.name)", "--log-level", "debug"], output: log)
        defer { loop.stop() }
        #expect(try eventually { try harness.ns.links()["vm-a-eth0"]?.master == "br0" }, "the loop converges at start")

        // Drift is repaired without anyone running apply.
        try harness.ns.ip("link", "del", "vm-a-eth0")
        #expect(try eventually { try harness.ns.links()["vm-a-eth0"]?.master == "br0" })
        try harness.ns.ip("addr", "del", "10.7.0.1/24", "dev", "br0")
        #expect(try eventually { try harness.ns.addresses("br0") == ["10.7.0.1/24"] })
        // Renamed by hand: the event names the new name, the index says whose it was; the old name comes back
        // and the renamed copy (still marked as mooring's) goes.
        try harness.ns.ip("link", "set", "vm-a-eth0", "name", "stray0")
        #expect(try eventually { let links = try harness.ns.links(); return links["vm-a-eth0"]?.master == "br0" && links["stray0"] == nil })

        // A manifest edit is applied without a restart.
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "br0"))
        #expect(try eventually { try harness.ns.links()["vm-b-eth0"] != nil })

        // A bad edit changes nothing and is logged with its position.
        let before = try harness.ns.managedState()
        try harness.manifests.write("c.yaml", Manifests.microVM("c", bridge: "br0") + "  vcpu: many\n")
        #expect(try eventually { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("c.yaml:") == true })
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("keeping the running state"))
        #expect(try harness.ns.managedState() == before)
        #expect(try harness.ns.links()["vm-c-eth0"] == nil)
        // ... and drift is still repaired from the last valid manifests meanwhile.
        try harness.ns.ip("link", "del", "vm-b-eth0")
        #expect(try eventually { try harness.ns.links()["vm-b-eth0"] != nil })

        // Every manifest removed: the loop refuses to tear everything down (no --allow-empty) and says so.
        let owned = try harness.ns.managedState()
        try harness.manifests.removeAll()
        #expect(try eventually { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("refusing to delete everything") == true })
        #expect(try harness.ns.managedState() == owned, "the watch loop deleted what the manifests no longer declare")

        // SIGHUP (`systemctl reload`): the manifests are read and applied at once, and the loop goes on.
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "br0"))
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.7.0.1/24"]))
        kill(loop.processID, SIGHUP)
        #expect(try eventually { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("reloading on SIGHUP") == true })
        #expect(try eventually { try harness.ns.links()["vm-b-eth0"] != nil })
        #expect(kill(loop.processID, 0) == 0, "a reload does not stop the loop")

        #expect(loop.terminate(SIGTERM) == 0, "SIGTERM stops the loop cleanly")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("stopping on signal"))
    }

    /// The namespace's lock file: root's, in /run/mooring/locks, named by the namespace's inode.
    private func lockFile(of namespace: TestNamespace) -> String {
        var info = stat()
        _ = stat("/run/netns/\(namespace.name)", &info)
        return "/run/mooring/locks/net-\(info.st_ino)"
    }

    /// Whether `pid` holds an flock on the namespace's lock file.
    private func holdsLock(_ pid: Int32, on namespace: TestNamespace) -> Bool {
        var info = stat()
        guard stat(lockFile(of: namespace), &info) == 0,
              let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count >= 6 && fields[1] == "FLOCK" && fields[4] == "\(pid)"
                && fields[5].hasSuffix(":\(info.st_ino)")
        }
    }

    /// One lock per target namespace, whatever --run-directory each apply was given (two applies with different
    /// run directories used to run at once), and no lock file left behind anywhere.
    @Test func concurrentAppliesNeverInterleaveAndTheLoserNamesTheHolder() throws {
        let harness = try Harness()
        try basicManifests(harness)
        let runDirectory = "/run/mooring-test-\(harness.ns.name)", otherRunDirectory = runDirectory + "-other"
        defer {
            try? FileManager.default.removeItem(atPath: runDirectory)
            try? FileManager.default.removeItem(atPath: otherRunDirectory)
        }
        let holder = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path,
                                            "--netns", harness.ns.name, "--run-directory", runDirectory],
                                           environment: ["MOORING_TEST_HOLD_LOCK": "3"])
        defer { holder.stop() }
        #expect(eventually { holdsLock(holder.processID, on: harness.ns) })

        let loser = try harness.cli("apply", ["--run-directory", otherRunDirectory, "--lock-timeout", "0.5"])
        #expect(loser.status == 1)
        #expect(loser.stderr.contains("process \(holder.processID) holds the lock on \(lockFile(of: harness.ns))"), "\(loser.stderr)")
        var info = stat()
        #expect(stat(lockFile(of: harness.ns), &info) == 0 && info.st_uid == 0 && info.st_mode & 0o777 == 0o600, "root's, 0600")
        #expect(stat("/run/mooring/locks", &info) == 0 && info.st_mode & 0o777 == 0o700, "the lock directory is root's alone")
        // ... but the run root above it stays searchable: the VMMs pass through it to their run directories (making
        // the lock directory once made /run/mooring 0700, and every unprivileged VMM failed to start).
        #expect(stat("/run/mooring", &info) == 0 && info.st_mode & 0o005 == 0o005, "/run/mooring is searchable by all")
        #expect(try harness.ns.links()["br0"] == nil, "the loser changed nothing; the holder has not applied yet")

        // A patient second apply waits for the first, then finds nothing to do.
        let patient = try harness.cli("apply", ["--run-directory", runDirectory, "--lock-timeout", "30"])
        #expect(holder.wait() == 0)
        #expect(patient.status == 0)
        #expect(patient.stdout.contains("No changes"), "it planned after the holder finished: \(patient.stdout)")
        #expect(!FileManager.default.fileExists(atPath: lockFile(of: harness.ns)), "the holder removes the lock file as it lets go")
        for directory in [runDirectory, otherRunDirectory, "/run/mooring"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            #expect(!files.contains { $0.hasSuffix(".lock") && $0.contains(harness.ns.name) }, "lock files left in \(directory): \(files)")
        }
        // plan never takes the lock.
        let held = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path,
                                          "--netns", harness.ns.name, "--run-directory", runDirectory],
                                         environment: ["MOORING_TEST_HOLD_LOCK": "3"])
        defer { held.stop() }
        #expect(eventually { holdsLock(held.processID, on: harness.ns) })
        let started = Date()
        #expect(try harness.cli("plan").status == 0)
        #expect(Date().timeIntervalSince(started) < 2.5, "plan did not wait for the lock")
    }

    /// A single link event after a quiet spell is handled at once (the debounce's leading edge): with a 2 s
    /// debounce a deleted tap is back well before 2 s (it used to wait the whole debounce).
    @Test func aLoneEventIsNotHeldForTheDebounce() throws {
        let harness = try Harness()
        defer { harness.tearDown() }
        try basicManifests(harness)
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("lead-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--debounce", "2s", "--log-level", "debug"], output: log)
        defer { loop.stop() }
        #expect(try eventually { try harness.ns.links()["vm-a-eth0"]?.master == "br0" }, "the loop converges at start")
        // Quiet: the loop logs every round and event at debug level; once its log has not grown for longer than
        // the debounce, its start and the events about its own links (addresses settling) are behind it.
        var size = -1, stableSince = Date()
        #expect(eventually(timeout: 30) {
            let now = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            if now != size { size = now; stableSince = Date() }
            return Date().timeIntervalSince(stableSince) > 3
        }, "the loop went quiet")
        let deleted = Date()
        try harness.ns.ip("link", "del", "vm-a-eth0")
        #expect(try eventually(timeout: 1.5) { try harness.ns.links()["vm-a-eth0"]?.master == "br0" }, "back before the 2 s debounce")
        print("a lone deleted tap was back after \(Int(Date().timeIntervalSince(deleted) * 1000)) ms (debounce 2 s)")
    }

    /// Any user can open a namespace file read-only and flock it: when that was the lock, `nobody` holding it made
    /// every apply give up. The lock is now root's own file: the same hold changes nothing, and `nobody` cannot
    /// even open the lock file while an apply holds it.
    @Test func aUserHoldingTheNamespaceFileCannotStallAnApply() throws {
        let harness = try Harness()
        defer { harness.tearDown() }
        try basicManifests(harness)
        let squatter = try BackgroundProcess(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                              "flock", "--exclusive", "/run/netns/\(harness.ns.name)", "sleep", "60"])
        defer { squatter.stop() }
        #expect(eventually {
            (try? String(contentsOfFile: "/proc/locks", encoding: .utf8))?.split(separator: "\n")
                .contains { $0.split(separator: " ").dropFirst(4).first == "\(squatter.processID)" } == true
        }, "nobody holds an flock on the namespace file")
        let apply = try harness.cli("apply", ["--lock-timeout", "2"])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")

        let holder = try BackgroundProcess([TestEnvironment.mooringBinary, "apply", "-f", harness.manifests.path, "--netns", harness.ns.name],
                                           environment: ["MOORING_TEST_HOLD_LOCK": "3"])
        defer { holder.stop() }
        #expect(eventually { holdsLock(holder.processID, on: harness.ns) })
        let open = try Shell.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "flock", "--nonblock", lockFile(of: harness.ns), "true"])
        #expect(open.status != 0 && open.stderr.contains("Permission denied"), "nobody cannot open it: \(open.stdout)\(open.stderr)")
        #expect(holder.wait() == 0)
    }

    /// `mooring confirm` signals the lock's holder only when it is root's mooring: a process that holds the lock and
    /// calls itself `mooring ... --try` but executes something else is left alone (SIGUSR1 would kill it).
    @Test func confirmSignalsOnlyRootsMooring() throws {
        let harness = try Harness()
        defer { harness.tearDown() }
        try basicManifests(harness)
        #expect(try harness.cli("apply").status == 0, "the lock directory exists")
        let file = lockFile(of: harness.ns)
        let impostor = try BackgroundProcess(["/bin/bash", "-c", """
            exec -a mooring /usr/bin/python3 -c 'import fcntl, os, time; f = os.open("\(file)", os.O_RDWR | os.O_CREAT, 0o600); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)' apply --try 5m
            """])
        defer { impostor.stop() }
        #expect(eventually { holdsLock(impostor.processID, on: harness.ns) })
        let cmdline = (try? String(contentsOfFile: "/proc/\(impostor.processID)/cmdline", encoding: .utf8)) ?? ""
        #expect(cmdline.hasPrefix("mooring\0") && cmdline.contains("--try"), "it looks like `mooring ... --try`: \(cmdline.debugDescription)")
        let confirm = try TestEnvironment.mooring(["confirm", "--netns", harness.ns.name, "--timeout", "1"])
        #expect(confirm.status == 1 && confirm.stderr.contains("is not root's mooring"), "\(confirm.stdout)\(confirm.stderr)")
        #expect(kill(impostor.processID, 0) == 0, "not signalled")
    }

    /// `--color` on every command that reports, `run` included (it said "Unknown option '--color'").
    @Test func everyReportingCommandTakesColor() throws {
        // A missing directory: an error for the commands that need the manifests; doctor checks the host anyway; run
        // keeps watching for the directory (`timeout` ends it: 124).
        let expected: [String: Int32] = ["validate": 1, "plan": 1, "apply": 1, "status": 1, "doctor": 0, "run": 124]
        for (command, status) in expected.sorted(by: { $0.key < $1.key }) {
            let run = try Shell.run(["timeout", "2", TestEnvironment.mooringBinary, command, "-f", "/nonexistent-manifests", "--color", "never"])
            #expect(!run.stderr.contains("Unknown option"), "\(command): \(run.stderr)")
            #expect(run.status == status, "\(command): \(run.status) \(run.stderr)")
        }
    }

    @Test func doctorNamesOtherTablesThatDoNATOrDropForwardingButNotMooringsOwn() throws {
        let harness = try Harness()
        defer { harness.tearDown() }
        try Shell.must(["ip", "-n", harness.ns.name, "link", "add", "ext0", "type", "veth", "peer", "name", "ext0p"])
        try harness.manifests.write("br.yaml", Manifests.bridge("br0", addresses: ["10.7.0.1/24"]))
        try harness.manifests.write("nat.yaml", """
            apiVersion: mooring.dev/v1alpha1
            kind: NAT
            metadata: {name: out}
            spec: {externalInterface: ext0, internalInterfaces: [br0]}
            """)
        try harness.apply()
        func findings() throws -> [HostDoctor.Finding] {
            let run = try harness.cli("doctor", ["--output", "json"])
            #expect(run.status == 0, "\(run.stderr)")
            let findings = try #require(JSONValue.parse(run.stdout)?["findings"], "\(run.stdout)")
            return try JSONDecoder().decode([HostDoctor.Finding].self, from: Data(findings.canonicalText.utf8))
        }
        let clean = try findings().filter { $0.check == "nftables" }
        #expect(clean.map(\.level) == [.ok], "mooring's own table was reported: \(clean)")

        try Shell.must(["ip", "netns", "exec", harness.ns.name, "nft",
                        "add table ip docker; add chain ip docker post { type nat hook postrouting priority 100; }; "
                        + "add table inet fw; add chain inet fw fw_forward { type filter hook forward priority 0; policy drop; }"])
        let found = try findings().filter { $0.check == "nftables" }
        #expect(found.count == 2, "\(found)")
        #expect(found.allSatisfy { $0.level == .warning && $0.fix != nil })
        #expect(found.contains { $0.message.contains("table ip docker, chain post (nat postrouting priority 100) also does NAT") })
        #expect(found.contains { $0.message.contains("table inet fw, chain fw_forward") && $0.message.contains("drops forwarded traffic") })
        #expect(!found.contains { $0.message.contains("table inet mooring") })
    }

    @Test func reportsCarryTheGitCommit() throws {
        let harness = try Harness()
        try basicManifests(harness)
        let git = ["git", "-C", harness.manifests.path, "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
        try Shell.must(git + ["init", "-q"])
        try Shell.must(git + ["add", "."])
        try Shell.must(git + ["commit", "-qm", "manifests"])
        let head = try Shell.must(git + ["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        // Found from a directory deep inside the work tree too (the lookup walks up to `.git` before spawning git).
        let nested = harness.manifests.url.appendingPathComponent("hosts/edge")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        #expect(GitInfo.of(nested.path)?.commit == head)
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mooring-nogit-\(harness.ns.name)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        #expect(GitInfo.of(outside.path) == nil)
        // `-f one-file.yaml` inside the work tree: the same commit (it used to show none).
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: harness.manifests.path).first { $0.hasSuffix(".yaml") })
        let single = GitInfo.of(harness.manifests.path + "/" + file)
        #expect(single?.commit == head && single?.dirty == false, "\(String(describing: single))")

        let json = try harness.cli("plan", ["--output", "json"])
        let report = try PlanDocument(json.stdout)
        #expect(report.context?["gitCommit"]?.string == head)
        #expect(report.context?["gitDirty"]?.bool == false)
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "br0"))
        let text = try harness.cli("plan")
        #expect(text.stdout.contains("at \(head.prefix(12)) (dirty)"), "\(text.stdout)")
        let applied = try harness.cli("apply", ["--output", "json"])
        #expect(try PlanDocument(applied.stdout).json["plan"]?["context"]?["gitCommit"]?.string == head, "\(applied.stdout)")
    }

    @Test func aSavedPlanRunsExactlyAsReviewedOrNotAtAll() throws {
        let harness = try Harness()
        try basicManifests(harness)
        let file = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("plan-\(harness.ns.name).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }

        #expect(try harness.cli("plan", ["--out", file]).status == 2)
        let applied = try harness.cli("apply", ["--plan", file])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(try harness.ns.links()["vm-a-eth0"] != nil)

        // The host moved after the plan was made: refused, saying what a fresh plan would do.
        try harness.manifests.write("b.yaml", Manifests.microVM("b", bridge: "br0"))
        #expect(try harness.cli("plan", ["--out", file]).status == 2)
        try harness.ns.ip("link", "del", "vm-a-eth0")
        let refused = try harness.cli("apply", ["--plan", file])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the host changed since the plan was made"))
        #expect(refused.stderr.contains("now also needed: create tap vm-a-eth0"))
        #expect(try harness.ns.links()["vm-b-eth0"] == nil, "a refused plan changes nothing")

        // The manifests moved: refused too.
        #expect(try harness.cli("plan", ["--out", file]).status == 2)
        try harness.manifests.remove("b.yaml")
        let stale = try harness.cli("apply", ["--plan", file])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("the manifests changed since the plan was made"), "\(stale.stderr)")
    }

    @Test func everyUnitFilePassesSystemdAnalyzeVerify() throws {
        let units = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("units")
        let names = try FileManager.default.contentsOfDirectory(atPath: units.path).filter { $0 != "sysusers.d" }.sorted()
        // The VMMs' user, as systemd-sysusers reads it (the package runs it in postinst).
        let sysusers = try Shell.run(["systemd-sysusers", "--dry-run", units.appendingPathComponent("sysusers.d/mooring.conf").path])
        #expect(sysusers.status == 0, "\(sysusers.stderr)")
        #expect(Set(names) == ["mooring-apply.service", "mooring-apply.timer", "mooring.service", "mooring-gitops.service",
                               "mooring-gitops.timer", "mooring-drift.service", "mooring-drift.timer", "mooring-boot.service"])
        // verify checks that ExecStart binaries exist: the copies point at the freshly built mooring and the
        // repository's gitops-pull instead of where the package installs them, and differ in nothing else.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for name in names {
            let text = try String(contentsOf: units.appendingPathComponent(name), encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/bin/mooring", with: TestEnvironment.mooringBinary)
                .replacingOccurrences(of: "/usr/lib/mooring/gitops-pull", with: TestEnvironment.repository.appendingPathComponent("scripts/gitops-pull").path)
                .write(to: scratch.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        for name in names {
            let result = try Shell.run(["systemd-analyze", "verify", scratch.appendingPathComponent(name).path])
            #expect(result.status == 0, "\(name): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.isEmpty, "\(name) has verify warnings: \(result.stderr)")
        }
    }
}
