/// An asynchronous event from QEMU.
public struct QMPEvent: Sendable, Equatable {
    /// The event name, e.g. `STOP`.
    public var name: String
    /// The event's `data` member (an empty object when absent).
    public var data: JSON
    /// When QEMU emitted it.
    public var timestamp: QMPTimestamp

    /// An event from its parts.
    public init(name: String, data: JSON = .object([:]), timestamp: QMPTimestamp = .unknown) {
        self.name = name
        self.data = data
        self.timestamp = timestamp
    }
}

/// An event's timestamp: seconds and microseconds since the epoch, as QEMU read the host clock.
public struct QMPTimestamp: Sendable, Equatable {
    /// Seconds since the epoch, or -1 when QEMU could not read the time.
    public var seconds: Int64
    /// Microseconds within the second, or -1 when QEMU could not read the time.
    public var microseconds: Int64

    /// The timestamp QEMU sends when it could not read the host time (both members -1).
    public static let unknown = QMPTimestamp(seconds: -1, microseconds: -1)

    /// A timestamp from its parts.
    public init(seconds: Int64, microseconds: Int64) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    /// Reads an event's `timestamp` member; absent or malformed members give ``unknown``.
    public init(_ json: JSON?) {
        self.init(seconds: json?["seconds"]?.int64Value ?? -1, microseconds: json?["microseconds"]?.int64Value ?? -1)
    }

    /// Whether QEMU knew the time (neither member is -1).
    public var isKnown: Bool { seconds >= 0 && microseconds >= 0 }
}
