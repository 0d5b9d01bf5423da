import QMP

/// x86 CPU vendors: of a host (its host model's `vendor` property) and of QEMU's CPU models (the vendor their
/// definition sets, which a guest sees under TCG; under KVM every model takes the host's vendor).
package enum CPUVendor {
    /// The vendor QEMU's definition of each x86 model sets, by unversioned name (versions keep their model's vendor).
    /// Read from the static expansions of every model under TCG in QEMU 7.2 and 10.0 (recorded-sessions; the tests
    /// check it against them). `host`, `max` and `base` follow the host or have none.
    package static let modelVendors: [String: String] = {
        var table: [String: String] = [:]
        let amd = ["qemu64", "phenom", "athlon", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5",
                   "EPYC", "EPYC-IBPB", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa", "EPYC-Turin"]
        let intel = ["qemu32", "kvm64", "kvm32", "486", "pentium", "pentium2", "pentium3", "n270", "coreduo", "core2duo",
                     "Conroe", "Penryn", "Nehalem", "Nehalem-IBRS", "Westmere", "Westmere-IBRS", "SandyBridge",
                     "SandyBridge-IBRS", "IvyBridge", "IvyBridge-IBRS", "Haswell", "Haswell-IBRS", "Haswell-noTSX",
                     "Haswell-noTSX-IBRS", "Broadwell", "Broadwell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS",
                     "Skylake-Client", "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Server",
                     "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Cascadelake-Server", "Cascadelake-Server-noTSX",
                     "Cooperlake", "Icelake-Client", "Icelake-Client-noTSX", "Icelake-Server", "Icelake-Server-noTSX",
                     "SapphireRapids", "GraniteRapids", "SierraForest", "ClearwaterForest", "Denverton", "Snowridge",
                     "KnightsMill"]
        for name in amd { table[name] = amd64 }
        for name in intel { table[name] = intel64 }
        table["Dhyana"] = "HygonGenuine"
        table["YongFeng"] = "CentaurHauls"
        return table
    }()

    /// QEMU's vendor string of AMD.
    package static let amd64 = "AuthenticAMD"
    /// QEMU's vendor string of Intel.
    package static let intel64 = "GenuineIntel"

    /// The vendor QEMU's definition of `model` sets (`EPYC-Milan-v2` as `EPYC-Milan`), nil for `host`, `max`,
    /// `base` and models not in ``modelVendors``.
    package static func vendor(ofModel model: String) -> String? {
        if let vendor = modelVendors[model] { return vendor }
        return modelVendors[unversioned(model)]
    }

    /// `NAME` for `NAME-vN`, else the name itself.
    package static func unversioned(_ model: String) -> String {
        guard let dash = model.lastIndex(of: "-") else { return model }
        let suffix = model[model.index(after: dash)...]
        guard suffix.first == "v", suffix.count > 1, suffix.dropFirst().allSatisfy(\.isNumber) else { return model }
        return String(model[..<dash])
    }

    /// libvirt's name of a vendor (`src/cpu_map/x86_vendors.xml`: `Intel`, `AMD`, `Hygon`), the QEMU string otherwise.
    package static func libvirtName(_ vendor: String) -> String {
        switch vendor {
        case intel64: return "Intel"
        case amd64: return "AMD"
        case "HygonGenuine": return "Hygon"
        default: return vendor
        }
    }

    /// A host's vendor as its host model reports it (the `vendor` property of the static expansion of `host` under
    /// KVM, or of `max` under TCG, which is QEMU's TCG CPU and says `AuthenticAMD`); nil when the host model has no
    /// `vendor` (no host model, or a target without one).
    package static func vendor(of hostModel: ProbeReport.HostModel?) -> String? {
        guard let value = hostModel?.props["vendor"], case .string(let vendor) = value, !vendor.isEmpty else { return nil }
        return vendor
    }
}
