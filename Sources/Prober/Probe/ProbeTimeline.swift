import Foundation
import Synchronization

/// Moments of a live probe (QEMU started, greeting, last reply, report, QEMUs stopped), kept when enabled, for
/// `qmp-probe probe --stats`: where a cold probe's time goes, without a profiler.
package enum ProbeTimeline {
    private static let state = Mutex<(enabled: Bool, start: ContinuousClock.Instant, marks: [(String, Duration)])>(
        (false, .now, []))

    /// Starts keeping marks, timed from now.
    package static func enable() {
        state.withLock { $0 = (true, .now, []) }
    }

    /// Records `event` now, unless it is recorded already (the first occurrence counts) or the timeline is off.
    package static func mark(_ event: String) {
        state.withLock { state in
            guard state.enabled, !state.marks.contains(where: { $0.0 == event }) else { return }
            state.marks.append((event, .now - state.start))
        }
    }

    /// The marks so far, in order: each event and its time since ``enable()``.
    package static var marks: [(event: String, at: Duration)] {
        state.withLock { $0.marks.map { (event: $0.0, at: $0.1) } }
    }
}
