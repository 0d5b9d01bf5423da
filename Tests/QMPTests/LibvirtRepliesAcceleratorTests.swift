import Foundation
import Testing
@testable import QMP

/// Which accelerator each session of a libvirt `.replies` file ran: libvirt probes the hardware accelerator first
/// (KVM, or Hypervisor.framework on macOS), then again TCG-only; a file of one session ran TCG.
struct LibvirtRepliesAcceleratorTests {
    /// A `.replies` text of sessions, each answering `query-version` and `query-kvm` with `enabled`/`present`.
    static func replies(_ sessions: [(enabled: Bool, present: Bool)]) -> [UInt8] {
        var blocks: [String] = []
        for session in sessions {
            blocks += [#"{"execute": "qmp_capabilities", "id": "libvirt-1"}"#, #"{"return": {}, "id": "libvirt-1"}"#,
                       #"{"execute": "query-version", "id": "libvirt-2"}"#,
                       #"{"return": {"qemu": {"micro": 0, "minor": 2, "major": 9}, "package": ""}, "id": "libvirt-2"}"#,
                       #"{"execute": "query-kvm", "id": "libvirt-3"}"#,
                       #"{"return": {"enabled": \#(session.enabled), "present": \#(session.present)}, "id": "libvirt-3"}"#]
        }
        return Array((blocks.joined(separator: "\n\n") + "\n").utf8)
    }

    static func accelerators(_ sessions: [(enabled: Bool, present: Bool)]) throws -> [String?] {
        try LibvirtReplies.load(replies(sessions), source: "test.replies").map(\.header.accelerator)
    }

    @Test("KVM then TCG; hvf (the first of two without KVM: the +hvf files recorded on macOS) then TCG; TCG alone")
    func accelerators() throws {
        #expect(try Self.accelerators([(true, true), (false, true)]) == ["kvm", "tcg"])
        #expect(try Self.accelerators([(false, false), (false, false)]) == ["hvf", "tcg"])
        #expect(try Self.accelerators([(false, false)]) == ["tcg"])
        #expect(try Self.accelerators([(false, true)]) == ["tcg"])
    }
}
