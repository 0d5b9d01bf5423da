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

    /// Runs `body` alone in a child copy of the test binary (see ``IsolatedTest``): its timings do not depend on the
    /// other tests, which can keep the few cooperative threads of this process busy for seconds.
    static func alone(_ name: String, _ body: () async throws -> Void) async throws {
        guard let outcome = try await IsolatedTest.run("LiveFaultTests.\(name)", filter: "LiveQEMUTests.LiveFaultTests/\(name)\\(",
                                                       here: body) else { return }
        #expect(IsolatedTest.passed(outcome), "the test failed alone: \(outcome)")
    }

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

    /// Starts `qmp-probe probe --accel tcg --record FILE ...` and, from a watching thread, calls `action` with its QEMU
    /// as soon as the probe is in the middle of its expansions (about 11 lines of the recording precede them, 40 is
    /// well inside; a TCG probe of QEMU 7.2 records about 330 lines in under two seconds). Returns when it has acted.
    static func startProbe(_ scratch: Scratch, extra: [String] = [],
                           action: @escaping @Sendable (_ cli: Subprocess, _ qemu: pid_t) -> Void) async throws
        -> (cli: Subprocess, qemu: pid_t, record: String, acted: ContinuousClock.Instant) {
        let record = scratch.path + "/probe.jsonl"
        let cli = try Subprocess(try qmpProbe(), ["probe", "--accel", "tcg", "--record", record] + extra,
                                 environment: scratch.environment)
        let counter = LineCounter(path: record)
        let target = Mutex<pid_t?>(nil)
        let watcher = ProcessWatcher(pid: cli.pid, timeout: .seconds(60)) { children in
            guard counter.count() >= 40,
                  let qemu = children.first(where: { ProcessInspection.commandLine(of: $0)?.contains { $0.hasPrefix("-accel") } == true })
            else { return false }
            target.withLock { $0 = qemu }
            action(cli, qemu)
            return true
        }
        await watcher.finished()
        guard let acted = watcher.acted, let qemu = target.withLock({ $0 }) else {
            cli.send(SIGKILL)
            throw FaultError("the probe was not caught in the middle of its expansions: \(await cli.wait(timeout: .seconds(10)))")
        }
        return (cli, qemu, record, acted)
    }

    /// Counts the lines of a growing file, reading only what was added since the last look.
    final class LineCounter: @unchecked Sendable {
        let path: String
        private var offset: off_t = 0
        private var lines = 0
        init(path: String) { self.path = path }

        func count() -> Int {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return lines }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
                guard got > 0 else { return lines }
                offset += off_t(got)
                lines += buffer.withUnsafeBytes { raw in
                    var count = 0
                    var cursor = raw.baseAddress!
                    let end = cursor + got
                    while let hit = memchr(cursor, 0x0A, end - cursor) {
                        count += 1
                        cursor = UnsafeRawPointer(hit) + 1
                    }
                    return count
                }
            }
        }
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    // MARK: QEMU killed

    @Test("QEMU killed (SIGKILL) in the middle of a probe: exit status 2 without hanging, the recording replays up to its last message")
    func qemuKilledMidProbeCLI() async throws {
        let scratch = try Scratch()
        let (cli, qemu, record, killed) = try await Self.startProbe(scratch) { _, qemu in kill(qemu, SIGKILL) }
        let outcome = await cli.wait(timeout: .seconds(60))
        let elapsed = outcome.ended - killed
        print("QEMU killed mid-probe: qmp-probe exited \(outcome.exitStatus.map(String.init) ?? "-") \(elapsed) after the kill: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.contains("died during the probe (killed by signal 9)"), "\(outcome)")
        #expect(outcome.stderr.contains("was interrupted"), "\(outcome)")
        #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: exited \(elapsed) after the kill (expected within a second)")
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

    @Test("QEMU killed in the middle of an in-process probe: a typed error, without hanging")
    func qemuKilledMidProbeInProcess() async throws {
        try await Self.alone("qemuKilledMidProbeInProcess") {
            let binary = try #require(LiveQEMU.binary)
            let scratch = try Scratch()
            // A name of our own, so that this QEMU is told apart from the ones other tests start meanwhile.
            let alias = scratch.path + "/qemu-fault-target"
            try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: binary)
            let progressed = Mutex(false)
            var runner = ProbeRunner(source: .launch(binary: alias, accelerators: ["tcg"]))
            runner.workers = 1  // one QEMU: a helper QEMU's death is survived by design (its share goes back)
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
            #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: failed \(elapsed) after the kill (expected within a second)")
            #expect(!ChildRegistry.shared.pids.contains(pid))
        }
    }

    // MARK: QEMU stopped

    @Test("QEMU stopped (SIGSTOP) during a call: the call times out with a clear message; continued, it answers again")
    func qemuStoppedDuringCall() async throws {
        try await Self.alone("qemuStoppedDuringCall") {
            try await LiveQEMU.withInstance { qemu in
                let pid = qemu.process.pid
                #expect(await ProcessInspection.stop(pid), "QEMU did not stop")
                defer { kill(pid, SIGCONT) }
                let start = ContinuousClock.now
                let error = await #expect(throws: QMPError.self) { try await qemu.client.execute("query-version", timeout: .seconds(1)) }
                let elapsed = ContinuousClock.now - start
                print("QEMU stopped: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
                #expect(error == .timedOut(command: "query-version", seconds: 1))
                #expect(error?.description == "'query-version' timed out after 1 s without a reply")
                #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: timed out after \(elapsed) (its timeout is 1 s)")
                kill(pid, SIGCONT)
                // The late reply is dropped; the session goes on.
                let status = try await qemu.client.execute("query-status", timeout: .seconds(20))
                #expect(status["status"]?.stringValue == "prelaunch")
            }
        }
    }

    @Test("QEMU stopped before a client connects: connect, exec and probe --socket fail after their timeout, saying why")
    func qemuStoppedBeforeConnect() async throws {
        try await Self.alone("qemuStoppedBeforeConnect") {
            let scratch = try Scratch()
            let socket = scratch.path + "/qmp.sock"
            try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off"]) { qemu in
                let pid = qemu.process.pid
                #expect(await ProcessInspection.stop(pid), "QEMU did not stop")
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
                #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: failed after \(elapsed) (its connect timeout is 1 s)")
                await client.close()
                for arguments in [["exec", "--socket", socket, "--timeout", "1", "query-version"],
                                  ["probe", "--socket", socket, "--timeout", "1"]] {
                    let cli = try Subprocess(try Self.qmpProbe(), arguments, environment: scratch.environment)
                    let outcome = await cli.wait(timeout: .seconds(60))
                    let took = outcome.ended - cli.started
                    print("\(arguments[0]) against a stopped QEMU: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (\(took))")
                    #expect(outcome.exitStatus == 2, "\(outcome)")
                    // QEMU's listen backlog is short: once it is full of connections the stopped QEMU never accepted,
                    // connect itself fails at once instead of waiting for a greeting.
                    #expect(outcome.stderr.contains("no greeting within 1.0 s") || outcome.stderr.contains("does not accept connections"),
                            "\(outcome)")
                    #expect(outcome.stderr.contains("is QEMU stopped or hung?"), "\(outcome)")
                    #expect(took < NoHang.bound(expected: .seconds(1)), "no hang: exited after \(took) (its --timeout is 1 s)")
                }
                kill(pid, SIGCONT)
                // Continued, the same QEMU serves the next client.
                let again = try await Subprocess.run(try Self.qmpProbe(), ["exec", "--socket", socket, "--timeout", "20", "query-status"],
                                                     environment: scratch.environment, timeout: .seconds(60))
                #expect(again.exitStatus == 0, "\(again)")
                #expect(again.stdout.contains("prelaunch"))
            }
        }
    }

    @Test("QEMU stopped in the middle of a probe: exit status 2 after --timeout, and the stopped QEMU is gone")
    func qemuStoppedMidProbe() async throws {
        let scratch = try Scratch()
        let (cli, qemu, _, stopped) = try await Self.startProbe(scratch, extra: ["--timeout", "2"]) { _, qemu in kill(qemu, SIGSTOP) }
        defer { kill(qemu, SIGCONT) }
        let outcome = await cli.wait(timeout: .seconds(90))
        let elapsed = outcome.ended - stopped
        print("QEMU stopped mid-probe: exit \(outcome.exitStatus.map(String.init) ?? "-") \(elapsed) after the stop: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.contains("timed out after 2 s without a reply"), "\(outcome)")
        #expect(!outcome.timedOut)
        #expect(elapsed < NoHang.bound(expected: .milliseconds(2500)),
                "no hang: exited \(elapsed) after the stop (expected: --timeout 2 s and half a second's grace)")
        #expect(await ProcessInspection.waitGone([qemu], timeout: .seconds(5)).isEmpty)
        #expect(scratch.privateDirectories.isEmpty, "\(scratch.privateDirectories)")
    }

    @Test("a QEMU the prober starts obeys SIGTERM: it inherits no signal mask from the prober's threads")
    func qemuObeysSIGTERM() async throws {
        // Swift's and NIO's threads block nearly every signal, and a child keeps its parent thread's mask across exec:
        // QEMU used to start with SIGTERM blocked, so stopping it always took the SIGKILL fallback.
        try await LiveQEMU.withInstance { qemu in
            let pid = qemu.process.pid
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
                .flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) } ?? .max
            for signal in [SIGTERM, SIGINT, SIGHUP] {
                #expect(blocked & (1 << UInt64(signal - 1)) == 0, "QEMU's main thread blocks signal \(signal) (SigBlk \(String(blocked, radix: 16)))")
            }
            kill(pid, SIGTERM)
            let exit = await qemu.process.waitForExit(timeout: .seconds(10))
            print("QEMU after SIGTERM: exit \(exit.map(String.init) ?? "none within 10 s"); stderr: \(qemu.process.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            #expect(exit != nil, "QEMU ignored SIGTERM")
            #expect(qemu.process.stderr.contains("terminating on signal 15"))
        }
    }

    // MARK: Not QEMU, or QEMU failing at start

    enum Impostor: String, CaseIterable, CustomTestStringConvertible {
        case exitsAtOnce, complainsAndExits, notExecutable, notAProgram, neverAnswers, qemuWithBadMachine
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
        case .notAProgram:
            // Executable, but neither a binary nor a script: execve fails in the child, which reports why.
            try write("not a program\n")
            expected = ["QEMU (\(script)) could not be executed: Exec format error"]
        case .neverAnswers:
            try write("#!/bin/sh\nexec sleep 600\n")
            expected = ["did not complete the QMP handshake", "no greeting within 1.0 s"]
        case .qemuWithBadMachine:
            try write("#!/bin/sh\nexec \(qemu) \"$@\" -machine no-such-machine\n")
            expected = ["exited with status 1 before its monitor answered", "QEMU said:", "unsupported machine type"]
        }
        let cli = try Subprocess(try Self.qmpProbe(), ["probe", "--accel", "tcg", "--qemu", binary, "--timeout", "1"],
                                 environment: scratch.environment)
        let watcher = ProcessWatcher(pid: cli.pid, timeout: .seconds(60)) { _ in false }
        let result = await cli.wait(timeout: .seconds(60))
        await watcher.finished()
        let seen = watcher.children
        print("--qemu \(kind): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (exit \(result.exitStatus.map(String.init) ?? "-"), \(result.ended - cli.started), children \(seen.sorted()))")
        if kind == .neverAnswers { #expect(!seen.isEmpty, "the impostor was never seen running") }
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
        let before = Mutex<(qemus: [pid_t], directories: [String])>(([], []))
        let (cli, qemu, _, _) = try await Self.startProbe(scratch) { cli, _ in
            before.withLock { $0 = (Self.qemuChildren(of: cli.pid), scratch.privateDirectories) }
            cli.send(signal)
        }
        let (qemus, directories) = before.withLock { $0 }
        #expect(directories.contains { $0.hasPrefix("qmp-probe-\(cli.pid)-") }, "\(directories)")
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
