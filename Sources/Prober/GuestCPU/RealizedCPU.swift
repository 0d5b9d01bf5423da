import QMP

/// The CPU QEMU realized for one started (paused) guest, with everything that makes it that CPU: the QEMU, the
/// machine type it resolved to, the topology, the accelerator and the value of every CPU feature.
///
/// It is what `qmp-probe cpu --live --json` saves per machine type (``json``, read back by
/// ``init(json:source:at:)``), so that a later run can compare a new QEMU with it (``GuestABIReport``).
package struct RealizedCPU: Sendable, Equatable {
    /// QEMU's version (with its package string).
    package var version: QEMUVersion
    /// The QEMU binary, when known.
    package var binary: String?
    /// The target arch (`query-target`).
    package var arch: String?
    /// The accelerator the guest ran on.
    package var accelerator: String
    /// The `-cpu` string the guest was started with.
    package var cpu: String
    /// The machine type asked for (nil: QEMU's default).
    package var machine: String?
    /// The machine type QEMU resolved it to (an alias such as `pc` or `q35` becomes `pc-i440fx-7.2`).
    package var resolvedMachine: String?
    /// The `-smp` the guest was started with (nil: QEMU's default, one vCPU).
    package var topology: SMPTopology?
    /// Logical processors per package (socket) as QEMU laid them out (`query-hotpluggable-cpus`), when known.
    package var threadsPerPackage: Int?
    /// The vCPUs present at start, when known.
    package var vcpus: Int?
    /// Every CPU feature's realized value, by canonical name (the static expansion's spelling).
    package var values: [String: Bool]
    /// The CPU's identity properties (`vendor`, `family`, `model`, `stepping`, `model-id`, `level`, `xlevel`), as text.
    package var properties: [String: String]
    /// The realized CPU's `unavailable-features` (QEMU 4.1+): what was asked for and filtered, verbatim.
    package var unavailable: [String]?
    /// The machine type's compatibility properties on CPU types, when QEMU says them (`query-machines` with
    /// `compat-props`, QEMU 9.1+); nil when it does not.
    package var compatProperties: [CompatProperty]?
    /// The CPU object's QOM path.
    package var path: String
    /// How it was read: `qom-get` per feature property.
    package var method: String
    /// How many QMP commands reading it took.
    package var commands: Int

    /// A machine-type compatibility property (`query-machines` `compat-props`).
    package struct CompatProperty: Sendable, Equatable, Hashable {
        /// The QOM type it applies to (`x86_64-cpu`, `EPYC-x86_64-cpu`).
        package var type: String
        /// The property.
        package var property: String
        /// Its value, as QEMU gives it (text).
        package var value: String

        /// A compat property from its parts.
        package init(type: String, property: String, value: String) {
            self.type = type
            self.property = property
            self.value = value
        }
    }

    /// The CPU properties read besides the features, in this order.
    package static let identityProperties = ["vendor", "family", "model", "stepping", "model-id", "level", "xlevel"]

    /// The features that are on.
    package var features: Set<String> { Set(values.filter(\.value).keys) }

    /// The topology as shown: the `-smp` given, or `1` (QEMU's default).
    package var topologyDescription: String { topology?.description ?? "1" }

    /// A realized CPU from its parts.
    package init(version: QEMUVersion, binary: String?, arch: String?, accelerator: String, cpu: String, machine: String?,
                resolvedMachine: String?, topology: SMPTopology?, threadsPerPackage: Int?, vcpus: Int?,
                values: [String: Bool], properties: [String: String], unavailable: [String]?,
                compatProperties: [CompatProperty]?, path: String, method: String = "qom-get", commands: Int) {
        self.version = version
        self.binary = binary
        self.arch = arch
        self.accelerator = accelerator
        self.cpu = cpu
        self.machine = machine
        self.resolvedMachine = resolvedMachine
        self.topology = topology
        self.threadsPerPackage = threadsPerPackage
        self.vcpus = vcpus
        self.values = values
        self.properties = properties
        self.unavailable = unavailable
        self.compatProperties = compatProperties
        self.path = path
        self.method = method
        self.commands = commands
    }
}
