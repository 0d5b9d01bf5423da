import QMP

/// One entry of `query-cpu-definitions`.
public struct CPUDefinition: Sendable, Equatable {
    /// The model name.
    public var name: String
    /// The QOM type name (QEMU 2.9+); nil when QEMU gives none or an empty one.
    public var typename: String?
    /// The versioned model this name resolves to (QEMU 4.1+).
    public var aliasOf: String?
    /// Features the host/accelerator cannot give, verbatim (QEMU's order, duplicates kept); nil when QEMU
    /// did not say (older QEMU, or a target that does not report it).
    public var unavailableFeatures: [String]?
    /// Whether the model is static (never changes across QEMU versions and machine types).
    public var isStatic: Bool?
    /// Whether the model is safe to migrate.
    public var migrationSafe: Bool?
    /// Whether the model is deprecated (QEMU 5.2+).
    public var deprecated: Bool?

    /// Reads one element of `query-cpu-definitions`.
    public init?(_ json: JSON) {
        guard let name = json["name"]?.stringValue else { return nil }
        self.name = name
        // ppc QEMU gives some models an empty typename: no type (libvirt writes none either).
        typename = json["typename"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        aliasOf = json["alias-of"]?.stringValue
        unavailableFeatures = json["unavailable-features"]?.arrayValue?.compactMap(\.stringValue)
        isStatic = json["static"]?.boolValue
        migrationSafe = json["migration-safe"]?.boolValue
        deprecated = json["deprecated"]?.boolValue
    }

    /// Whether the model can run here: true when `unavailable-features` is empty, nil when unknown.
    public var usable: Bool? { unavailableFeatures.map(\.isEmpty) }
}
