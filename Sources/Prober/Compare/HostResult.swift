import Foundation
import QMP

/// One host's probe result, whatever it was read from (a `probe --json` report, our recording, libvirt's `.replies`).
public struct HostResult: Sendable {
    /// How the host is named in reports (`LABEL=` in the argument, else the first file's name without extension).
    public var label: String
    /// The files it was read from.
    package var paths: [String]
    /// The probe report (recordings are replayed and computed; JSON is read back).
    public var report: ProbeReport
    /// Hosts with the same identity were read from byte-identical files (``HostResultLoader/loadAll(_:)`` sets it):
    /// their reports are equal, and ``FleetBaseline`` computes once for all of them. Nil: compared on its own.
    package var sharedResult: Int?

    /// A result from its parts.
    public init(label: String, paths: [String], report: ProbeReport) {
        self.label = label
        self.paths = paths
        self.report = report
    }

    /// The accelerators of the result, in report order.
    package var acceleratorNames: [String] { report.accelerators.map(\.name) }

    /// One accelerator's section, when present.
    public func accelerator(_ name: String) -> ProbeReport.Accelerator? {
        report.accelerators.first { $0.name == name }
    }
}
