import QMP

/// The CPUID family and model QEMU's x86 model definitions report, and a host's: libvirt's x86 decoder prefers, once
/// one is found, only models whose signature matches the host's (`x86DecodeUseCandidate`, from libvirt's own
/// `<signature>` lists; here QEMU's definitions).
package enum CPUModelSignatures {
    /// Family and model of each x86 model by unversioned name (all its versions; aliases such as `Haswell-noTSX`
    /// resolve through their `alias-of`). Read from the static expansions of every model under TCG in QEMU 7.2 and
    /// 10.0 (recorded-sessions; the tests check it against them).
    package static let table: [String: [Signature]] = [
        "486": [.init(4, 8)], "pentium": [.init(5, 4)], "pentium2": [.init(6, 5)], "pentium3": [.init(6, 7)],
        "athlon": [.init(6, 2)], "n270": [.init(6, 28)], "coreduo": [.init(6, 14)], "core2duo": [.init(6, 15)],
        "Conroe": [.init(6, 15)], "qemu32": [.init(6, 6)], "qemu64": [.init(15, 107)], "kvm32": [.init(15, 6)],
        "kvm64": [.init(15, 6)], "Penryn": [.init(6, 23)], "Nehalem": [.init(6, 26)], "Westmere": [.init(6, 44)],
        "SandyBridge": [.init(6, 42)], "IvyBridge": [.init(6, 58)], "Haswell": [.init(6, 60)], "Broadwell": [.init(6, 61)],
        "Skylake-Client": [.init(6, 94)], "Skylake-Server": [.init(6, 85)], "Cascadelake-Server": [.init(6, 85)],
        "Cooperlake": [.init(6, 85)], "Icelake-Server": [.init(6, 106), .init(6, 134)], "SapphireRapids": [.init(6, 143)],
        "GraniteRapids": [.init(6, 173)], "SierraForest": [.init(6, 175)], "ClearwaterForest": [.init(6, 221)],
        "Denverton": [.init(6, 95)], "Snowridge": [.init(6, 134)], "KnightsMill": [.init(6, 133)],
        "phenom": [.init(16, 2)], "Opteron_G1": [.init(15, 6)], "Opteron_G2": [.init(15, 6)], "Opteron_G3": [.init(16, 2)],
        "Opteron_G4": [.init(21, 1)], "Opteron_G5": [.init(21, 2)], "EPYC": [.init(23, 1)], "EPYC-Rome": [.init(23, 49)],
        "EPYC-Milan": [.init(25, 1)], "EPYC-Genoa": [.init(25, 17)], "Dhyana": [.init(24, 0)],
        "YongFeng": [.init(7, 11), .init(7, 91)],
    ]

    /// A CPUID family and model.
    package struct Signature: Sendable, Hashable, CustomStringConvertible {
        /// The family (extended family included).
        package var family: Int
        /// The model (extended model included).
        package var model: Int

        /// A signature from its parts.
        package init(_ family: Int, _ model: Int) {
            self.family = family
            self.model = model
        }

        package var description: String { "family \(family) model \(model)" }
    }

    /// The signatures of `model` (through `aliasOf` when given), nil when unknown.
    package static func signatures(of model: String, aliasOf: String? = nil) -> [Signature]? {
        table[CPUVendor.unversioned(aliasOf ?? model)] ?? table[model]
    }

    /// A host model's signature (its `family` and `model` properties), nil when it has none.
    package static func signature(of hostModel: ProbeReport.HostModel?) -> Signature? {
        guard let props = hostModel?.props, let family = props["family"]?.int64Value,
              let model = props["model"]?.int64Value else { return nil }
        return Signature(Int(family), Int(model))
    }
}
