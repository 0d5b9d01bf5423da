import Foundation
import Prober
import Testing

/// The building blocks: the bitset, the feature index, libvirt's feature names.
struct CompareFeatureTests {
    @Test("feature keys: lowercase, '_' and '.' as '-'; the ASCII fast path agrees with the general rule")
    func featureKeys() {
        func reference(_ name: String) -> String {
            String(name.lowercased().map { $0 == "_" || $0 == "." ? "-" : $0 })
        }
        let names = ["sse4.1", "SSE4_2", "lahf_lm", "x2apic", "avx512-vp2intersect", "Kvm_PV.EOI", "", "ÉTÉ_x", "a.ß_C"]
        for name in names {
            #expect(FeatureNames.key(name) == reference(name), "\(name)")
        }
        #expect(FeatureNames.key("sse4.1") == "sse4-1")
        #expect(FeatureNames.key("ÉTÉ_x") == "été-x")
    }

    @Test("FeatureSet agrees with Set<Int> on union, intersection, difference, subset and count")
    func bitsetAgainstSet() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let a = Set((0..<Int.random(in: 0...80, using: &generator)).map { _ in Int.random(in: 0..<300, using: &generator) })
            let b = Set((0..<Int.random(in: 0...80, using: &generator)).map { _ in Int.random(in: 0..<200, using: &generator) })
            let x = FeatureSet(a), y = FeatureSet(b)
            #expect(x.union(y).ids == a.union(b).sorted())
            #expect(x.intersection(y).ids == a.intersection(b).sorted())
            #expect(x.subtracting(y).ids == a.subtracting(b).sorted())
            #expect(x.isSubset(of: y) == a.isSubset(of: b))
            #expect(x.count == a.count)
            #expect(x.intersectionCount(y) == a.intersection(b).count)
            #expect((x == y) == (a == b))
            #expect(a.allSatisfy(x.contains) && !x.contains(300))
        }
        // Trailing empty words do not matter for equality or hashing.
        var grown = FeatureSet([1])
        grown.insert(500)
        grown.subtract(FeatureSet([500]))
        #expect(grown == FeatureSet([1]) && Set([grown, FeatureSet([1])]).count == 1)
    }

    @Test("FeatureIndex: one id per feature across spellings and QEMU's aliases; CPU options are not features")
    func index() {
        var index = FeatureIndex(arch: "x86_64")
        let id = index.intern("sse4_1")
        #expect(index.intern("sse4-1") == id && index.intern("sse4.1") == id)
        #expect(index.name(id) == "sse4.1")
        #expect(index.intern("pclmuldq") == index.intern("pclmulqdq"))
        #expect(index.name(index.intern("pclmuldq")) == "pclmulqdq")
        #expect(index.intern("sse3") == index.intern("pni"))
        #expect(index.id("SSE4_1") == id)
        #expect(index.id("never-seen") == nil)
        let set = index.set(["check", "l3-cache", "hv-relaxed", "lahf_lm", "x-force-features"], featuresOnly: true)
        #expect(index.names(set) == ["lahf_lm"])
        let lahf = index.intern("lahf-lm")
        #expect(index.name(lahf) == "lahf-lm")
        // x86's aliases are x86's: on another target `sse3` and `pni` are two names.
        var s390x = FeatureIndex(arch: "s390x")
        #expect(s390x.intern("sse3") != s390x.intern("pni"))
        #expect(s390x.intern("vx_eh") == s390x.intern("vx-eh"))
    }

    @Test("libvirt's names: the differing ones both ways; KVM paravirtual features have none")
    func libvirtNames() {
        // From libvirt's src/cpu_map/x86_features.xml.
        let expected = ["pclmulqdq": "pclmuldq", "lahf-lm": "lahf_lm", "cmp-legacy": "cmp_legacy", "tsc-adjust": "tsc_adjust",
                        "fxsr-opt": "fxsr_opt", "perfctr-core": "perfctr_core", "nodeid-msr": "nodeid_msr"]
        for (qemu, libvirt) in expected {
            #expect(LibvirtFeatureNames.libvirtName(forQEMU: qemu) == libvirt)
            #expect(LibvirtFeatureNames.qemuName(forLibvirt: libvirt) == qemu)
        }
        for same in ["sse4.1", "sse4.2", "x2apic", "avx512f", "svm", "nrip-save", "arch-capabilities"] {
            #expect(LibvirtFeatureNames.libvirtName(forQEMU: same) == same)
            #expect(LibvirtFeatureNames.qemuName(forLibvirt: same) == same)
        }
        #expect(LibvirtFeatureNames.qemuName(forLibvirt: "sse3") == "pni")
        #expect(LibvirtFeatureNames.qemuName(forLibvirt: "nrip_save") == "nrip-save")
        for kvm in ["kvmclock", "kvmclock-stable-bit", "kvm-pv-eoi", "kvm-asyncpf-int"] {
            #expect(LibvirtFeatureNames.libvirtName(forQEMU: kvm) == nil)
        }
        for (qemu, libvirt) in LibvirtFeatureNames.qemuToLibvirt {
            #expect(LibvirtFeatureNames.libvirtToQEMU[libvirt] == qemu)
        }
    }
}
