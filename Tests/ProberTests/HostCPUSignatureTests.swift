import Foundation
import Prober
import QMP
import Testing

/// The host CPU signature the prober writes in its recordings' headers and reads for its cache keys.
struct HostCPUSignatureTests {
    @Test("the host CPU signature parses x86 /proc/cpuinfo")
    func cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nstepping\t: 1\nmicrocode\t: 0x1000065\n\nprocessor\t: 1\nvendor_id\t: Other\n"
        let signature = HostCPUSignature.parse(cpuinfo: text)
        #expect(signature == HostCPUSignature(vendor: "AuthenticAMD", family: 25, model: 1, stepping: 1,
                                              microcode: "0x1000065", modelName: "AMD EPYC"))
    }

    @Test("a header for this host carries this machine's signature, and reads it back")
    func header() throws {
        let header = SessionHeader.forThisHost(arch: "x86_64", accelerator: "tcg")
        let current = try #require(HostCPUSignature.current())
        #expect(header.hostCPU == current)
        #expect(SessionHeader(json: header.json).hostCPU?.vendor == current.vendor)
        #expect(SessionHeader(arch: "x86_64").hostCPU == nil)
    }
}
