/// The bound of a "no hang" check: ten times what a step is expected to take.
///
/// A check against it proves that the step ended on its own (it did not hang, or wait for a timeout it should not
/// need), never that it is fast: a loaded 2-core machine can make any step several times slower, and speed is what
/// `benchmarks/` measures. Tests print the time they measured beside it.
public enum NoHang {
    /// Ten times `expected`.
    public static func bound(expected: Duration) -> Duration { expected * 10 }
}
