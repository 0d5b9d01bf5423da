import Foundation
import Prober
import QMP
import Testing

/// The HTML matrices, rendered by headless Chromium: the screenshot shows usable and blocked cells in their
/// colours, and the page names the models, the hosts and the blockers.
@Suite(.enabled(if: HeadlessChromium.available, "chromium is not installed (scripts/install-deps.sh installs it)"))
struct CompareHTMLTests {
    static let usable = CompatibilityHTML.colors[.usable]!
    static let blocked = CompatibilityHTML.colors[.blocked]!
    static let missing = CompatibilityHTML.colors[.missing]!

    @Test("compare: a models × SRC→DST matrix; blocked cells list their blockers")
    func compareMatrix() async throws {
        let report = try CompareReport.compute(source: try await CompareTestSupport.recordedHost("10.0"),
                                               destination: try await CompareTestSupport.recordedHost("7.2"))
        let html = CompatibilityHTML.render(report)
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"))
        let page = try HeadlessChromium.write(html, name: "compare")
        defer { try? FileManager.default.removeItem(atPath: page) }
        let dom = try await HeadlessChromium.dumpDOM(page)
        #expect(dom.contains("kvm: qemu-10.0 → qemu-7.2") && dom.contains("tcg: qemu-10.0 → qemu-7.2"))
        // Haswell's row: blocked by erms under KVM, by x2apic under TCG.
        let row = try #require(dom.range(of: "<th class=\"model\">Haswell</th>").map { String(dom[$0.upperBound...].prefix(400)) })
        #expect(row.contains("<td class=\"blocked\""), "\(row)")
        #expect(row.contains("DST's host lacks: erms") && row.contains("DST's host lacks: x2apic"), "\(row)")
        #expect(dom.contains("<th class=\"model\">SapphireRapids</th><td class=\"missing\""))
        #expect(dom.contains("<th class=\"model\">qemu64</th><td class=\"usable\""))
        let png = try await HeadlessChromium.screenshot(page)
        defer { try? FileManager.default.removeItem(atPath: png) }
        let attributes = try FileManager.default.attributesOfItem(atPath: png)
        #expect((attributes[.size] as? Int ?? 0) > 20_000)
        let (width, height, counts) = try await HeadlessChromium.colorCounts(png, [Self.usable, Self.blocked, Self.missing])
        #expect(width == 1400 && height == 900)
        // max and host (blocked) lead the table, then rows of usable cells: both colours fill whole cells.
        #expect(counts[Self.blocked, default: 0] > 20_000, "\(counts)")
        #expect(counts[Self.usable, default: 0] > 20_000, "\(counts)")
    }

    @Test("baseline: a models × hosts matrix; many hosts fold into columns of identical hosts")
    func baselineMatrix() async throws {
        let hosts = [try await CompareTestSupport.recordedHost("10.0"), try await CompareTestSupport.recordedHost("7.2")]
        let report = try FleetBaseline.compute(hosts: hosts, accelerators: ["tcg"], rule: .usableAsIs)
        let page = try HeadlessChromium.write(CompatibilityHTML.render(report), name: "baseline")
        defer { try? FileManager.default.removeItem(atPath: page) }
        let dom = try await HeadlessChromium.dumpDOM(page)
        #expect(dom.contains("<th>qemu-10.0<small>QEMU 10.0.2</small></th><th>qemu-7.2<small>QEMU 7.2.22</small></th>"))
        #expect(dom.contains("<th class=\"model\">Haswell</th><td class=\"blocked\" title=\"Haswell blocked\">hle invpcid pcid rtm tsc-deadline</td><td class=\"blocked\" title=\"Haswell blocked\">hle invpcid pcid rtm tsc-deadline x2apic</td>"))
        #expect(dom.contains("baseline -cpu: Westmere,"))
        let png = try await HeadlessChromium.screenshot(page)
        defer { try? FileManager.default.removeItem(atPath: png) }
        let (_, _, counts) = try await HeadlessChromium.colorCounts(png, [Self.usable, Self.blocked])
        #expect(counts[Self.usable, default: 0] > 20_000 && counts[Self.blocked, default: 0] > 5_000, "\(counts)")

        // 60 hosts (the two results, relabelled) fold into 2 columns of 30 identical hosts each.
        let fleet = (0..<60).map { index in
            var host = hosts[index % 2]
            host.label = "host\(index)"
            return host
        }
        let folded = CompatibilityHTML.render(try FleetBaseline.compute(hosts: fleet, accelerators: ["tcg"]))
        #expect(folded.contains("<th>30 hosts<small>host0, host2, host4, …</small></th><th>30 hosts<small>host1, host3, host5, …</small></th>"))
    }
}
