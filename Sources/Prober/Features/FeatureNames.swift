/// Canonical CPU feature names.
///
/// QEMU's full expansion lists one feature under several spellings (`sse4.1`, `sse4-1`, `sse4_1`;
/// `kvm_asyncpf`, `kvm-asyncpf`; `pclmuldq` for `pclmulqdq`). The canonical name is the spelling of the
/// static expansion (QEMU's own property name); other spellings map to it through a normalized key
/// (lowercase, `_` and `.` read as `-`) and a small table of true aliases.
public struct FeatureNames: Sendable {
    /// Aliases QEMU registers that no normalization can see (x86, `target/i386/cpu.c`).
    public static let aliases: [String: String] = [
        "sse3": "pni", "pclmuldq": "pclmulqdq", "xd": "nx", "i64": "lm", "ffxsr": "fxsr-opt",
    ]

    private var byKey: [String: String] = [:]

    /// A name table knowing the canonical spellings `canonical` (e.g. the static expansion's feature names).
    /// When several given spellings share a key (an older QEMU's expansion lists them all), the preferred one
    /// wins, deterministically: fewest `_`, then a `.` over a `-` (`sse4.1` over `sse4-1` and `sse4_1`).
    public init<S: Sequence>(canonical: S) where S.Element == String {
        for name in canonical {
            let key = Self.key(name)
            if let existing = byKey[key], Self.preference(existing) <= Self.preference(name) { continue }
            byKey[key] = name
        }
    }

    private static func preference(_ name: String) -> (Int, Int, String) {
        (name.filter { $0 == "_" }.count, name.contains(".") ? 0 : 1, name)
    }

    /// An empty table: every name is canonicalized by normalization alone.
    public init() {}

    /// Whether `name` (in any spelling) is one of the known canonical names.
    public func isKnown(_ name: String) -> Bool {
        byKey[Self.key(Self.aliases[name] ?? name)] != nil
    }

    /// The canonical spelling of `name`: the known spelling when there is one, else the normalized form.
    public func canonical(_ name: String) -> String {
        let resolved = Self.aliases[name] ?? name
        let key = Self.key(resolved)
        return byKey[key] ?? key
    }

    /// Lowercase, `_` and `.` replaced by `-`.
    public static func key(_ name: String) -> String {
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
