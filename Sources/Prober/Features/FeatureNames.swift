/// Canonical CPU feature names.
///
/// QEMU's full expansion lists one feature under several spellings (`sse4.1`, `sse4-1`, `sse4_1`;
/// `kvm_asyncpf`, `kvm-asyncpf`; `pclmuldq` for `pclmulqdq`). The canonical name is the spelling of the
/// static expansion (QEMU's own property name); other spellings map to it through a normalized key
/// (lowercase, `_` and `.` read as `-`) and the target's table of true aliases (x86 only, see
/// ``QEMUTarget/featureAliases``).
public struct FeatureNames: Sendable {
    /// Aliases QEMU registers for x86 features that no normalization can see (`target/i386/cpu.c`).
    package static let x86Aliases: [String: String] = [
        "sse3": "pni", "pclmuldq": "pclmulqdq", "xd": "nx", "i64": "lm", "ffxsr": "fxsr-opt",
    ]

    /// The aliases applied: the target's (empty for targets other than x86, and for an unknown target).
    package let aliases: [String: String]
    private var byKey: [String: String] = [:]

    /// A name table knowing the canonical spellings `canonical` (e.g. the static expansion's feature names) of
    /// target `arch` (whose aliases apply; nil: none). When several given spellings share a key (an older QEMU's
    /// expansion lists them all), the preferred one wins, deterministically: fewest `_`, then a `.` over a `-`
    /// (`sse4.1` over `sse4-1` and `sse4_1`).
    public init<S: Sequence>(canonical: S, arch: String? = nil) where S.Element == String {
        aliases = QEMUTarget(arch: arch).featureAliases
        for name in canonical {
            let key = Self.key(name)
            if let existing = byKey[key], Self.preference(existing) <= Self.preference(name) { continue }
            byKey[key] = name
        }
    }

    private static func preference(_ name: String) -> (Int, Int, String) {
        (name.filter { $0 == "_" }.count, name.contains(".") ? 0 : 1, name)
    }

    /// An empty table for target `arch`: every name is canonicalized by the target's aliases and normalization alone.
    public init(arch: String? = nil) {
        aliases = QEMUTarget(arch: arch).featureAliases
    }

    /// Whether `name` (in any spelling) is one of the known canonical names.
    public func isKnown(_ name: String) -> Bool {
        byKey[Self.key(aliases[name] ?? name)] != nil
    }

    /// The canonical spelling of `name`: the known spelling when there is one, else the normalized form.
    public func canonical(_ name: String) -> String {
        let resolved = aliases[name] ?? name
        let key = Self.key(resolved)
        return byKey[key] ?? key
    }

    /// Lowercase, `_` and `.` replaced by `-`.
    package static func key(_ name: String) -> String {
        // ASCII (every QEMU feature name): one pass over the bytes, and no new string when nothing changes.
        var ascii = true
        var changes = false
        for byte in name.utf8 {
            if byte >= 0x80 { ascii = false; break }
            if byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) {
                changes = true
            }
        }
        if ascii {
            guard changes else { return name }
            return String(unsafeUninitializedCapacity: name.utf8.count) { buffer in
                var count = 0
                for byte in name.utf8 {
                    switch byte {
                    case UInt8(ascii: "_"), UInt8(ascii: "."): buffer[count] = UInt8(ascii: "-")
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"): buffer[count] = byte + 0x20
                    default: buffer[count] = byte
                    }
                    count += 1
                }
                return count
            }
        }
        var result = ""
        result.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            switch scalar {
            case "_", ".": result.append("-")
            default: result.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
            }
        }
        return result
    }
}
