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
            ("truncated.json", #"{"schema": "qmp-probe/probe-report/1", "qemu": "#, "not valid JSON"),
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
        let isDirectory = await #expect(throws: ProberError.self) { try await HostResultLoader.load(directory.path) }
        #expect(isDirectory?.description.contains("not a regular file") == true, "\(String(describing: isDirectory))")
        // Files are read to their end, not to the size stat gave: /proc's say 0 bytes and have content.
        let empty = directory.path + "/empty.json"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let emptyError = await #expect(throws: (any Error).self) { try await HostResultLoader.load(empty) }
        #expect("\(String(describing: emptyError))".contains("empty"), "\(String(describing: emptyError))")
        let proc = await #expect(throws: (any Error).self) { try await HostResultLoader.load("/proc/self/status") }
        #expect("\(String(describing: proc))".contains("wrong header"), "\(String(describing: proc))")
    }

    @Test("hosts with byte-identical files share one parse and keep their own labels; a file that differs is its own")
    func identicalHostsShareAParse() async throws {
        let real = try await CompareTestSupport.recordedHost("7.2")
        let directory = try PrivateDirectory()
        let text = real.report.json.serializedBytes()
        var changed = real.report
        let position = try #require(changed.accelerators[0].models.firstIndex { $0.usable == true })
        let name = changed.accelerators[0].models[position].name
        changed.accelerators[0].models[position].usable = false
        changed.accelerators[0].models[position].blockers = ["x2apic"]
        var arguments: [String] = []
        for index in 0..<5 {
            let path = directory.path + "/host\(index).json"
            let bytes = index == 3 ? changed.json.serializedBytes() : text
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            arguments.append(index == 4 ? "named=\(path)" : path)
        }
        // The same recordings twice make one host too, and keep their own "replay ..." source.
        let kvm = ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl"), tcg = ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl")
        let kvmCopy = directory.path + "/copy-kvm.jsonl"
        try FileManager.default.copyItem(atPath: kvm, toPath: kvmCopy)
        arguments += ["\(kvm),\(tcg)", "\(kvmCopy),\(tcg)"]
        let hosts = try await HostResultLoader.loadAll(arguments)
        #expect(hosts.map(\.label) == ["host0", "host1", "host2", "host3", "named", "qemu-7.2-x86_64-kvm", "copy-kvm"])
        #expect(hosts[4].paths == [directory.path + "/host4.json"])
        for index in [1, 2, 4] { #expect(hosts[index].report.json == hosts[0].report.json) }
        let model = try ProberTestSupport.model(hosts[3].report, changed.accelerators[0].name, name)
        #expect(model.usable == false && model.blockers == ["x2apic"])
        #expect(try ProberTestSupport.model(hosts[0].report, changed.accelerators[0].name, name).usable == true)
        #expect(hosts[5].report.source == "replay \(kvm),\(tcg)")
        #expect(hosts[6].report.source == "replay \(kvmCopy),\(tcg)")
        #expect(hosts[6].paths == [kvmCopy, tcg])
        #expect(hosts[6].report.accelerators.map(\.name) == real.report.accelerators.map(\.name))
        // Shared results: hosts 0, 1, 2, 4 and hosts 5, 6; the baseline computed once per distinct result is the
        // baseline computed host by host.
        #expect(hosts[0].sharedResult != nil && [1, 2, 4].allSatisfy { hosts[$0].sharedResult == hosts[0].sharedResult })
        #expect(hosts[3].sharedResult == nil && hosts[5].sharedResult != nil && hosts[5].sharedResult == hosts[6].sharedResult)
        // A directory stands for the results in it, sorted by name.
        let listed = try HostResultLoader.expandDirectories([directory.path, "x=" + kvm])
        #expect(listed == ["copy-kvm.jsonl", "host0.json", "host1.json", "host2.json", "host3.json", "host4.json"]
            .map { directory.path + "/" + $0 } + ["x=" + kvm])
        let empty = try PrivateDirectory()
        #expect(throws: ProberError.self) { try HostResultLoader.expandDirectories([empty.path]) }
        let grouped = try FleetBaseline.compute(hosts: hosts)
        let oneByOne = try FleetBaseline.compute(hosts: hosts.map { var host = $0; host.sharedResult = nil; return host })
        #expect(grouped.json == oneByOne.json)
        let row = try #require(grouped.accelerators[0].models.first { $0.name == name })
        #expect(row.usableCount == 6 && row.blockedBy.map(\.hosts) == [[3]])
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
