import Foundation
import Prober
import Testing

/// KVM coverage cannot vanish silently: without a usable `/dev/kvm`, CI fails unless the run says it is TCG only.
struct KVMCoverageTests {
    @Test("this run: KVM is usable, or the run says it is TCG only (QMP_PROBE_TCG_ONLY=1), or it is not CI")
    func thisRun() {
        let coverage = KVMCoverage(kvmUsable: QEMUBinary.kvmUsable, environment: ProcessInfo.processInfo.environment)
        if let message = coverage.message { print(message) }
        if coverage == .missingInCI { Issue.record(Comment(rawValue: coverage.message ?? "")) }
    }

    @Test("the decision: KVM usable, TCG only declared, outside CI, in CI")
    func decision() {
        #expect(KVMCoverage(kvmUsable: true, environment: ["CI": "true"]) == .present)
        #expect(KVMCoverage(kvmUsable: false, environment: ["CI": "true", "QMP_PROBE_TCG_ONLY": "1"]) == .explicitlyTCGOnly)
        #expect(KVMCoverage(kvmUsable: false, environment: ["CI": "true"]) == .missingInCI)
        #expect(KVMCoverage(kvmUsable: false, environment: ["CI": "1", "QMP_PROBE_TCG_ONLY": "0"]) == .missingInCI)
        #expect(KVMCoverage(kvmUsable: false, environment: ["CI": "false"]) == .missingOutsideCI)
        #expect(KVMCoverage(kvmUsable: false, environment: [:]) == .missingOutsideCI)
        #expect(KVMCoverage.missingInCI.message?.contains("set QMP_PROBE_TCG_ONLY=1") == true)
    }
}
