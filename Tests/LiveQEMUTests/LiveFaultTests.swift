import FaultInjection
import Foundation
import Synchronization
import Testing
@testable import Prober
import QMP

/// Faults against the real QEMU of this machine and the built `qmp-probe`: QEMU killed or stopped in the middle of
/// a probe, binaries that are not QEMU, QEMU failing at start, the prober itself ended by a signal. Each ends with a
/// clear, typed error (exit status 2 for the command line), promptly, with no QEMU and no private directory left.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveFaultTests {
    // MARK: Helpers

    static func qmpProbe() throws -> String {
        try #require(BuiltProducts.qmpProbe, "qmp-probe is not built next to the tests (\(BuiltProducts.directory)): run swift build --build-tests")
    }

    /// A scratch directory, also the command line's `XDG_RUNTIME_DIR` (where its private directories go).
    final class Scratch: Sendable {
        let path: String
        init() throws { path = try Subprocess.makeTemporaryDirectory() }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var environment: [String: String?] { ["XDG_RUNTIME_DIR": path, "TMPDIR": path] }
        /// The private directories (`qmp-probe-PID-*`) in it.
        var privateDirectories: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix("qmp-probe-") }.sorted()
        }
    }

    /// The QEMU processes among the children of `pid`.
    static func qemuChildren(of pid: pid_t) -> [pid_t] {
        ProcessInspection.children(of: pid).filter { child in
            ProcessInspection.commandLine(of: child)?.contains { $0.hasPrefix("-accel") } == true
        }
    }

    /// Starts `qmp-probe probe --accel tcg --record FILE ...` and returns once it is in the middle of the probe: its
    /// QEMU runs and the per-model expansions are going out (seen in the recording).
    static func startProbe(_ scratch: Scratch, extra: [String] = []) async throws -> (cli: Subprocess, qemu: pid_t, record: String) {
        let record = scratch.path + "/probe.jsonl"
        let cli = try Subprocess(try qmpProbe(), ["probe", "--accel", "tcg", "--record", record] + extra,
                                 environment: scratch.environment)
        // About 11 lines precede the expansions (header, introspection, CPU definitions); 40 lines is in the middle of
        // them (a TCG probe of QEMU 7.2 records about 330 lines). Counting lines is cheap enough to poll often.
        let qemu = await ProcessInspection.poll(timeout: .seconds(30), every: .milliseconds(1)) { () -> pid_t? in
            guard cli.poll() == nil, let data = FileManager.default.contents(atPath: record) else { return nil }
            let lines = data.withUnsafeBytes { raw -> Int in
                guard var cursor = raw.baseAddress else { return 0 }
                let end = cursor + raw.count
                var count = 0
                while let hit = memchr(cursor, 0x0A, end - cursor) {
                    count += 1
                    cursor = UnsafeRawPointer(hit) + 1
                }
                return count
            }
            return lines >= 40 ? qemuChildren(of: cli.pid).first : nil
        }
        guard let qemu else {
            cli.send(SIGKILL)
            throw FaultError("the probe was not caught in the middle of its expansions: \(await cli.wait(timeout: .seconds(10)))")
        }
        return (cli, qemu, record)
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    // MARK: QEMU killed

    @Test("QEMU killed (SIGKILL) in the middle of a probe: exit status 2 within a second, the recording replays up to its last message")
    func qemuKilledMidProbeCLI() async throws {
        let scratch = try Scratch()
        let (cli, qemu, record) = try await Self.startProbe(scratch)
        kill(qemu, SIGKILL)
        let killed = ContinuousClock.now
        let outcome = await cli.wait(timeout: .seconds(60))
        let elapsed = ContinuousClock.now - killed
        print("QEMU killed mid-probe: qmp-probe exited \(outcome.exitStatus.map(String.init) ?? "-") \(elapsed) after the kill: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.contains("died during the probe (killed by signal 9)"), "\(outcome)")
        #expect(outcome.stderr.contains("was interrupted"), "\(outcome)")
        #expect(elapsed < .seconds(5))
        #expect(await ProcessInspection.waitGone([qemu], timeout: .seconds(5)).isEmpty)
        #expect(scratch.privateDirectories.isEmpty, "\(scratch.privateDirectories)")

        // The recording: every line complete, owner-only, and it loads and replays up to the last message.
        #expect(Self.mode(record) == 0o600)
        let text = try String(contentsOfFile: record, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let session = try #require(try RecordingLoader.load(path: record).first)
        let replied = session.exchanges.filter { $0.reply != nil }
        let unanswered = session.exchanges.count - replied.count
        print("the recording: \(session.exchanges.count) commands, \(replied.count) answered, \(unanswered) pending at the kill")
        #expect(replied.count > 10)
        #expect(replied.count == text.split(separator: "\n").filter { $0.contains(#""dir":"in""#) && $0.contains(#""id":"#) }.count)
        let replayed = try await ProbeRunner(source: .replay(path: record, mode: .matching)).gather().probes
        #expect(replayed.count == 1)
        #expect((replayed.first?.definitions?.count ?? 0) > 100)
        // Each answered command gets its recorded answer back from the replay.
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: session, mode: .matching))
        for exchange in replied.suffix(20) where exchange.name != "qmp_capabilities" {
            let arguments = exchange.arguments.objectValue.flatMap { $0.isEmpty ? nil : $0 }
            let value = try await client.execute(exchange.name, arguments: arguments)
            #expect(value == exchange.reply?["return"], "\(exchange.name) at line \(exchange.line)")
        }
        await client.close()
    }

    @Test("QEMU killed in the middle of an in-process probe: a typed error within a second")
    func qemuKilledMidProbeInProcess() async throws {
        let binary = try #require(LiveQEMU.binary)
        let scratch = try Scratch()
        // A name of our own, so that this QEMU is told apart from the ones other tests start meanwhile.
        let alias = scratch.path + "/qemu-fault-target"
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: binary)
        let progressed = Mutex(false)
        var runner = ProbeRunner(source: .launch(binary: alias, accelerators: ["tcg"]))
        runner.progress = { _, done, _ in if done >= 5 { progressed.withLock { $0 = true } } }
        let probe = Task { try await runner.run() }
        let qemu = await ProcessInspection.poll(timeout: .seconds(30)) { () -> pid_t? in
            guard progressed.withLock({ $0 }) else { return nil }
            return ChildRegistry.shared.pids.first { ProcessInspection.commandLine(of: $0)?.first == alias }
        }
        let pid = try #require(qemu, "the probe never got to its expansions")
        kill(pid, SIGKILL)
        let killed = ContinuousClock.now
        let result = await probe.result
        let elapsed = ContinuousClock.now - killed
        print("QEMU killed mid-probe (in process): \(result) \(elapsed) after the kill")
        guard case .failure(let error) = result, case ProberError.qemuFailedToStart(let reported, let detail, _) = error else {
            Issue.record("expected qemuFailedToStart, got \(result)")
            return
        }
        #expect(reported == alias)
        #expect(detail.contains("died during the probe (killed by signal 9)"))
        #expect(elapsed < .seconds(5))
        #expect(!ChildRegistry.shared.pids.contains(pid))
    }

    // MARK: QEMU stopped

    @Test("QEMU stopped (SIGSTOP) during a call: the call times out with a clear message; continued, it answers again")
    func qemuStoppedDuringCall() async throws {
        try await LiveQEMU.withInstance { qemu in
            let pid = qemu.process.pid
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            let start = ContinuousClock.now
            let error = await #expect(throws: QMPError.self) { try await qemu.client.execute("query-version", timeout: .seconds(1)) }
            let elapsed = ContinuousClock.now - start
            print("QEMU stopped: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
            #expect(error == .timedOut(command: "query-version", seconds: 1))
            #expect(error?.description == "'query-version' timed out after 1 s without a reply")
            #expect(elapsed < .seconds(5))
            kill(pid, SIGCONT)
            // The late reply is dropped; the session goes on.
            let status = try await qemu.client.execute("query-status", timeout: .seconds(20))
            #expect(status["status"]?.stringValue == "prelaunch")
        }
    }

    @Test("QEMU stopped before a client connects: connect, exec and probe --socket fail after their timeout, saying why")
    func qemuStoppedBeforeConnect() async throws {
        let scratch = try Scratch()
        let socket = scratch.path + "/qmp.sock"
        try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off"]) { qemu in
            let pid = qemu.process.pid
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            var configuration = QMPClient.Configuration()
            configuration.connectTimeout = .seconds(1)
            let client = QMPClient(configuration: configuration)
            let start = ContinuousClock.now
            let error = await #expect(throws: QMPError.self) { try await client.connect(to: .unix(path: socket)) }
            let elapsed = ContinuousClock.now - start
            print("connect to a stopped QEMU: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
            guard case .negotiationFailed(let message) = error else {
                Issue.record("expected negotiationFailed, got \(String(describing: error))")
                return
            }
            #expect(message.contains("no greeting within 1.0 s"))
            #expect(elapsed < .seconds(5))
            await client.close()
            for arguments in [["exec", "--socket", socket, "--timeout", "1", "query-version"],
                              ["probe", "--socket", socket, "--timeout", "1"]] {
                let started = ContinuousClock.now
                let outcome = try await Subprocess.run(try Self.qmpProbe(), arguments, environment: scratch.environment,
                                                       timeout: .seconds(60))
                let took = ContinuousClock.now - started
                print("\(arguments[0]) against a stopped QEMU: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (\(took))")
                #expect(outcome.exitStatus == 2, "\(outcome)")
                // QEMU's listen backlog is short: once it is full of connections the stopped QEMU never accepted,
                // connect itself fails at once instead of waiting for a greeting.
                #expect(outcome.stderr.contains("no greeting within 1.0 s") || outcome.stderr.contains("does not accept connections"),
                        "\(outcome)")
                #expect(outcome.stderr.contains("is QEMU stopped or hung?"), "\(outcome)")
                #expect(took < .seconds(10))
            }
            kill(pid, SIGCONT)
            // Continued, the same QEMU serves the next client.
            let again = try await Subprocess.run(try Self.qmpProbe(), ["exec", "--socket", socket, "--timeout", "20", "query-status"],
                                                 environment: scratch.environment, timeout: .seconds(60))
            #expect(again.exitStatus == 0, "\(again)")
            #expect(again.stdout.contains("prelaunch"))
        }
    }

    @Test("QEMU stopped in the middle of a probe: exit status 2 after --timeout, and the stopped QEMU is gone")
    func qemuStoppedMidProbe() async throws {
        let scratch = try Scratch()
        let (cli, qemu, _) = try await Self.startProbe(scratch, extra: ["--timeout", "2"])
        kill(qemu, SIGSTOP)
        defer { kill(qemu, SIGCONT) }
        let stopped = ContinuousClock.now
        let outcome = await cli.wait(timeout: .seconds(90))
        let elapsed = ContinuousClock.now - stopped
        print("QEMU stopped mid-probe: exit \(outcome.exitStatus.map(String.init) ?? "-") \(elapsed) after the stop: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.contains("timed out after 2 s without a reply"), "\(outcome)")
        #expect(!outcome.timedOut)
        #expect(elapsed < .seconds(30))
        #expect(await ProcessInspection.waitGone([qemu], timeout: .seconds(5)).isEmpty)
        #expect(scratch.privateDirectories.isEmpty, "\(scratch.privateDirectories)")
    }

    // MARK: Not QEMU, or QEMU failing at start

    enum Impostor: String, CaseIterable, CustomTestStringConvertible {
        case exitsAtOnce, complainsAndExits, notExecutable, neverAnswers, qemuWithBadMachine
        var testDescription: String { rawValue }
    }

    @Test("a QEMU binary that is not QEMU, or a QEMU that exits at start: a clear message with its stderr, exit status 2",
          arguments: Impostor.allCases)
    func notQEMU(kind: Impostor) async throws {
        let qemu = try #require(LiveQEMU.binary)
        let scratch = try Scratch()
        let script = scratch.path + "/fake-qemu"
        func write(_ text: String, mode: mode_t = 0o755) throws {
            // Close-on-exec: a child forked meanwhile by another test must not hold it open for writing (ETXTBSY).
            let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
            guard fd >= 0 else { throw FaultError("cannot write \(script)") }
            _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        var binary = script
        var expected: [String] = []
        switch kind {
        case .exitsAtOnce:
            binary = "/bin/true"
            expected = ["QEMU (/bin/true) exited with status 0 before its monitor answered"]
        case .complainsAndExits:
            try write("#!/bin/sh\necho \"fake-qemu: unknown option $1\" >&2\nexit 3\n")
            expected = ["exited with status 3 before its monitor answered", "QEMU said:\nfake-qemu: unknown option -chardev"]
        case .notExecutable:
            try write("not a program\n", mode: 0o644)
            expected = ["\(script): Permission denied"]
        case .neverAnswers:
            try write("#!/bin/sh\nexec sleep 600\n")
            expected = ["did not complete the QMP handshake", "no greeting within 1.0 s"]
        case .qemuWithBadMachine:
            try write("#!/bin/sh\nexec \(qemu) \"$@\" -machine no-such-machine\n")
            expected = ["exited with status 1 before its monitor answered", "QEMU said:", "unsupported machine type"]
        }
        let cli = try Subprocess(try Self.qmpProbe(), ["probe", "--accel", "tcg", "--qemu", binary, "--timeout", "1"],
                                 environment: scratch.environment)
        var seen: Set<pid_t> = []
        var outcome: Subprocess.Outcome?
        while outcome == nil {
            seen.formUnion(ProcessInspection.children(of: cli.pid))
            outcome = cli.poll()
            if outcome == nil, ContinuousClock.now - cli.started > .seconds(60) { outcome = await cli.wait(timeout: .zero) }
            try? await Task.sleep(for: .milliseconds(2))
        }
        let result = try #require(outcome)
        print("--qemu \(kind): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (exit \(result.exitStatus.map(String.init) ?? "-"), \(ContinuousClock.now - cli.started))")
        #expect(result.exitStatus == 2, "\(result)")
        #expect(result.stderr.hasPrefix("qmp-probe: "), "\(result)")
        for text in expected { #expect(result.stderr.contains(text), "\(result)") }
        #expect(!result.timedOut)
        #expect(await ProcessInspection.waitGone(Array(seen), timeout: .seconds(5)).isEmpty, "children left: \(seen)")
        #expect(scratch.privateDirectories.isEmpty, "\(scratch.privateDirectories)")
    }

    // MARK: The prober ended by a signal

    @Test("qmp-probe ended by SIGINT, SIGTERM or SIGKILL mid-probe: no QEMU survives; its private directory goes, now or at the next run",
          arguments: [SIGINT, SIGTERM, SIGKILL])
    func proberKilled(signal: Int32) async throws {
        let scratch = try Scratch()
        let (cli, qemu, _) = try await Self.startProbe(scratch)
        let qemus = Self.qemuChildren(of: cli.pid)
        let directories = scratch.privateDirectories
        #expect(directories.contains { $0.hasPrefix("qmp-probe-\(cli.pid)-") }, "\(directories)")
        cli.send(signal)
        let outcome = await cli.wait(timeout: .seconds(30))
        let alive = await ProcessInspection.waitGone(qemus + [qemu], timeout: .seconds(5))
        print("qmp-probe ended by signal \(signal): \(outcome.signal.map { "signal \($0)" } ?? "exit \(outcome.exitStatus ?? -1)"); QEMU \(qemus) alive after: \(alive); private directories: \(scratch.privateDirectories)")
        // Ended by the signal: SIGKILL directly; SIGINT and SIGTERM after clean-up, re-raised (or exit 128 + signal).
        #expect(outcome.signal == signal || outcome.exitStatus == 128 + signal, "\(outcome)")
        #expect(alive.isEmpty, "QEMU processes survived: \(alive)")
        if signal == SIGKILL {
            // Nothing could clean up: the directory stays until the next run, which removes it.
            #expect(scratch.privateDirectories == directories)
            let next = try await Subprocess.run(try Self.qmpProbe(), ["probe", "--accel", "tcg", "--qemu", "/bin/true"],
                                                environment: scratch.environment, timeout: .seconds(60))
            #expect(next.exitStatus == 2, "\(next)")
        }
        #expect(scratch.privateDirectories.isEmpty, "\(scratch.privateDirectories)")
    }

    // MARK: Permissions and secrets

    @Test("the private directory is 0700, QEMU's stderr file and recordings are 0600; the monitor is a socketpair with no path")
    func permissions() async throws {
        let scratch = try Scratch()
        let record = scratch.path + "/record.jsonl"
        let recorder = try SessionRecorder(path: record, header: SessionHeader())
        var configuration = QMPClient.Configuration()
        configuration.recorder = recorder
        try await LiveQEMU.withInstance(configuration: configuration) { qemu in
            #expect(Self.mode(qemu.process.directory.path) == 0o700)
            let files = try FileManager.default.contentsOfDirectory(atPath: qemu.process.directory.path)
            #expect(files == ["qemu.stderr"])
            #expect(Self.mode(qemu.process.directory.path + "/qemu.stderr") == 0o600)
            guard case .connectedSocket = qemu.process.monitor else {
                Issue.record("the monitor should be a socketpair, is \(qemu.process.monitor)")
                return
            }
            #expect(qemu.process.arguments.contains("socket,id=qmp,fd=3"))
        }
        try recorder.finish()
        #expect(Self.mode(record) == 0o600)
    }

    @Test("exec --record with object-add of a secret against a live QEMU: the recording never holds the secret")
    func liveSecretNotRecorded() async throws {
        let scratch = try Scratch()
        let socket = scratch.path + "/qmp.sock"
        let record = scratch.path + "/secret.jsonl"
        let secret = "hunter2-\(UInt32.random(in: 0...UInt32.max))"
        try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off"]) { qemu in
            let outcome = try await Subprocess.run(
                try Self.qmpProbe(),
                ["exec", "--socket", socket, "--record", record, "object-add", #"{"qom-type":"secret","id":"sec0","data":"\#(secret)"}"#],
                environment: scratch.environment, timeout: .seconds(60))
            #expect(outcome.exitStatus == 0, "\(outcome)")
            #expect(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "{}")
            // QEMU got the real secret.
            let objects = try await qemu.client.execute("qom-list", arguments: ["path": "/objects"])
            #expect(objects.arrayValue?.contains { $0["name"]?.stringValue == "sec0" } == true)
        }
        let text = try String(contentsOfFile: record, encoding: .utf8)
        #expect(!text.contains(secret))
        #expect(text.contains(#""data":"\#(SecretRedaction.marker)""#))
        #expect(text.contains(#""qom-type":"secret""#))
        #expect(Self.mode(record) == 0o600)
        let session = try #require(try RecordingLoader.load(path: record).first)
        #expect(session.exchanges.map(\.name) == ["qmp_capabilities", "object-add"])
        #expect(session.exchanges.last?.reply?["return"] == .object([:]))
    }
}

/// Private directories left by a killed process are removed by the next one; live ones and foreign names are kept.
struct StaleDirectoryTests {
    @Test("removeStale removes the directories of dead processes only")
    func removeStale() async throws {
        let parent = try Subprocess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let dead = try Subprocess("/bin/true", [])
        _ = await dead.wait(timeout: .seconds(10))
        let names = ["qmp-probe-\(dead.pid)-abc123", "qmp-probe-\(getpid())-def456", "qmp-probe-notapid-x", "unrelated-\(dead.pid)-x"]
        for name in names {
            try FileManager.default.createDirectory(atPath: "\(parent)/\(name)/inner", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(parent)/\(name)/inner/qemu.stderr", contents: Data("x".utf8))
        }
        PrivateDirectory.removeStale(in: parent)
        let left = try FileManager.default.contentsOfDirectory(atPath: parent).sorted()
        #expect(left == names.dropFirst().sorted())
    }

    @Test("a new private directory is 0700 and ours, and goes away with remove()")
    func privateDirectoryMode() throws {
        let directory = try PrivateDirectory()
        var info = stat()
        #expect(stat(directory.path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)
        #expect(info.st_uid == getuid())
        directory.remove()
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
