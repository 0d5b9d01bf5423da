/// The same guest realized by two QEMUs (the source, where it runs or ran, and the destination it moves to), per
/// machine type, with every difference named and explained (`GuestABIComparison`).
public struct GuestABIReport: Sendable {
    /// One machine type: both realizations and their differences, or why the destination cannot realize it.
    package struct Pair: Sendable {
        /// The machine type, as the source resolved it.
        package var machine: String
        /// The source's realized CPU.
        package var source: RealizedCPU
        /// The destination's realized CPU; nil when it cannot realize the guest (``blocker``).
        package var destination: RealizedCPU?
        /// Why the destination cannot realize the guest at all (a machine type it does not have).
        package var blocker: GuestABIBlocker?
        /// Every difference, features first.
        package var differences: [GuestABIDifference]

        /// A pair from both realizations, compared.
        package init(source: RealizedCPU, destination: RealizedCPU) {
            machine = source.resolvedMachine ?? source.machine ?? "default"
            self.source = source
            self.destination = destination
            differences = GuestABIComparison.differences(src: source, dst: destination)
        }

        /// A pair whose destination cannot realize the guest.
        package init(source: RealizedCPU, blocker: GuestABIBlocker) {
            machine = blocker.machine
            self.source = source
            self.blocker = blocker
            differences = []
        }
    }

    /// Where the source's realizations came from: `live` or the saved result's path.
    package var sourceOrigin: String
    /// Where the destination's realizations came from: `live` or the saved result's path.
    package var destinationOrigin: String
    /// One entry per machine type, in the order asked.
    package var pairs: [Pair]
    /// How the comparison was made, in plain words.
    package var notes: [String] = []

    /// A report from its parts.
    package init(sourceOrigin: String, destinationOrigin: String, pairs: [Pair], notes: [String] = []) {
        self.sourceOrigin = sourceOrigin
        self.destinationOrigin = destinationOrigin
        self.pairs = pairs
        self.notes = notes
    }

    /// Every difference of every machine type.
    public var differences: [GuestABIDifference] { pairs.flatMap(\.differences) }
    /// Every machine type the destination cannot realize.
    public var blockers: [GuestABIBlocker] { pairs.compactMap(\.blocker) }
    /// Whether the destination realizes exactly the source's CPU on every machine type (exit status 0).
    public var identical: Bool { differences.isEmpty && blockers.isEmpty }
}
