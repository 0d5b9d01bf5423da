/// libvirt's spellings of x86 CPU features where they differ from QEMU's (libvirt's `src/cpu_map/x86_features.xml`,
/// whose `<alias source='qemu'>` entries name QEMU's spelling), in both directions.
public enum LibvirtFeatureNames {
    /// QEMU's canonical name → libvirt's name, where they differ.
    public static let fromQEMU: [String: String] = [
        "pclmulqdq": "pclmuldq", "ds-cpl": "ds_cpl", "tsc-adjust": "tsc_adjust", "fxsr-opt": "fxsr_opt",
        "lahf-lm": "lahf_lm", "cmp-legacy": "cmp_legacy", "nodeid-msr": "nodeid_msr",
        "perfctr-core": "perfctr_core", "perfctr-nb": "perfctr_nb",
    ]

    /// libvirt's name → QEMU's canonical name (also QEMU's other spellings that libvirt lists as aliases).
    public static let toQEMU: [String: String] = {
        var map = Dictionary(fromQEMU.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        for (alias, name) in ["sse3": "pni", "xd": "nx", "i64": "lm", "ffxsr": "fxsr-opt", "sse4-1": "sse4.1",
                              "sse4_1": "sse4.1", "sse4-2": "sse4.2", "sse4_2": "sse4.2"] {
            map[alias] = name
        }
        return map
    }()

    /// libvirt's spelling of a QEMU feature name.
    public static func libvirt(_ qemu: String) -> String { fromQEMU[qemu] ?? qemu }

    /// QEMU's canonical spelling of a libvirt feature name.
    public static func qemu(_ libvirt: String) -> String { toQEMU[libvirt] ?? libvirt }

    /// Whether libvirt handles `feature` as a CPU feature: KVM paravirtual (`kvm*`) and Hyper-V (`hv-*`) features
    /// belong in the domain's `<features>` element instead.
    public static func isCPUFeature(_ feature: String) -> Bool {
        !(feature.hasPrefix("kvm") || feature.hasPrefix("hv-"))
    }
}
