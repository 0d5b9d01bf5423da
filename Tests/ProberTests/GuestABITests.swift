import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Prober
import QMP
import Testing

/// The guest CPU ABI across QEMU versions, offline: the guest's configuration (topology, domain XML), the recorded
/// realizations of QEMU 7.2 and 10.0 in `recorded-sessions/guests/`, the causes, saved results and their errors.
///
/// The expected differences were checked by hand against live runs of both QEMUs on this machine (an AMD EPYC
/// host): QEMU 10.0 reports `ht` (and `cmp-legacy` on a non-Intel vendor) when a package holds more than one
/// logical processor, and TCG in 10.0 emulates `3dnowprefetch`, `rdseed` and `x2apic`, which 7.2 filtered.
struct GuestABITests {
    static func guests(_ label: String) -> (old: String, new: String) {
        (ProberTestSupport.recorded("guests/guest-7.2-x86_64-\(label).jsonl"),
         ProberTestSupport.recorded("guests/guest-10.0-x86_64-\(label).jsonl"))
    }

    static func compare(_ source: String, _ destination: String) async throws -> GuestABIReport {
        try await GuestABIChecker(source: .saved(path: source), destination: .saved(path: destination)).run()
    }

    static func summary(_ report: GuestABIReport) -> [String] {
        report.differences.map { "\($0.direction == .extra ? "+" : "-")\($0.feature) \($0.cause.rawValue)" }
    }

    // MARK: The guest's configuration

    @Test("-smp: QEMU's syntax, the vCPU count, and malformed topologies")
    func topology() throws {
        let smp = try SMPTopology(parsing: "4,sockets=1,cores=2,threads=2")
        #expect(smp.cpus == 4 && smp.values["threads"] == 2)
        #expect(smp.description == "4,sockets=1,cores=2,threads=2")
        #expect(try SMPTopology(parsing: "threads=2,sockets=2,cores=3").cpus == 12)
        #expect(try SMPTopology(parsing: "threads=2,sockets=2").description == "sockets=2,threads=2", "QEMU's order")
        #expect(try SMPTopology(parsing: "cpus=2,maxcpus=4").members.map(\.key) == ["cpus", "maxcpus"])
        let cases = [("2,sockets=0", "positive"), ("2,sokets=1", "unknown member 'sokets'"), ("2,cores=2,cores=2", "given twice"),
                     ("2,4", "is not KEY=N"), ("", "positive"), ("x", "positive")]
        for (text, message) in cases {
            let error = #expect(throws: ProberError.self) { try SMPTopology(parsing: text) }
            #expect(error?.description.contains(message) == true, "\(text): \(String(describing: error))")
        }
    }

    @Test("a domain XML gives the guest: type, machine type, <vcpu>, <topology> and <cpu>")
    func domain() throws {
        let xml = """
            <domain type='qemu'>
              <name>g</name>
              <vcpu placement='static' current='2'>4</vcpu>
              <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
              <cpu mode='custom' match='exact' check='full'>
                <model fallback='forbid'>Skylake-Client-noTSX-IBRS</model>
                <topology sockets='2' dies='1' cores='1' threads='2'/>
                <feature policy='disable' name='lahf_lm'/>
              </cpu>
            </domain>
            """
        let domain = try LibvirtDomain(xml: Data(xml.utf8), source: "g.xml")
        #expect(domain.accelerator == "tcg" && domain.machine == "pc-q35-7.2" && domain.arch == "x86_64")
        #expect(domain.maxVCPUs == 4 && domain.currentVCPUs == 2)
        #expect(domain.topology?.description == "2,maxcpus=4,sockets=2,dies=1,cores=1,threads=2")
        let cpu = try #require(domain.cpu)
        #expect(cpu.check == "full" && cpu.spec(accelerator: "tcg").description == "Skylake-Client-noTSX-IBRS,-lahf-lm")
        // The one reader serves the comparisons too, with the same meaning of each mode.
        #expect(try CPUSpec.parseDomainXML(Data(xml.utf8), source: "g.xml").description == "Skylake-Client-noTSX-IBRS,-lahf-lm")
        let maximum = try LibvirtDomainCPU(xml: Data("<cpu mode='maximum'/>".utf8), source: "m")
        #expect(maximum.spec(accelerator: "kvm").model == "max" && maximum.spec(accelerator: "tcg").model == "max")
        #expect(try LibvirtDomain(xml: Data("<domain type='kvm'><vcpu>3</vcpu></domain>".utf8), source: "k").topology?.description == "3")
        #expect(try LibvirtDomain(xml: Data("<domain type='kvm'/>".utf8), source: "k").topology == nil)
        let cases = [
            ("<domain><vcpu>two</vcpu></domain>", "<vcpu> must be a positive number"),
            ("<domain><cpu><model>EPYC</model><topology cores='0'/></cpu></domain>", "<topology cores> must be a positive number"),
            ("<domain><cpu><model>EPYC</model><feature policy='require'/></cpu></domain>", "<feature> without a name"),
            ("<domain><cpu mode='host-magic'/></domain>", "is not supported"),
            ("<nodomain/>", "no <domain> or <cpu>"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: ProberError.self) { try LibvirtDomain(xml: Data(text.utf8), source: "d.xml") }
            #expect(error?.description.contains(message) == true, "\(text): \(String(describing: error))")
        }
    }

    @Test("a recorded guest's configuration is read back from its arguments")
    func configurationRoundTrip() throws {
        let guest = GuestConfiguration(cpu: "EPYC,-svm", machine: "pc-q35-7.2", topology: try SMPTopology(parsing: "2,cores=2"),
                                       accelerator: "kvm")
        #expect(try GuestConfiguration(arguments: guest.qemuArguments) == guest)
        #expect(try GuestConfiguration(arguments: QEMUInstance.probeArguments(accelerator: "tcg")) == nil, "a probing QEMU starts no guest")
    }

    // MARK: Recorded realizations of 7.2 and 10.0

    @Test("QEMU 10.0 reports ht for two threads per core; TCG 10.0 emulates what 7.2 filtered")
    func threadsUnderTCG() async throws {
        let (old, new) = Self.guests("tcg-skylake-q35-7.2-threads2")
        let report = try await Self.compare(old, new)
        #expect(Self.summary(report) == ["+3dnowprefetch host-filtering", "+ht topology", "+rdseed host-filtering", "+x2apic host-filtering"])
        let pair = try #require(report.pairs.first)
        #expect(pair.machine == "pc-q35-7.2" && pair.source.threadsPerPackage == 2 && pair.destination?.threadsPerPackage == 2)
        #expect(pair.source.version.description == "7.2.22" && pair.destination?.version.description == "10.0.2")
        let ht = try #require(report.differences.first { $0.feature == "ht" })
        #expect(ht.src == .flag(false) && ht.dst == .flag(true) && ht.direction == .extra && ht.machine == "pc-q35-7.2")
        #expect(ht.libvirtFull.contains("guest CPU doesn't match specification: extra features: ht"))
        #expect(ht.detail.contains("2 logical processors per package") && ht.detail.contains("the guest sees the same bit"))
        // A feature the source filtered is disabled in libvirt's updated CPU: libvirt itself passes.
        let x2apic = try #require(report.differences.first { $0.feature == "x2apic" })
        #expect(x2apic.detail.contains("TCG in QEMU 7.2.22 does not emulate it") && x2apic.libvirtFull.hasPrefix("passes"))
        #expect(!report.identical)
        #expect(try await ProberTestSupport.schemaErrors(report.json, schema: "guest-abi.schema.json") == nil)
    }

    @Test("one vCPU: no topology-derived feature, the TCG differences stay")
    func singleVCPU() async throws {
        let (old, new) = Self.guests("tcg-skylake-q35-7.2-smp1")
        let report = try await Self.compare(old, new)
        #expect(Self.summary(report) == ["+3dnowprefetch host-filtering", "+rdseed host-filtering", "+x2apic host-filtering"])
        #expect(report.pairs[0].source.threadsPerPackage == 1)
    }

    @Test("KVM on this AMD host: ht and cmp-legacy for cores and threads, the KubeVirt upgrade failure")
    func coresAndThreadsUnderKVM() async throws {
        let (old, new) = Self.guests("kvm-epyc-i440fx-7.2-cores2-threads2")
        let report = try await Self.compare(old, new)
        #expect(Self.summary(report) == ["+cmp-legacy topology", "+ht topology"])
        #expect(report.pairs[0].source.properties["vendor"] == "AuthenticAMD")
        let cmp = try #require(report.differences.first { $0.feature == "cmp-legacy" })
        #expect(cmp.libvirtFull.contains("extra features: cmp_legacy"), "libvirt's spelling")
        // The other way (a saved image of 10.0 restored on 7.2): the same features, missing.
        let back = try await Self.compare(new, old)
        #expect(Self.summary(back) == ["-cmp-legacy topology", "-ht topology"])
        #expect(back.differences.allSatisfy { $0.libvirtFull.contains("missing features") })
    }

    @Test("sockets alone leave one logical processor per package: identical")
    func socketsOnly() async throws {
        let (old, new) = Self.guests("tcg-qemu64-i440fx-7.2-sockets2")
        let report = try await Self.compare(old, new)
        #expect(report.identical, "\(Self.summary(report))")
        #expect(report.pairs[0].source.threadsPerPackage == 1 && report.pairs[0].source.vcpus == 2)
        #expect(report.text.contains("pc-i440fx-7.2: identical ("))
        #expect(report.text.contains("result: identical"))
    }

    @Test("an old machine type (pc-i440fx-2.4) on an Intel model: ht, and no cmp-legacy")
    func oldMachineType() async throws {
        let (old, new) = Self.guests("tcg-westmere-i440fx-2.4-cores2")
        let report = try await Self.compare(old, new)
        #expect(Self.summary(report) == ["+ht topology"])
        #expect(report.pairs[0].destination?.properties["vendor"] == "GenuineIntel")
        // 10.0 lists the machine type's compat properties (9.1+); 7.2 cannot.
        #expect(report.pairs[0].source.compatProperties == nil)
        let compat = try #require(report.pairs[0].destination?.compatProperties)
        #expect(compat.contains(RealizedCPU.CompatProperty(type: "x86_64-cpu", property: "legacy-multi-node", value: "on")))
    }

    @Test("the text, JSON and XML views say the same")
    func views() async throws {
        let (old, new) = Self.guests("kvm-epyc-i440fx-7.2-cores2-threads2")
        let report = try await Self.compare(old, new)
        #expect(report.text.contains("pc-i440fx-7.2: 2 differences (2 extra, 0 missing on the destination)"))
        #expect(report.text.contains("  +ht  src off, dst on  [topology]"))
        #expect(report.text.contains("guest: -cpu EPYC, smp 4,sockets=1,cores=2,threads=2 (4 logical processors per package), kvm"))
        let json = report.json
        #expect(json["differences"]?.arrayValue?.count == 2)
        let first = try #require(json["differences"]?.arrayValue?.first)
        #expect(first["cause"]?.stringValue == "topology" && first["libvirt_name"]?.stringValue == "cmp_legacy")
        #expect(json["source"]?["realized"]?.arrayValue?.first?["values"]?["ht"]?.boolValue == false)
        #expect(json["destination"]?["realized"]?.arrayValue?.first?["values"]?["ht"]?.boolValue == true)
        let xml = report.xml
        #expect(xml.contains("<difference feature='ht' libvirtName='ht' src='off' dst='on' direction='extra' cause='topology'>"))
        #expect(xml.contains("<machine name='pc-i440fx-7.2' identical='no'>"))
        #expect(XMLParser(data: Data(xml.utf8)).parse(), "well-formed XML")
    }

    // MARK: Causes, from real realizations with one fact changed

    @Test("a compat property, an accelerator default and an unexplained change are told apart")
    func causes() async throws {
        let (old, _) = Self.guests("tcg-qemu64-i440fx-7.2-sockets2")
        let base = try #require(try await GuestRealization.replay(path: old).first)
        // The destination's machine type sets a feature through a compat property.
        var compat = base
        compat.values["npt"] = true
        compat.compatProperties = [.init(type: "qemu64-x86_64-cpu", property: "npt", value: "on")]
        let byCompat = GuestABIComparison.differences(src: base, dst: compat)
        #expect(byCompat.map(\.cause) == [.machineCompat])
        #expect(byCompat[0].detail.contains("sets qemu64-x86_64-cpu.npt=on") && byCompat[0].detail.contains("does not list its compat properties"))
        // x2apic became a KVM default in QEMU 2.0 (AcceleratorDefaults).
        var kvmOld = base, kvmNew = base
        kvmOld.accelerator = "kvm"; kvmNew.accelerator = "kvm"
        kvmOld.version = QEMUVersion(major: 1, minor: 7, micro: 0)
        kvmOld.values["x2apic"] = false; kvmNew.values["x2apic"] = true
        let byDefault = GuestABIComparison.differences(src: kvmOld, dst: kvmNew)
        #expect(byDefault.map(\.cause) == [.acceleratorDefault] && byDefault[0].detail == "kvm sets x2apic=on in QEMU 7.2.22, not in QEMU 1.7.0")
        // Nothing explains it: shown as a finding.
        var other = base
        other.values["pcid"] = true
        other.values["brand-new-feature"] = true
        let findings = GuestABIComparison.differences(src: base, dst: other)
        #expect(findings.map(\.feature) == ["brand-new-feature", "pcid"] && findings.allSatisfy { $0.cause == .unexplained })
        #expect(findings[0].src == .absent && findings[0].detail.contains("has no feature brand-new-feature"))
        // A property with another value.
        var renamed = base
        renamed.properties["model-id"] = "Another CPU"
        let changed = GuestABIComparison.differences(src: base, dst: renamed)
        #expect(changed.count == 1 && changed[0].direction == .changed && !changed[0].isFeature)
        #expect(changed[0].libvirtFull.hasPrefix("not compared by libvirt"))
    }

    // MARK: Saved results

    @Test("a saved result survives its JSON round trip")
    func savedRoundTrip() async throws {
        let (_, new) = Self.guests("kvm-epyc-i440fx-7.2-cores2-threads2")
        let cpu = try #require(try await GuestRealization.replay(path: new).first)
        let reread = try RealizedCPU(json: try JSON.parse(cpu.json.serialized()), source: "x", at: "realized[0]")
        #expect(reread == cpu)
        #expect(cpu.values.count > 300 && cpu.features.contains("ht") && cpu.path.hasPrefix("/machine/"))
    }

    @Test("saved results of another kind or version, and other files, are refused with a clear message")
    func badSaved() async throws {
        let directory = try PrivateDirectory()
        let (old, _) = Self.guests("tcg-qemu64-i440fx-7.2-sockets2")
        let cpu = try #require(try await GuestRealization.replay(path: old).first)
        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.path + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var s390x = cpu
        s390x.arch = "s390x"
        let cases: [(String, String)] = [
            (try write("v1.json", #"{"schema": "qmp-probe/cpu-check/1", "realized": []}"#), "another format version (qmp-probe/cpu-check/1)"),
            (try write("probe.json", #"{"schema": "qmp-probe/probe-report/1"}"#), "a qmp-probe/probe-report/1, not a saved guest CPU"),
            (try write("predicted.json", #"{"schema": "qmp-probe/cpu-check/2", "realized": []}"#), "saved without --live"),
            (try write("broken.json", #"{"schema": "qmp-probe/cpu-check/2", "realized": [{"qemu": {"version": "7.2"}}]}"#), "at realized[0].qemu.version"),
            (ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl"), "not the recording of a started guest"),
            (try write("other.txt", "hello\n"), "neither a QEMU binary nor a saved result"),
            (directory.path, "cannot be read as a QEMU binary or a saved result"),
            (directory.path + "/missing.json", "no such file"),
        ]
        for (path, message) in cases {
            let error = await #expect(throws: ProberError.self) {
                _ = try await GuestABIChecker(source: .saved(path: old), destination: try GuestSide.classify(path)).run()
            }
            #expect(error?.description.contains(message) == true, "\(path): \(String(describing: error))")
        }
        // Another architecture, another guest, another machine type.
        let other = try write("s390x.json", JSON.object(["schema": .string(GuestCPUResult.schema), "realized": [s390x.json]]).serialized())
        let arch = await #expect(throws: ProberError.self) { _ = try await Self.compare(old, other) }
        #expect(arch?.description.contains("different architectures: x86_64 (source) and s390x (destination)") == true)
        var checker = GuestABIChecker(source: .saved(path: old), destination: .saved(path: old))
        checker.cpu = "EPYC"
        let guest = await #expect(throws: ProberError.self) { _ = try await checker.run() }
        #expect(guest?.description.contains("another guest CPU: -cpu qemu64, not EPYC") == true)
        checker.cpu = nil
        checker.machines = ["pc-q35-9.0"]
        let machine = await #expect(throws: ProberError.self) { _ = try await checker.run() }
        #expect(machine?.description.contains("no guest on machine type pc-q35-9.0 (it has: pc-i440fx-7.2)") == true)
    }

    // MARK: The command line

    @Test("cpu --from/--to: exit 0 identical, 1 on a difference, 2 on bad input")
    func commandLine() async throws {
        let (old, new) = Self.guests("kvm-epyc-i440fx-7.2-cores2-threads2")
        let (status, text) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", new])
        #expect(status == 1, "\(text)")
        #expect(text.contains("  +ht  src off, dst on  [topology]"))
        #expect(text.contains("check='full': the destination refuses the guest: guest CPU doesn't match specification: extra features: ht"))
        let (jsonStatus, json) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", new, "--json"])
        #expect(jsonStatus == 1)
        let parsed = try JSON.parse(json)
        #expect(parsed["differences"]?.arrayValue?.compactMap { $0["feature"]?.stringValue } == ["cmp-legacy", "ht"])
        #expect(try await ProberTestSupport.schemaErrors(parsed, schema: "guest-abi.schema.json") == nil)
        let (xmlStatus, xml) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", new, "--xml"])
        #expect(xmlStatus == 1 && xml.contains("<guestABI identical='no'>"))
        let (same, sameText) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", old])
        #expect(same == 0 && sameText.contains("result: identical"), "\(sameText)")
        let (bad, message) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", "/etc/hostname"])
        #expect(bad == 2 && message.contains("qmp-probe: /etc/hostname: neither a QEMU binary nor a saved result"), "\(message)")
        let (wrongSMP, smpMessage) = try await CompareCommandTests.run(["cpu", "--from", old, "--to", new, "--smp", "2"])
        #expect(wrongSMP == 2 && smpMessage.contains("another topology: smp 4,sockets=1,cores=2,threads=2, not 2"), "\(smpMessage)")
        let (malformed, malformedMessage) = try await CompareCommandTests.run(["cpu", "qemu64", "--smp", "2,sockets=x", "--to", old])
        #expect(malformed == 2 && malformedMessage.contains("sockets must be a positive number"))
    }
}
