import FaultInjection
import Foundation
import Testing
import QMP

/// The built `qmp-probe` against monitors that are not there or misbehave: a clear message on stderr, exit status 2,
/// promptly, with memory bounded.
struct CLIFaultTests {
    static func binary() throws -> String {
        try #require(BuiltProducts.qmpProbe, "qmp-probe is not built next to the tests (\(BuiltProducts.directory)): run swift build --build-tests")
    }

    enum BadSocket: String, CaseIterable, CustomTestStringConvertible {
        case missing, regularFile, directory, noListener

        var testDescription: String { rawValue }

        /// Makes the bad path in `directory`; returns it and the words the message must contain.
        func make(in directory: String) throws -> (path: String, reason: String) {
            switch self {
            case .missing:
                return (directory + "/no-such-dir/qmp.sock", "No such file or directory")
            case .regularFile:
                let path = directory + "/file"
                _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
                return (path, "not a socket")
            case .directory:
                return (directory, "not a socket")
            case .noListener:
                // A socket file whose server is gone (QEMU exited without removing it).
                let path = directory + "/stale.sock"
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    raw.copyBytes(from: Array(path.utf8))
                }
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                close(fd)
                #expect(bound == 0)
                return (path, "refused")
            }
        }
    }

    @Test("a wrong, missing or non-socket --socket path: a clear message, exit status 2",
          arguments: ["exec", "probe"], BadSocket.allCases)
    func badSocketPath(command: String, kind: BadSocket) async throws {
        let directory = try Subprocess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, reason) = try kind.make(in: directory)
        let arguments = command == "exec" ? ["exec", "--socket", path, "query-version"] : ["probe", "--socket", path]
        let cli = try Subprocess(try Self.binary(), arguments)
        let outcome = await cli.wait(timeout: .seconds(60))
        let elapsed = outcome.ended - cli.started
        print("\(command) --socket \(kind): \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (exit \(outcome.exitStatus.map(String.init) ?? "-"), \(elapsed))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("qmp-probe: cannot connect: unix:\(path)"), "\(outcome)")
        #expect(outcome.stderr.localizedCaseInsensitiveContains(reason), "\(outcome)")
        #expect(outcome.stdout.isEmpty)
        #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: exited after \(elapsed) (expected at once)")
    }

    @Test("a monitor that accepts but never greets (a stopped QEMU): exit status 2 after --timeout, saying so",
          arguments: ["exec", "probe"])
    func neverGreets(command: String) async throws {
        let directory = try Subprocess.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try FaultServer(path: directory + "/qmp.sock")
        server.start { connection in _ = connection.readMessage() }  // silent until the client hangs up
        let arguments = command == "exec"
            ? ["exec", "--socket", directory + "/qmp.sock", "--timeout", "1", "query-version"]
            : ["probe", "--socket", directory + "/qmp.sock", "--timeout", "1"]
        let cli = try Subprocess(try Self.binary(), arguments)
        let outcome = await cli.wait(timeout: .seconds(60))
        let elapsed = outcome.ended - cli.started
        print("\(command), no greeting: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) (\(elapsed))")
        #expect(outcome.exitStatus == 2, "\(outcome)")
        #expect(outcome.stderr.contains("no greeting within 1.0 s"), "\(outcome)")
        #expect(outcome.stderr.contains("stopped or hung"), "\(outcome)")
        #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: exited after \(elapsed) (its --timeout is 1 s)")
        #expect(await server.waitUntilDone() == nil)
    }

    @Test("exec against a monitor that sends a 100 MB line: exit status 2 at the 10 MiB limit, memory bounded")
    func hugeLine() async throws {
        // wait4's ru_maxrss of a child counts the memory of the process that spawned it (posix_spawn shares it until
        // exec), so the command line is started from a small child copy of this test binary, not from this process.
        let outcome = try await IsolatedTest.run("CLIFaultTests.hugeLine", filter: #"QMPTests.CLIFaultTests/hugeLine\("#) {
            let directory = try Subprocess.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let server = try FaultServer(path: directory + "/qmp.sock")
            server.start { connection in
                guard connection.greetAndNegotiate(), connection.readMessage() != nil else { throw FaultError("no command") }
                if connection.sendUnterminatedReply(size: 100 << 20) { throw FaultError("qmp-probe read 100 MB without failing") }
            }
            // The same command against a monitor that answers normally: the baseline memory of the command line.
            let normal = try FaultServer(path: directory + "/normal.sock")
            normal.start { connection in
                guard connection.greetAndNegotiate(), let command = connection.readMessage() else { throw FaultError("no command") }
                connection.reply(to: command, with: ["qemu": ["major": 7, "minor": 2, "micro": 0], "package": ""])
                _ = connection.readMessage()
            }
            let baseline = try await Subprocess.run(try Self.binary(), ["exec", "--socket", directory + "/normal.sock", "query-version"])
            #expect(baseline.exitStatus == 0, "\(baseline)")
            let outcome = try await Subprocess.run(try Self.binary(), ["exec", "--socket", directory + "/qmp.sock", "query-version"])
            print("exec, 100 MB line: \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); max RSS \(outcome.maxRSSKiB) KiB, against \(baseline.maxRSSKiB) KiB for a normal reply (the process that started both: \(ProcessInspection.memoryKiB().peak) KiB at most)")
            #expect(outcome.exitStatus == 2, "\(outcome)")
            #expect(outcome.stderr.contains("message larger than the limit of 10485760 bytes"), "\(outcome)")
            #expect(outcome.maxRSSKiB < 100 * 1024)
            #expect(await server.waitUntilDone() == nil)
            #expect(await normal.waitUntilDone() == nil)
        }
        if let outcome { #expect(IsolatedTest.passed(outcome), "the test failed alone: \(outcome)") }
    }
}
