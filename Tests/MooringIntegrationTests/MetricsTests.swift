import Foundation
import Testing

/// The monitoring surface: `--metrics-file` (the node exporter's textfile collector) after plan and apply, and
/// `run --metrics-address`'s /metrics, read back with the Prometheus client library's own parser.
@Suite(.serialized, .enabled(if: TestEnvironment.isRoot, TestEnvironment.rootReason))
struct MetricsTests {
    /// The samples of a Prometheus text document, `name{label="v",...}` -> value, as prometheus_client parses them.
    private func samples(_ text: String) throws -> [String: Double] {
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
                    print("%s{%s} %r" % (s.name, labels, s.value))
            """
        let run = try Shell.run(["/usr/bin/python3", "-c", script], input: text)
        #expect(run.status == 0, "not valid Prometheus text: \(run.stderr)\n\(text)")
        var out: [String: Double] = [:]
        for line in run.stdout.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    @Test func planAndApplyWriteTheTextfileAndAFailureKeepsTheLastSuccess() throws {
        let harness = try Harness("mt")
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("mtbr", addresses: ["10.71.0.1/24"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "mtbr"))
        let file = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("metrics-\(harness.ns.name).prom").path
        defer { try? FileManager.default.removeItem(atPath: file) }

        #expect(try harness.cli("plan", ["--metrics-file", file]).status == 2)
        let planned = try samples(String(contentsOfFile: file, encoding: .utf8))
        #expect(planned["mooring_converged{command=\"plan\"}"] == 0)
        #expect(planned["mooring_drift_changes{command=\"plan\",kind=\"link\"}"] == 3, "\(planned)")
        #expect(planned["mooring_last_run_success{command=\"plan\"}"] == 1)

        #expect(try harness.cli("apply", ["--metrics-file", file]).status == 0)
        let applied = try samples(String(contentsOfFile: file, encoding: .utf8))
        #expect(applied["mooring_converged{command=\"apply\"}"] == 1)
        // The build that reported.
        #expect(applied.contains { $0.key.hasPrefix("mooring_build_info{command=\"apply\",commit=") && $0.key.contains("version=\"0.4.0\"") && $0.value == 1 },
                "\(applied.keys.sorted())")
        #expect(applied["mooring_last_run_applied_changes{command=\"apply\"}"] ?? 0 >= 3, "\(applied)")
        let success = try #require(applied["mooring_last_success_timestamp_seconds{command=\"apply\"}"])
        #expect(abs(success - Date().timeIntervalSince1970) < 60)

        // Invalid manifests: the run failed, the last success stays what it was.
        try harness.manifests.write("bad.yaml", Manifests.header + "kind: Bridge\nmetadata: {name: bad0}\nspec: {adresses: []}\n")
        #expect(try harness.cli("apply", ["--metrics-file", file]).status == 1)
        let failed = try samples(String(contentsOfFile: file, encoding: .utf8))
        #expect(failed["mooring_last_run_success{command=\"apply\"}"] == 0)
        #expect(failed["mooring_last_success_timestamp_seconds{command=\"apply\"}"] == success)
        #expect(failed["mooring_converged{command=\"apply\"}"] == nil, "unknown after a failure: not reported")
    }

    /// The textfile is written by descriptor into a directory of root's: a symlink where the file goes is replaced,
    /// never followed (root used to chmod what it pointed to, 0600 -> 0644), and a directory another user owns
    /// (who could swap names in it while root works) is refused with a fix.
    @Test func theMetricsFileNeverFollowsAPathAnotherUserControls() throws {
        let harness = try Harness("ms")
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("msbr", addresses: ["10.72.0.1/24"]))
        let base = "/run/mooring-metrics-\(harness.ns.name)"
        try FileManager.default.createDirectory(atPath: base + "/roots", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let secret = base + "/secret"
        try "root only\n".write(toFile: secret, atomically: false, encoding: .utf8)
        chmod(secret, 0o600)
        try FileManager.default.createSymbolicLink(atPath: base + "/roots/mooring.prom", withDestinationPath: secret)
        #expect(try harness.cli("plan", ["--metrics-file", base + "/roots/mooring.prom"]).status == 2)
        var info = stat()
        #expect(lstat(base + "/roots/mooring.prom", &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o644,
                "the symlink was replaced by the file")
        #expect(stat(secret, &info) == 0 && info.st_mode & 0o777 == 0o600, "what the symlink pointed to kept its mode")
        #expect(try String(contentsOfFile: secret, encoding: .utf8) == "root only\n")

        // A directory of another user's: refused, nothing written, and the warning says what to do.
        try FileManager.default.createDirectory(atPath: base + "/theirs", withIntermediateDirectories: true)
        let nobody = getpwnam("nobody")!.pointee
        chown(base + "/theirs", nobody.pw_uid, nobody.pw_gid)
        let refused = try harness.cli("plan", ["--metrics-file", base + "/theirs/mooring.prom"])
        #expect(refused.status == 2, "the metrics file is not the command's result")
        #expect(refused.stderr.contains("refusing \(base)/theirs: it is owned by uid \(nobody.pw_uid)") && refused.stderr.contains("install -d -o root"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: base + "/theirs/mooring.prom"))
    }

    /// A bad `--metrics-address` is refused before anything starts (it used to be after the first round).
    @Test func aBadMetricsAddressIsRefusedBeforeAnythingStarts() throws {
        for bad in ["bogus", "127.0.0.1", "localhost:0", "[::1]9840", "300.0.0.1:9840"] {
            let result = try TestEnvironment.mooring(["run", "-f", "/nonexistent", "--metrics-address", bad])
            #expect(result.status == 64 && result.stderr.contains("--metrics-address wants HOST:PORT"), "\(bad): \(result.stderr)")
        }
    }

    @Test func runServesMetricsThatFollowItsRounds() throws {
        let harness = try Harness("mr")
        defer { harness.tearDown() }
        try harness.manifests.write("br.yaml", Manifests.bridge("mrbr", addresses: ["10.72.0.1/24"]))
        try harness.manifests.write("a.yaml", Manifests.microVM("a", bridge: "mrbr"))
        let port = 19_000 + Int.random(in: 0..<1000)
        let log = harness.manifests.url.deletingLastPathComponent().appendingPathComponent("metrics-run-\(harness.ns.name).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let loop = try BackgroundProcess([TestEnvironment.mooringBinary, "run", "-f", harness.manifests.path, "--netns", harness.ns.name,
                                          "--run-directory", "/run/mooring-test-\(harness.ns.name)", "--metrics-address", "localhost:\(port)"],
                                         output: log)
        defer { loop.stop() }
        func scrape() throws -> [String: Double] {
            let run = try Shell.run(["curl", "-sf", "http://127.0.0.1:\(port)/metrics"])
            return run.status == 0 ? try samples(run.stdout) : [:]
        }
        #expect(try eventually { try scrape()["mooring_converged{command=\"run\"}"] == 1 }, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let before = try scrape()
        try harness.ns.ip("link", "del", "vm-a-eth0")
        #expect(try eventually {
            let now = try scrape()
            return now["mooring_applied_changes_total{command=\"run\"}"] ?? 0 > before["mooring_applied_changes_total{command=\"run\"}"] ?? 0
                && now["mooring_converged{command=\"run\"}"] == 1
        }, "the repair shows in the next scrape")
        // Every round's duration, as a histogram whose buckets add up.
        let histogram = try scrape()
        let rounds = histogram["mooring_round_duration_seconds_count{command=\"run\"}"] ?? 0
        #expect(rounds >= 2 && histogram["mooring_round_duration_seconds_bucket{command=\"run\",le=\"+Inf\"}"] == rounds, "\(histogram)")
        #expect((histogram["mooring_round_duration_seconds_bucket{command=\"run\",le=\"30.0\"}"] ?? 0) <= rounds)
        #expect(try Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/other"]).stdout == "404")
        // A scraper's query string is ignored.
        #expect(try Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/metrics?x=1"]).stdout == "200")
        #expect(try Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)/metrics"]).stdout == "405")
        // Scrapers that hang up before the answer, or send half a request and go quiet: the loop lives on.
        let rude = """
            import socket
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", \(port)))
                s.sendall(b"GET /metrics HTTP/1.1\\r\\n\\r\\n")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00")
                s.close()
            socket.create_connection(("127.0.0.1", \(port))).sendall(b"GET /met")
            """
        #expect(try Shell.run(["python3", "-c", rude]).status == 0)
        #expect(try eventually { try scrape()["mooring_converged{command=\"run\"}"] == 1 }, "still serving after rude clients")
        #expect(kill(loop.processID, 0) == 0, "no SIGPIPE killed the loop")

        // Slow clients (a byte every 0.5 s: the read timeout used to restart with each byte, and one connection
        // was served at a time, so such a client held /metrics for as long as it liked). Now each request has one
        // deadline (2 s) and connections are served side by side: scrapes answer while four trickle, and the
        // server hangs up on each trickler long before it would have sent its 20 bytes (10 s).
        let slow = """
            import socket, sys, threading, time, urllib.request
            port = \(port)
            ended = []
            def closed_by_server(s):
                try:
                    s.recv(1, socket.MSG_DONTWAIT)
                    return True
                except BlockingIOError:
                    return False
                except OSError:
                    return True
            def trickle():
                s = socket.create_connection(("127.0.0.1", port))
                start = time.time()
                for byte in b"GET /metrics HTTP/1.1":
                    try:
                        s.send(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.5)
                    if closed_by_server(s):
                        break
                ended.append(time.time() - start)
            threads = [threading.Thread(target=trickle) for _ in range(4)]
            for t in threads: t.start()
            time.sleep(0.3)
            for _ in range(3):
                body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=1.5).read()
                assert b"mooring_converged" in body, body
            for t in threads: t.join()
            print(" ".join("%.1f" % e for e in ended))
            assert len(ended) == 4 and all(e < 8 for e in ended), ended
            """
        let trickled = try Shell.run(["python3", "-c", slow])
        #expect(trickled.status == 0, "scrapes answer beside slow clients, which are hung up on: \(trickled.stdout)\(trickled.stderr)")
    }
}
