import Foundation
import Prober
import QMP
import Testing

/// `--format`: each platform's configuration read back by a real parser (Python's configparser for Nova, PyYAML for
/// KubeVirt and Incus, ElementTree for libvirt, a parser of Proxmox's documented section syntax), what a platform
/// cannot express refused with its reason, KubeVirt's node labels and their drift, and the command line's exit
/// statuses. The fleet: this machine's QEMU 7.2 and 10.0 under KVM (recorded-sessions).
struct PlatformFormatTests {
    static func fleetReport() async throws -> (BaselineReport, [HostResult]) {
        let hosts = try await BaselineRuleTests.recordedFleet()
        return (try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"]), hosts)
    }

    /// Runs `script` with python3 on `text` (the file's path is `sys.argv[1]`) and returns what it prints as JSON.
    static func python(_ script: String, on text: String) async throws -> Any {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("format-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await ProberTestSupport.run("/usr/bin/python3", ["-c", "import json, sys\n" + script, path], stderr: false)
        try #require(status == 0, "python3 failed on:\n\(text)")
        return try JSONSerialization.jsonObject(with: Data(output.utf8))
    }

    @Test("every format of the KVM baseline (EPYC-Milan) parses back to the same model and switches, in the platform's spelling")
    func formatsParse() async throws {
        let (report, hosts) = try await Self.fleetReport()
        let cpu = try #require(report.accelerators[0].baseline)
        let libvirtSwitches = (cpu.plus.map { "+" + (LibvirtFeatureNames.libvirtName(forQEMU: $0) ?? $0) }
                               + cpu.minus.map { "-" + (LibvirtFeatureNames.libvirtName(forQEMU: $0) ?? $0) })
        #expect(libvirtSwitches.contains("-pclmuldq") && libvirtSwitches.contains("+tsc_adjust") && libvirtSwitches.contains("+cmp_legacy"))
        let qemuSwitches = cpu.plus.map { "+" + $0 } + cpu.minus.map { "-" + $0 }
        func render(_ format: PlatformFormat) throws -> String { try PlatformOutput.render(format, report: report, hosts: hosts) }

        #expect(try render(.qemu) == cpu.cpuString + "\n")

        let nova = try #require(try await Self.python("""
            import configparser
            c = configparser.ConfigParser(); c.read(sys.argv[1])
            s = c["libvirt"]
            print(json.dumps([s["virt_type"], s["cpu_mode"], s["cpu_models"], [f.strip() for f in s["cpu_model_extra_flags"].split(",")]]))
            """, on: try render(.nova)) as? [Any])
        #expect(nova[0] as? String == "kvm" && nova[1] as? String == "custom" && nova[2] as? String == "EPYC-Milan")
        #expect(nova[3] as? [String] == libvirtSwitches)

        let kubevirt = try #require(try await Self.python("""
            import yaml
            cpu = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["domain"]["cpu"]
            print(json.dumps([cpu["model"], [("+" if f["policy"] == "require" else "-") + f["name"] for f in cpu["features"]]]))
            """, on: try render(.kubevirt)) as? [Any])
        #expect(kubevirt[0] as? String == "EPYC-Milan")
        #expect(kubevirt[1] as? [String] == libvirtSwitches)

        let incus = try #require(try await Self.python("""
            import yaml
            print(json.dumps(yaml.safe_load(open(sys.argv[1]))["config"]))
            """, on: try render(.incus)) as? [String: String])
        #expect(incus == ["instances.vm.cpu.x86_64.baseline": "EPYC-Milan",
                          "instances.vm.cpu.x86_64.flags": qemuSwitches.joined(separator: ",")])

        // Proxmox's section config (PVE::SectionConfig): "TYPE: ID", then indented "KEY VALUE" lines.
        let proxmox = try #require(try await Self.python("""
            import re
            sections = {}
            for line in open(sys.argv[1]).read().splitlines():
                if not line.strip(): continue
                m = re.match(r"^(\\S+):\\s*(\\S+)\\s*$", line)
                if m: current = sections.setdefault(m.group(1) + ":" + m.group(2), {}); continue
                m = re.match(r"^\\s+(\\S+)(\\s+(.*\\S))?\\s*$", line)
                assert m, line
                current[m.group(1)] = m.group(3)
            print(json.dumps(sections))
            """, on: try render(.proxmox)) as? [String: [String: String]])
        #expect(proxmox == ["cpu-model:fleet-baseline": ["reported-model": "EPYC-Milan", "flags": qemuSwitches.joined(separator: ";")]])

        let libvirt = try #require(try await Self.python("""
            import xml.etree.ElementTree as ET
            cpu = ET.parse(sys.argv[1]).getroot()
            print(json.dumps([cpu.get("mode"), cpu.get("match"), cpu.find("model").text, cpu.find("model").get("fallback"), cpu.find("vendor").text,
                              [("+" if f.get("policy") == "require" else "-") + f.get("name") for f in cpu.findall("feature")]]))
            """, on: try render(.libvirt)) as? [Any])
        #expect(libvirt[0] as? String == "custom" && libvirt[1] as? String == "exact" && libvirt[2] as? String == "EPYC-Milan")
        #expect(libvirt[3] as? String == "forbid" && libvirt[4] as? String == "AMD")
        #expect(libvirt[5] as? [String] == libvirtSwitches)
    }

    @Test("YAML strings survive any character: quotes, backslashes, newlines, control characters")
    func yamlEscapes() async throws {
        let odd = "a\"b\\c\nd\te\u{1}f-486"
        let cpu = BaselineReport.BaselineCPU(model: odd, plus: [], minus: [], modelFeaturesKnown: true)
        let yaml = try KubeVirtCPUFormat.render(cpu, context: PlatformContext(arch: "x86_64", accelerator: "kvm", vendor: nil))
        let model = try await Self.python("""
            import yaml
            print(json.dumps([yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["domain"]["cpu"]["model"]]))
            """, on: yaml)
        #expect(model as? [String] == [odd])
    }

    @Test("what a platform cannot express is refused with its reason, never dropped")
    func refusals() async throws {
        let hosts = try await BaselineRuleTests.recordedFleet()
        // A KVM paravirtual feature is no CPU feature to libvirt (nor to Nova and KubeVirt, which hand features to it).
        let pv = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], cpu: try CPUSpec.parse("pentium3,+kvm-pv-unhalt"))
        #expect(pv.accelerators[0].checked?.runsEverywhere == true)
        for format in [PlatformFormat.libvirt, .nova, .kubevirt] {
            #expect { try PlatformOutput.render(format, report: pv, hosts: hosts) } throws: { error in
                "\(error)".hasPrefix("\(format.rawValue) cannot express this CPU: +kvm-pv-unhalt is a KVM paravirtual feature")
            }
        }
        #expect(try PlatformOutput.render(.qemu, report: pv, hosts: hosts) == "pentium3,+kvm-pv-unhalt\n")
        // A feature libvirt's CPU map does not have (QEMU's bhi-no): refused by the formats that hand it to libvirt.
        let unknownToLibvirt = BaselineReport.BaselineCPU(model: "EPYC-Milan", plus: ["bhi-no"], minus: ["pclmulqdq"], modelFeaturesKnown: true)
        let x86 = PlatformContext(arch: "x86_64", accelerator: "kvm", vendor: "AuthenticAMD")
        for format in [PlatformFormat.libvirt, .nova, .kubevirt] {
            #expect { try format.render(unknownToLibvirt, context: x86) } throws: { error in
                "\(error)" == "\(format.rawValue) cannot express this CPU: +bhi-no: libvirt has no CPU feature bhi-no (not in its x86 CPU map; \(format.rawValue) hands features to libvirt)"
            }
        }
        #expect(try PlatformFormat.incus.render(unknownToLibvirt, context: x86).contains("\"+bhi-no,-pclmulqdq\""))

        // Proxmox's reported-model is one of its built-in models: Denverton (in QEMU) is not; EPYC-Milan is.
        let context = PlatformContext(arch: "x86_64", accelerator: "kvm", vendor: "GenuineIntel")
        let denverton = BaselineReport.BaselineCPU(model: "Denverton", plus: [], minus: ["mpx"], modelFeaturesKnown: true)
        #expect { try ProxmoxCPUFormat.render(denverton, context: context) } throws: { error in
            "\(error)" == "proxmox cannot express this CPU: reported-model must be one of Proxmox's built-in models, and Denverton is not among them"
        }
        let milan = BaselineReport.BaselineCPU(model: "EPYC-Milan", plus: ["x2apic"], minus: [], modelFeaturesKnown: true)
        #expect(try ProxmoxCPUFormat.render(milan, context: context) == "cpu-model: fleet-baseline\n\tflags +x2apic\n\treported-model EPYC-Milan\n")
        // A CPU that does not run everywhere is no configuration at all.
        let bare = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], cpu: try CPUSpec.parse("EPYC-Milan"))
        #expect { try PlatformOutput.render(.nova, report: bare, hosts: hosts) } throws: { error in
            "\(error)".hasPrefix("no nova configuration: EPYC-Milan does not run on every host (kvm): qemu-10.0: cannot give abm adx aes ")
                && "\(error)".contains("; qemu-7.2: cannot give abm adx aes amd-ssbd amd-stibp avx avx2 bmi1 bmi2 erms ")
        }
        // Incus names no architecture for ppc64 (its ppc64le differs).
        let cpu = try #require(pv.accelerators[0].checked)
        #expect { try IncusCPUFormat.render(cpu, context: PlatformContext(arch: "ppc64", accelerator: "kvm", vendor: nil)) } throws: { error in
            "\(error)".contains("no Incus architecture name for QEMU target ppc64")
        }
    }

    @Test("libvirt's CPU map table is libvirt 11.3.0's x86_features.xml (names and aliases), read from the source tarball",
          .enabled(if: LibvirtCorpus.sourcePackage != nil, "QMP_PROBE_LIBVIRT_CORPUS is not set"))
    func libvirtCPUMap() async throws {
        let corpus = try #require(LibvirtCorpus.sourcePackage)
        let tarball = URL(fileURLWithPath: corpus).deletingLastPathComponent().appendingPathComponent("src/libvirt_11.3.0.orig.tar.xz").path
        try #require(FileManager.default.fileExists(atPath: tarball), "\(tarball) is missing")
        let names = try #require(try await Self.python("""
            import tarfile, xml.etree.ElementTree as ET
            with tarfile.open(open(sys.argv[1]).read().strip()) as t:
                root = ET.parse(t.extractfile("libvirt-11.3.0/src/cpu_map/x86_features.xml")).getroot()
            print(json.dumps(sorted({f.get("name") for f in root.iter("feature")} | {a.get("name") for a in root.iter("alias")})))
            """, on: tarball) as? [String])
        #expect(names.count == 390)
        #expect(Set(names) == LibvirtCPUMap.x86Features)
    }

    @Test("KubeVirt node labels of one host, shared by a fleet, and their drift from QEMU 7.2 to 10.0")
    func kubevirtLabels() async throws {
        let hosts = try await BaselineRuleTests.recordedFleet()
        let labels = try KubeVirtNodeLabels.labels(of: hosts[0])
        #expect(labels["cpu-vendor.node.kubevirt.io/AMD"] == "true")
        #expect(labels["host-model-cpu.node.kubevirt.io/EPYC-Milan"] == "true")
        #expect(labels["cpu-model-migration.node.kubevirt.io/EPYC-Milan"] == "true")
        #expect(labels["host-model-required-features.node.kubevirt.io/tsc_adjust"] == "true")
        #expect(labels["cpu-feature.node.kubevirt.io/lahf_lm"] == "true" && labels["cpu-feature.node.kubevirt.io/lahf-lm"] == nil)
        #expect(!labels.keys.contains { $0.contains("kvm-") || $0.contains("kvmclock") })
        // Usable here, but in the labeller's obsolete list.
        #expect(labels["cpu-model.node.kubevirt.io/pentium3"] == nil && labels["cpu-model.node.kubevirt.io/486"] == nil)
        let parsed = try #require(try await Self.python("""
            import yaml
            print(json.dumps(yaml.safe_load(open(sys.argv[1]))["metadata"]["labels"]))
            """, on: KubeVirtNodeLabels.yaml(labels)) as? [String: String])
        #expect(parsed == labels)

        // From 7.2 to 10.0 on this host: 10.0's host model adds features, nothing disappears; back, they vanish.
        let upgrade = try KubeVirtNodeLabels.drift(from: hosts[1], to: hosts[0])
        #expect(upgrade.disappeared.isEmpty)
        #expect(upgrade.appeared == ["cpu-feature.node.kubevirt.io/amd-psfd", "cpu-feature.node.kubevirt.io/erms",
                                     "cpu-feature.node.kubevirt.io/fsrm", "cpu-feature.node.kubevirt.io/gds-no",
                                     "cpu-feature.node.kubevirt.io/lfence-always-serializing",
                                     "cpu-feature.node.kubevirt.io/overflow-recov", "cpu-feature.node.kubevirt.io/rfds-no",
                                     "cpu-feature.node.kubevirt.io/succor",
                                     "host-model-required-features.node.kubevirt.io/amd-psfd",
                                     "host-model-required-features.node.kubevirt.io/gds-no",
                                     "host-model-required-features.node.kubevirt.io/lfence-always-serializing",
                                     "host-model-required-features.node.kubevirt.io/overflow-recov",
                                     "host-model-required-features.node.kubevirt.io/rfds-no",
                                     "host-model-required-features.node.kubevirt.io/succor"])
        let downgrade = try KubeVirtNodeLabels.drift(from: hosts[0], to: hosts[1])
        #expect(downgrade.disappeared == upgrade.appeared && downgrade.appeared.isEmpty)
        let shared = try KubeVirtNodeLabels.shared(hosts)
        #expect(shared == (try KubeVirtNodeLabels.labels(of: hosts[1])))
        let drift = try #require(try await Self.python("""
            import yaml
            print(json.dumps(yaml.safe_load(open(sys.argv[1]))))
            """, on: KubeVirtNodeLabels.driftYAML(downgrade, from: "a", to: "b")) as? [String: [String]])
        #expect(drift == ["disappeared": downgrade.disappeared, "appeared": []])
    }

    @Test("the command line: --format prints only the configuration; 1 when it cannot; 2 on bad input")
    func commandLine() async throws {
        func host(_ version: String) -> String {
            "qemu-\(version)=" + ProberTestSupport.recorded("qemu-\(version)-x86_64-kvm.jsonl") + "," + ProberTestSupport.recorded("qemu-\(version)-x86_64-tcg.jsonl")
        }
        let fleet = [host("10.0"), host("7.2")]
        let (status, xml) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--format", "libvirt"])
        #expect(status == 0)
        #expect(xml.hasPrefix("<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>EPYC-Milan</model>\n  <vendor>AMD</vendor>\n"))
        #expect(xml.hasSuffix("</cpu>\n"))
        // Round trip: the libvirt <cpu> given back with --domain (libvirt's spellings read back to QEMU's) runs everywhere
        // and is the same CPU.
        let domain = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(UUID().uuidString).xml").path
        try xml.write(toFile: domain, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: domain) }
        let (checked, checkedText) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--domain", domain])
        #expect(checked == 0 && checkedText.contains("\nyour CPU runs on every host\n"))
        let (_, fromDomain) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--domain", domain, "--format", "qemu"])
        let (_, fromBaseline) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--format", "qemu"])
        #expect(fromDomain == fromBaseline && fromDomain.hasPrefix("EPYC-Milan,+arch-capabilities,+cmp-legacy,"))
        let (refused, message) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--format", "nova", "--cpu", "pentium3,+kvm-pv-unhalt"])
        #expect(refused == 1 && message == "qmp-probe: nova cannot express this CPU: +kvm-pv-unhalt is a KVM paravirtual feature, not a CPU feature to libvirt (nova sets it outside the CPU model)\n")
        let (notRunning, _) = try await CompareCommandTests.run(["baseline"] + fleet + ["--accel", "kvm", "--cpu", "EPYC-Milan"])
        #expect(notRunning == 1)
        let (badFormat, badMessage) = try await CompareCommandTests.run(["baseline"] + fleet + ["--format", "ovirt"])
        #expect(badFormat == 2 && badMessage.contains("--format must be one of libvirt|qemu|nova|kubevirt|kubevirt-labels|proxmox|incus"))
        let (archs, archMessage) = try await CompareCommandTests.run(["baseline", host("10.0"), ProberTestSupport.recorded("qemu-7.2-s390x-tcg.jsonl")])
        #expect(archs == 2 && archMessage.contains("different architectures"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-fleet-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let (emptyStatus, emptyMessage) = try await CompareCommandTests.run(["baseline", empty])
        #expect(emptyStatus == 2 && emptyMessage.contains("a directory with no results in it"), "\(emptyMessage)")
        // A result without a host model: the probe's own JSON with host_model set to null.
        let (probed, json) = try await ProberTestSupport.run(CompareCommandTests.executable,
                                                             ["probe", "--replay", ProberTestSupport.recorded("qemu-10.0-x86_64-kvm.jsonl"), "--json"], stderr: false)
        try #require(probed == 0)
        let blindJSON = try #require(try await Self.python("""
            d = json.load(open(sys.argv[1])); d["accelerators"]["kvm"]["host_model"] = None; print(json.dumps([json.dumps(d)]))
            """, on: json) as? [String])
        let blind = FileManager.default.temporaryDirectory.appendingPathComponent("blind-\(UUID().uuidString).json").path
        try blindJSON[0].write(toFile: blind, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: blind) }
        let (blindStatus, blindMessage) = try await CompareCommandTests.run(["baseline", host("10.0"), "blind=" + blind, "--accel", "kvm"])
        #expect(blindStatus == 2 && blindMessage.hasPrefix("qmp-probe: blind has no host model (kvm)"), "\(blindMessage)")
        let (drift, driftText) = try await CompareCommandTests.run(["baseline", host("7.2"), host("10.0"), "--label-drift"])
        #expect(drift == 1 && driftText.hasPrefix("# KubeVirt node labels from qemu-7.2 to qemu-10.0\ndisappeared: []\nappeared:\n"))
        let (labels, labelText) = try await CompareCommandTests.run(["probe", "--replay", ProberTestSupport.recorded("qemu-10.0-x86_64-kvm.jsonl"),
                                                                     "--format", "kubevirt-labels"])
        #expect(labels == 0 && labelText.contains("    \"host-model-cpu.node.kubevirt.io/EPYC-Milan\": \"true\"\n"))
    }
}
