import Foundation
import Testing
@testable import QMP

/// libvirt's recorded capability probes load into the replay model and replay through the real client.
@Suite(.enabled(if: TestPaths.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
struct LibvirtRepliesTests {
    @Test("every .replies file loads, one session per accelerator")
    func everyFileLoads() throws {
        let files = TestPaths.libvirtReplies
        #expect(files.count >= 4)
        for file in files {
            let sessions = try RecordingLoader.load(path: file)
            #expect(sessions.count == 2, "\(file)")
            #expect(sessions.map { $0.header.accelerator } == ["kvm", "tcg"], "\(file)")
            for session in sessions {
                #expect(session.exchanges.first?.name == "qmp_capabilities")
                #expect(session.exchanges.allSatisfy { $0.reply != nil })
                #expect(session.reply(to: "query-cpu-definitions")?["return"]?.arrayValue?.isEmpty == false)
            }
        }
    }

    @Test("versions, arches and model counts match the files")
    func contents() throws {
        let corpus = try #require(TestPaths.libvirtCorpus)
        let expected: [(String, String, String, Int)] = [
            ("caps_2.11.0.x86_64.replies", "2.11.0", "x86_64", 34),
            ("caps_4.2.0.x86_64.replies", "4.2.0", "x86_64", 113),
            ("caps_6.0.0.s390x.replies", "6.0.0", "s390x", 75),
            ("caps_6.2.0.aarch64.replies", "6.1.50", "aarch64", 40)  // a 6.2 pre-release reports 6.1.50,
        ]
        for (name, version, arch, models) in expected {
            let sessions = try RecordingLoader.load(path: "\(corpus)/\(name)")
            for session in sessions {
                #expect(session.qemuVersion?.description == version, "\(name)")
                #expect(session.header.arch == arch, "\(name)")
                let definitions = session.reply(to: "query-cpu-definitions")?["return"]?.arrayValue ?? []
                #expect(definitions.count == models, "\(name) \(session.header.accelerator ?? "")")
            }
        }
    }

    @Test("specific unavailable features on libvirt's 4.2.0 host, read from the file by hand")
    func specificBlockers() throws {
        let corpus = try #require(TestPaths.libvirtCorpus)
        let sessions = try RecordingLoader.load(path: "\(corpus)/caps_4.2.0.x86_64.replies")
        func definition(_ session: Int, _ name: String) throws -> JSON {
            let definitions = try #require(sessions[session].reply(to: "query-cpu-definitions")?["return"]?.arrayValue)
            return try #require(definitions.first { $0["name"]?.stringValue == name })
        }
        func blockers(_ json: JSON) -> [String] { json["unavailable-features"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        // KVM: the recorded Skylake host runs Skylake-Client; it lacks AMD-only EPYC features.
        #expect(blockers(try definition(0, "Skylake-Client")) == [])
        #expect(try definition(0, "Skylake-Client")["alias-of"]?.stringValue == "Skylake-Client-v3")
        #expect(blockers(try definition(0, "EPYC")) == ["sha-ni", "mmxext", "fxsr-opt", "cr8legacy", "sse4a", "misalignsse",
                                                       "osvw", "ibpb", "npt", "nrip-save"])
        // TCG in 4.2 lacked AVX and x2apic: Skylake-Client-v1 is blocked, with hle/rtm (dropped from v3).
        let tcgV1 = blockers(try definition(1, "Skylake-Client-v1"))
        #expect(tcgV1.contains("hle") && tcgV1.contains("rtm") && tcgV1.contains("x2apic"))
        #expect(!blockers(try definition(1, "Skylake-Client")).contains("hle"))
    }

    @Test("the client replays a libvirt session in strict and in matching mode")
    func clientReplays() async throws {
        let file = try #require(TestPaths.libvirtReplies.first { $0.contains("4.2.0") })
        let session = try RecordingLoader.load(path: file)[0]
        for mode in ReplayTransport.Mode.allCases {
            let client = QMPClient()
            try await client.connect(using: ReplayTransport(session: session, mode: mode))
            #expect(client.greeting?.version.description == "4.2.0")
            // Commands in the recorded order work in both modes.
            let version = try await client.execute("query-version")
            #expect(version["package"]?.stringValue == "v4.2.0")
            let target = try await client.execute("query-target")
            #expect(target["arch"]?.stringValue == "x86_64")
            await client.close()
        }
    }

    @Test("matching mode answers out of order; strict mode names file, line and both commands")
    func strictMismatch() async throws {
        let file = try #require(TestPaths.libvirtReplies.first { $0.contains("4.2.0") })
        let session = try RecordingLoader.load(path: file)[0]
        let matching = QMPClient()
        try await matching.connect(using: ReplayTransport(session: session, mode: .matching))
        let definitions = try await matching.execute("query-cpu-definitions")
        #expect((definitions.arrayValue?.count ?? 0) == 113)
        await matching.close()

        let strict = QMPClient()
        try await strict.connect(using: ReplayTransport(session: session, mode: .strict))
        let error = await #expect(throws: QMPError.self) { try await strict.execute("query-cpu-definitions") }
        guard case .notRecorded(let command, let detail) = error else {
            Issue.record("expected notRecorded, got \(String(describing: error))")
            return
        }
        #expect(command == "query-cpu-definitions")
        #expect(detail.contains("caps_4.2.0.x86_64.replies:12:"))  // query-version is the second command, line 12
        #expect(detail.contains("query-version") && detail.contains("query-cpu-definitions"))
        await strict.close()
    }

    @Test("a command not in the recording is notRecorded, not a QEMU error")
    func notRecorded() async throws {
        let file = try #require(TestPaths.libvirtReplies.first)
        let session = try RecordingLoader.load(path: file)[0]
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: session))
        let error = await #expect(throws: QMPError.self) { try await client.execute("query-status") }
        if case .notRecorded = error {} else { Issue.record("expected notRecorded, got \(String(describing: error))") }
        #expect(error?.errorClass == nil)
        await client.close()
    }
}
