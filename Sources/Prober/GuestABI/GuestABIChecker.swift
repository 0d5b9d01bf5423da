import QMP

/// Realizes one guest on two sides (``GuestSide``: a QEMU now, or a saved result) and compares them per machine
/// type (``GuestABIReport``). Live sides run side by side; the destination realizes the machine type the source
/// resolved (a migration keeps it), so an alias such as `pc` means the same machine on both.
public struct GuestABIChecker: Sendable {
    /// Where the guest runs (or ran).
    package var source: GuestSide
    /// Where it moves to.
    package var destination: GuestSide
    /// The `-cpu` string; nil takes the saved side's.
    public var cpu: String?
    /// The machine types (empty: QEMU's default, or every machine type of the saved side).
    public var machines: [String] = []
    /// The topology; nil takes the saved side's (or QEMU's default, one vCPU).
    public var topology: SMPTopology?
    /// The accelerator; nil takes the saved side's (or KVM when usable, else TCG).
    public var accelerator: String?
    /// Per-command timeout.
    public var timeout: Duration = .seconds(60)
    /// Record the live side's guest sessions (the source's when both are live) to this path; with several
    /// machine types, one file each (``recordingPath(_:machine:count:)``).
    package var recordPath: String?

    /// A checker from `source` to `destination`.
    public init(source: GuestSide, destination: GuestSide) {
        self.source = source
        self.destination = destination
    }

    /// Realizes and compares.
    /// - Throws: ``ProberError/invalidInput(_:)`` for a guest that does not match the saved side, sides of
    ///   different architectures, or a saved result that cannot be read; ``ProberError/qemuFailedToStart(binary:detail:stderr:)``
    ///   with QEMU's own message when the source's QEMU refuses the guest (an unknown machine type, a topology it
    ///   rejects). A machine type that only the destination lacks is not an error: it is the report's blocker.
    public func run() async throws -> GuestABIReport {
        let savedSource = try await saved(source)
        let savedDestination = try await saved(destination)
        if case .live = source, case .live = destination, cpu == nil {
            throw ProberError.invalidInput("give the guest's CPU (SPEC or --domain) when both sides are QEMU binaries")
        }
        let srcArch = try Self.arch(source, saved: savedSource), dstArch = try Self.arch(destination, saved: savedDestination)
        if let srcArch, let dstArch, srcArch != dstArch {
            throw ProberError.invalidInput("the two sides are of different architectures: \(srcArch) (source) and \(dstArch) (destination)")
        }
        let guests = try self.guests(reference: savedSource ?? savedDestination)
        var notes: [String] = []
        let pairs = try await withThrowingTaskGroup(of: (Int, GuestABIReport.Pair).self) { group in
            for (index, guest) in guests.enumerated() {
                group.addTask {
                    (index, try await self.pair(guest: guest, count: guests.count,
                                                savedSource: savedSource, savedDestination: savedDestination))
                }
            }
            var result: [(Int, GuestABIReport.Pair)] = []
            for try await item in group { result.append(item) }
            return result.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for pair in pairs {
            if let destination = pair.destination, let srcArch = pair.source.arch, let dstArch = destination.arch, srcArch != dstArch {
                throw ProberError.invalidInput("the two sides are of different architectures: \(srcArch) (source) and \(dstArch) (destination)")
            }
            if let asked = pair.source.machine, asked != pair.machine {
                notes.append("machine type \(asked) is an alias: the source resolved it to \(pair.machine), which the destination realized too")
            } else if pair.source.machine == nil {
                notes.append("no machine type given: the source's default is \(pair.machine), which the destination realized too")
            }
        }
        notes.append("libvirt carries the updated CPU with check='full' in migration cookies and saved images: migration and restore fail on any difference in its CPU features, whatever the domain's check")
        return GuestABIReport(sourceOrigin: Self.origin(source), destinationOrigin: Self.origin(destination), pairs: pairs,
                              notes: notes)
    }

    /// The path a guest session is recorded to: `base` itself for a single machine type, else `base` with
    /// `-MACHINE` before its extension.
    package static func recordingPath(_ base: String, machine: String?, count: Int) -> String {
        guard count > 1 else { return base }
        let suffix = "-" + (machine ?? "default")
        if base.hasSuffix(".jsonl") { return String(base.dropLast(6)) + suffix + ".jsonl" }
        return base + suffix
    }

    private static func origin(_ side: GuestSide) -> String {
        switch side {
        case .live: return "live"
        case .saved(let path): return path
        }
    }

    /// A side's target arch, when known before realizing: a binary's name (`qemu-system-ARCH`), a saved result's.
    private static func arch(_ side: GuestSide, saved: [RealizedCPU]?) throws -> String? {
        switch side {
        case .saved: return saved?.lazy.compactMap(\.arch).first
        case .live(let binary): return QEMUTarget.arch(ofBinary: try QEMUBinary.locate(explicit: binary))
        }
    }

    private func saved(_ side: GuestSide) async throws -> [RealizedCPU]? {
        guard case .saved(let path) = side else { return nil }
        return try await GuestSide.loadSaved(path: path)
    }

    /// The guests to realize: from the command line, or the saved side's, which the command line must agree with.
    private func guests(reference: [RealizedCPU]?) throws -> [GuestConfiguration] {
        guard let reference else {
            let accelerator = self.accelerator ?? QEMUBinary.defaultAccelerator
            return (machines.isEmpty ? [nil] : machines.map { $0 }).map {
                GuestConfiguration(cpu: cpu!, machine: $0, topology: topology, accelerator: accelerator)
            }
        }
        var chosen = reference
        if !machines.isEmpty {
            chosen = try machines.map { machine in
                guard let cpu = reference.first(where: { $0.resolvedMachine == machine || $0.machine == machine }) else {
                    throw ProberError.invalidInput("the saved result has no guest on machine type \(machine) (it has: \(reference.map { $0.resolvedMachine ?? $0.machine ?? "default" }.joined(separator: ", ")))")
                }
                return cpu
            }
        }
        for saved in chosen {
            if let cpu, cpu != saved.cpu {
                throw ProberError.invalidInput("the saved result is of another guest CPU: -cpu \(saved.cpu), not \(cpu)")
            }
            if let topology, topology != (saved.topology ?? .single), !(topology == .single && saved.topology == nil) {
                throw ProberError.invalidInput("the saved result is of another topology: smp \(saved.topologyDescription), not \(topology)")
            }
            if let accelerator, accelerator != saved.accelerator {
                throw ProberError.invalidInput("the saved result is of another accelerator: \(saved.accelerator), not \(accelerator)")
            }
        }
        return chosen.map {
            GuestConfiguration(cpu: $0.cpu, machine: $0.resolvedMachine ?? $0.machine, topology: $0.topology, accelerator: $0.accelerator)
        }
    }

    private func pair(guest: GuestConfiguration, count: Int, savedSource: [RealizedCPU]?,
                      savedDestination: [RealizedCPU]?) async throws -> GuestABIReport.Pair {
        // The live side is recorded: the source when both are live.
        let path = recordPath.map { Self.recordingPath($0, machine: guest.machine, count: count) }
        let recordSource: String? = if case .live = source { path } else { nil }
        let recordDestination: String? = if case .live = destination, recordSource == nil { path } else { nil }
        // A versioned machine type is the same on both sides: realize them together. An alias or the default is
        // resolved by the source first.
        let together = guest.machine.flatMap(MachineCompat.version(of:)) != nil
        let src: RealizedCPU
        let dst: RealizedCPU?
        if together, savedDestination == nil {
            async let destinationCPU = realizeDestination(guest: guest, record: recordDestination)
            src = try await realize(source, guest: guest, saved: savedSource, record: recordSource)
            dst = try await destinationCPU
        } else {
            src = try await realize(source, guest: guest, saved: savedSource, record: recordSource)
            let machine = src.resolvedMachine ?? guest.machine ?? "default"
            if let savedDestination {
                guard let found = savedDestination.first(where: { ($0.resolvedMachine ?? $0.machine) == machine }) else {
                    return .init(source: src, blocker: GuestABIBlocker(machine: machine, reason: "the saved destination has no guest on machine type \(machine)"))
                }
                dst = found
            } else {
                var resolved = guest
                resolved.machine = src.resolvedMachine ?? guest.machine
                dst = try await realizeDestination(guest: resolved, record: recordDestination)
            }
        }
        let machine = src.resolvedMachine ?? guest.machine ?? "default"
        guard let dst else {
            return .init(source: src, blocker: GuestABIBlocker(machine: machine, reason: "the destination's QEMU has no machine type \(machine): the guest cannot be started there"))
        }
        return .init(source: src, destination: dst)
    }

    /// The destination's realization; nil when its QEMU has no such machine type (a blocker, not an error).
    private func realizeDestination(guest: GuestConfiguration, record: String?) async throws -> RealizedCPU? {
        do {
            return try await realize(destination, guest: guest, saved: nil, record: record)
        } catch ProberError.qemuFailedToStart(_, _, let stderr) where stderr.contains("unsupported machine type") {
            return nil
        }
    }

    private func realize(_ side: GuestSide, guest: GuestConfiguration, saved: [RealizedCPU]?, record: String?) async throws -> RealizedCPU {
        switch side {
        case .saved:
            let machine = guest.machine
            // The guests come from this saved result (``guests(reference:)``): each has its entry.
            guard let cpu = saved?.first(where: { ($0.resolvedMachine ?? $0.machine) == machine || $0.machine == machine }) else {
                throw ProberError.invalidInput("the saved result holds no guest on machine type \(machine ?? "default")")
            }
            return cpu
        case .live(let binary):
            let path = try QEMUBinary.locate(explicit: binary)
            return try await GuestRealization.realize(binary: path, guest: guest, timeout: timeout, recordPath: record)
        }
    }
}
