import QMP

/// Which accelerator a QEMU runs, and which ones it has, as QEMU says: `query-accelerators` (QEMU 10.2+:
/// `{"enabled": "kvm", "present": ["kvm", "qtest", "tcg"]}`) or, before it, `query-kvm` (`{"enabled", "present"}`,
/// about KVM only; deprecated from QEMU 11.0).
public struct AcceleratorState: Sendable, Equatable {
    /// The accelerator in use, when QEMU says (`query-kvm` only says whether it is KVM: nil when it is not).
    public var enabled: String?
    /// Whether KVM is in use.
    public var kvmEnabled: Bool
    /// Whether KVM is built in and available (`query-kvm`'s `present`, or `kvm` among `query-accelerators`'
    /// `present`).
    public var kvmPresent: Bool
    /// The accelerators built into this QEMU (`query-accelerators` only).
    public var present: [String]?
    /// The command the state comes from.
    public var source: String

    /// The command that tells, for a QEMU of `version`: `query-accelerators` from 10.2, `query-kvm` before (it is
    /// deprecated from 11.0, and says nothing about accelerators other than KVM).
    package static func command(for version: QEMUVersion) -> String {
        version.isAtLeast(10, 2) ? "query-accelerators" : "query-kvm"
    }

    /// Reads the reply of `command` (``command(for:)``); nil when it is not one.
    package init?(command: String, reply: JSON) {
        source = command
        if command == "query-accelerators" {
            guard let enabled = reply["enabled"]?.stringValue else { return nil }
            self.enabled = enabled
            present = reply["present"]?.arrayValue?.compactMap(\.stringValue)
            kvmEnabled = enabled == "kvm"
            kvmPresent = present?.contains("kvm") ?? kvmEnabled
        } else {
            guard let enabled = reply["enabled"]?.boolValue else { return nil }
            kvmEnabled = enabled
            kvmPresent = reply["present"]?.boolValue ?? enabled
            self.enabled = enabled ? "kvm" : nil
            present = nil
        }
    }

    /// The accelerator of a session whose QEMU says this, when nothing else says: the enabled one, else TCG (what
    /// QEMU runs when KVM is not enabled and nothing else is known).
    public var accelerator: String { enabled ?? "tcg" }

    /// The verdict on a session labelled `expected` (the accelerator asked for, or recorded): nil when QEMU runs it,
    /// else a note that says what QEMU runs instead, and whether the one expected is there at all.
    package func verdict(expected: String) -> String? {
        if let enabled {
            guard enabled != expected else { return nil }
            let available = present.map { $0.contains(expected) ? "present but not enabled" : "not built into this QEMU" }
                ?? (expected == "kvm" ? (kvmPresent ? "present but not enabled" : "not available") : "not enabled")
            return "this session was expected to run \(expected), but QEMU runs \(enabled) (\(source)): \(expected) is \(available); what follows is \(enabled)'s answer"
        }
        // query-kvm: only KVM's state is known.
        if expected == "kvm" {
            return kvmPresent
                ? "this session was expected to run kvm, but KVM is present and not enabled (query-kvm): QEMU runs another accelerator; what follows is not KVM's answer"
                : "this session was expected to run kvm, but this QEMU has no KVM (query-kvm: not present): what follows is not KVM's answer"
        }
        return nil
    }
}
