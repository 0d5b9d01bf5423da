/// libvirt's spellings of x86 CPU feature names (`src/cpu_map/x86_features.xml`) against QEMU's canonical ones
/// (the static expansion's property names), both ways.
///
/// Most names are the same in both. libvirt kept the Linux `/proc/cpuinfo` spelling for a few features whose
/// QEMU property was renamed (`pclmuldq`, `lahf_lm`, `tsc_adjust`, ...), and lists QEMU's other spellings as
/// aliases. QEMU's KVM paravirtual features (`kvmclock`, `kvm-*`) are not CPU features to libvirt at all (they
/// are on by default under KVM and configured elsewhere in the domain XML), so they have no libvirt name.
public enum LibvirtFeatureNames {
    /// QEMU canonical name to libvirt name, for the names that differ.
    package static let qemuToLibvirt: [String: String] = [
        "pclmulqdq": "pclmuldq",
        "ds-cpl": "ds_cpl",
        "tsc-adjust": "tsc_adjust",
        "fxsr-opt": "fxsr_opt",
        "lahf-lm": "lahf_lm",
        "cmp-legacy": "cmp_legacy",
        "nodeid-msr": "nodeid_msr",
        "perfctr-core": "perfctr_core",
        "perfctr-nb": "perfctr_nb",
    ]

    /// libvirt name (or one of libvirt's aliases for it) to QEMU canonical name, for the names that differ.
    package static let libvirtToQEMU: [String: String] = {
        var map = Dictionary(uniqueKeysWithValues: qemuToLibvirt.map { ($0.value, $0.key) })
        // Aliases libvirt accepts (its `source='qemu'` and `source='linux'` aliases), where they differ from QEMU's name.
        map["sse3"] = "pni"
        map["xd"] = "nx"
        map["i64"] = "lm"
        map["ffxsr"] = "fxsr-opt"
        map["md_clear"] = "md-clear"
        map["arch_capabilities"] = "arch-capabilities"
        map["svm_lock"] = "svm-lock"
        map["nrip_save"] = "nrip-save"
        map["tsc_scale"] = "tsc-scale"
        map["vmcb_clean"] = "vmcb-clean"
        map["pause_filter"] = "pause-filter"
        return map
    }()

    /// The libvirt name of a QEMU feature, or nil when libvirt has no CPU feature of that name (KVM paravirtual
    /// features such as `kvmclock` and `kvm-pv-eoi`).
    public static func libvirtName(forQEMU name: String) -> String? {
        if isKVMParavirtual(name) { return nil }
        return qemuToLibvirt[name] ?? name
    }

    /// The QEMU name of a libvirt feature (libvirt's names and aliases; others are taken as they are).
    public static func qemuName(forLibvirt name: String) -> String {
        libvirtToQEMU[name] ?? name
    }

    /// Whether `name` is one of QEMU's KVM paravirtual features (`kvmclock`, `kvmclock-stable-bit`, `kvm-*`).
    package static func isKVMParavirtual(_ name: String) -> Bool {
        name == "kvmclock" || name.hasPrefix("kvmclock-") || name.hasPrefix("kvm-") || name.hasPrefix("kvm_")
    }
}

extension LibvirtFeatureNames {
    /// Whether libvirt handles `feature` as a CPU feature: KVM paravirtual (`kvm*`) and Hyper-V (`hv-*`) features
    /// belong in the domain's `<features>` element instead.
    package static func isCPUFeature(_ feature: String) -> Bool {
        !isKVMParavirtual(feature) && !feature.hasPrefix("hv-")
    }
}
