import Foundation
import Prober
import QMP
import Testing

/// Bad input to compare and baseline: a clear typed error naming what is wrong.
struct CompareInputTests {
    @Test("-cpu syntax: models with switches, and what is refused")
    func cpuSpec() throws {
        let spec = try CPUSpec.parse("Haswell,+x2apic,-erms,vmx=on,pcid=off,sse4.1=yes")
        #expect(spec.model == "Haswell")
        #expect(spec.requests == ["x2apic": .on, "erms": .off, "vmx": .on, "pcid": .off, "sse4.1": .on])
        #expect(spec.description == "Haswell,+x2apic,-erms,+vmx,-pcid,+sse4.1")
        #expect(try CPUSpec.parse("max") == CPUSpec(model: "max"))
        // A later switch of the same feature wins.
        #expect(try CPUSpec.parse("qemu64,+x2apic,-x2apic").requests == ["x2apic": .off])
        for bad in ["", ",+x2apic", "+x2apic", "Haswell,", "Haswell,level=13", "Haswell,+", "Haswell,x2apic", "Haswell,+a b"] {
            #expect(throws: ProberError.self, "\(bad)") { try CPUSpec.parse(bad) }
        }
    }

    @Test("--domain: modes, policies and malformed XML")
    func domainSpec() throws {
        func parse(_ xml: String) throws -> CPUSpec { try CPUSpec.parseDomainXML(Data(xml.utf8), source: "d.xml") }
        #expect(try parse("<domain><cpu mode='host-passthrough'/></domain>").model == "host")
        #expect(try parse("<cpu mode='maximum'/>").model == "max")
        #expect(try parse("<cpu><model> EPYC </model><feature policy='forbid' name='tsc_adjust'/></cpu>").requests == ["tsc-adjust": .off])
        let cases: [(String, String)] = [
            ("<domain><name>x</name></domain>", "no <cpu>"),
            ("<cpu mode='host-model'/>", "not supported"),
            ("<cpu mode='custom'></cpu>", "without a <model>"),
            ("<cpu><model>EPYC</model><feature policy='sometimes' name='x'/></cpu>", "unknown policy"),
            ("<cpu><model>EPYC</model></cpux>", "not well-formed"),
        ]
        for (xml, message) in cases {
            let error = #expect(throws: ProberError.self) { try parse(xml) }
            #expect(error?.description.contains(message) == true, "\(xml): \(String(describing: error))")
            #expect(error?.description.hasPrefix("d.xml: ") == true)
        }
    }

    @Test("host arguments: labels, several files, and files that are not results")
    func hostArguments() async throws {
        let (label, paths) = try HostResultLoader.parseArgument("a=x.json,y.jsonl")
        #expect(label == "a" && paths == ["x.json", "y.jsonl"])
        let (none, one) = try HostResultLoader.parseArgument("/tmp/a=b/x.json")
        #expect(none == nil && one == ["/tmp/a=b/x.json"])
        for bad in ["=x.json", "a=", "x.json,", ""] {
            #expect(throws: ProberError.self, "\(bad)") { try HostResultLoader.parseArgument(bad) }
        }
        let directory = try PrivateDirectory()
        let cases: [(String, String, String)] = [
            ("other.json", #"{"hello": 1}"#, "not a probe report"),
            ("future.json", #"{"schema": "qmp-probe/probe-report/9", "qemu": {}}"#, "unsupported schema"),
            ("broken.json", #"{"schema": "qmp-probe/probe-report/1", "qemu": {"version": "7.2.0", "package": "", "arch": null}, "source": "x", "accelerators": {"kvm": {"models": [{"name": 3}]}}}"#,
             "at accelerators.kvm.models[0].name: expected a string"),
            ("text.txt", "hello\n", "wrong header"),
        ]
        for (name, content, message) in cases {
            let path = directory.path + "/" + name
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            let error = await #expect(throws: ProberError.self) { try await HostResultLoader.load(path) }
            #expect(error?.description.contains(message) == true, "\(name): \(String(describing: error))")
            #expect(error?.description.contains(path) == true, "\(name): \(String(describing: error))")
        }
        let missing = await #expect(throws: ProberError.self) { try await HostResultLoader.load(directory.path + "/none.json") }
        #expect(missing?.description.contains("cannot be read") == true)
    }

    @Test("accelerators and models that are not there")
    func missingParts() async throws {
        let tcgOnly = try await CompareTestSupport.host(ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl"))
        let kvmOnly = try await CompareTestSupport.host(ProberTestSupport.recorded("qemu-10.0-x86_64-kvm.jsonl"))
        let nothingShared = #expect(throws: ProberError.self) { try CompareReport.compute(source: tcgOnly, destination: kvmOnly) }
        #expect(nothingShared?.description.contains("nothing to compare") == true)
        let noKVM = #expect(throws: ProberError.self) {
            try CompareReport.compute(source: tcgOnly, destination: tcgOnly, accelerators: ["kvm"])
        }
        #expect(noKVM?.description.contains("has no kvm result") == true)
        let unknownModel = #expect(throws: ProberError.self) {
            try CompareReport.compute(source: tcgOnly, destination: tcgOnly, cpu: try CPUSpec.parse("Pentium9000"))
        }
        #expect(unknownModel?.description.contains("has no CPU model 'Pentium9000'") == true)
        #expect(throws: ProberError.self) { try FleetBaseline.compute(hosts: []) }
        #expect(throws: ProberError.self) { try FleetBaseline.compute(hosts: [tcgOnly, kvmOnly]) }
    }
}
