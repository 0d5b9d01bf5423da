import Foundation
import Prober
import Testing

/// The `compare` and `baseline` command lines: exit statuses 0 (compatible), 1 (blocked), 2 (error).
struct CompareCommandTests {
    /// The `qmp-probe` executable next to the test bundle (swift build builds it with the tests).
    static var executable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("qmp-probe").path
    }

    static func run(_ arguments: [String]) async throws -> (Int32, String) {
        try #require(FileManager.default.isExecutableFile(atPath: executable), "\(executable) is not built")
        return try await CompareTestSupport.run(executable, arguments)
    }

    @Test("exit status 0, 1 and 2, with the answer on stdout or the error on stderr")
    func exitStatuses() async throws {
        let old = ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl")
        let new = ProberTestSupport.recorded("qemu-10.0-x86_64-tcg.jsonl")
        let (compatible, text) = try await Self.run(["compare", old, new, "--cpu", "Haswell"])
        #expect(compatible == 0, "\(text)")
        #expect(text.contains("Haswell  compatible"))
        let (blocked, blockedText) = try await Self.run(["compare", new, old, "--cpu", "Haswell", "--json"])
        #expect(blocked == 1)
        #expect(blockedText.contains(#""feature":"x2apic","reason":"dst-unavailable""#))
        let (error, message) = try await Self.run(["compare", new, old, "--cpu", "Haswell,level=13"])
        #expect(error == 2)
        #expect(message.contains("qmp-probe: --cpu 'Haswell,level=13'"))
        let (missing, missingMessage) = try await Self.run(["compare", new, "/nonexistent.json"])
        #expect(missing == 2 && missingMessage.contains("/nonexistent.json: cannot be read"))
        let (badAccel, badAccelMessage) = try await Self.run(["compare", new, old, "--accel", "hvf"])
        #expect(badAccel == 2 && badAccelMessage.contains("--accel must be kvm, tcg or all"))
        let (both, _) = try await Self.run(["compare", new, old, "--cpu", "Haswell", "--domain", "/dev/null"])
        #expect(both == 2)
        let (baseline, baselineText) = try await Self.run(["baseline", old, new, "--rule", "usable-as-is"])
        #expect(baseline == 0 && baselineText.contains("baseline -cpu: Westmere,"))
        let (askedBlocked, _) = try await Self.run(["baseline", old, new, "--model", "Haswell"])
        #expect(askedBlocked == 1)
    }
}
