/// Sees every message of a connection as it crosses the wire (a session recorder, for instance).
///
/// Calls come in wire order; ``sent(_:)`` is called under the client's lock, so implementations must be
/// quick and must not call back into the client.
public protocol QMPTrafficObserver: Sendable {
    /// A message the client wrote (CRLF-terminated bytes).
    func sent(_ bytes: [UInt8])
    /// A message the server wrote (its exact text).
    func received(_ text: [UInt8])
}
