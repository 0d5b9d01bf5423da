import Foundation
import Testing
@testable import QMP

/// `SocketTransport.run(_:)`, the transport's own sequence of messages (a consumer that reads the connection
/// itself, not through `QMPClient`): reading pauses while `highWatermark` parsed messages wait and resumes below half
/// of it, and nothing is lost or reordered across pauses.
struct TransportStreamTests {
    @Test("flow control: pause at the high watermark, resume at half of it, once each")
    func flowControl() {
        let flow = FlowControl(highWatermark: 4)
        #expect([flow.produced(), flow.produced(), flow.produced()] == [false, false, false])
        #expect(flow.produced(), "the 4th waiting message pauses reading")
        #expect(!flow.produced(), "already paused: no second pause")
        #expect(flow.state == (buffered: 5, paused: true))
        flow.consumed(); flow.consumed()
        #expect(flow.state == (buffered: 3, paused: true), "above the low watermark (2): still paused")
        flow.consumed()
        #expect(flow.state == (buffered: 2, paused: false), "at the low watermark: resumed")
        #expect(FlowControl(highWatermark: 0).produced() == false, "a watermark below 2 is taken as 2")
    }

    @Test("20,000 events through a watermark of 4, with a consumer that stalls: every one, in order")
    func everyMessageAcrossPauses() async throws {
        let count = 20_000
        let server = try FakeQMPServer { server in
            try server.greet()
            var batch = ""
            for index in 0..<count {
                batch += server.eventMessage("TICK", data: ["n": .int(Int64(index))]).serialized() + "\r\n"
                if batch.utf8.count > 60_000 {
                    try server.send(batch)
                    batch = ""
                }
            }
            try server.send(batch)
            server.signal("sent")
            _ = try server.expectEOF()
        }
        var transport = SocketTransport(server.endpoint)
        transport.highWatermark = 4
        let seen = LockedNumbers()
        try await transport.run { inbound, outbound in
            var first = true
            for try await message in inbound {
                if message.json["QMP"] != nil { continue }
                if first {
                    // Stall while the server writes: the socket buffers fill, reading pauses.
                    first = false
                    try await Task.sleep(for: .milliseconds(300))
                }
                seen.append(message.json["data"]?["n"]?.int64Value ?? -1)
                if seen.count == count { break }
            }
            outbound.close()
        }
        let received = seen.values
        #expect(received.count == count)
        #expect(received == (0..<Int64(count)).map { $0 }, "in order, none lost")
        #expect(await server.nextSignal() == "sent", "the server wrote everything once reading resumed")
        #expect(await server.finish() == [])
    }
}

/// Numbers appended from one task and read after it ends.
private final class LockedNumbers: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int64] = []
    func append(_ value: Int64) { lock.withLock { storage.append(value) } }
    var count: Int { lock.withLock { storage.count } }
    var values: [Int64] { lock.withLock { storage } }
}
