/// The prober's own version. It is part of every ``CacheKey``: bump it whenever what a probe gathers or how a
/// report is computed or printed changes, so that no cached result of an older prober is ever served.
package enum ProberVersion {
    /// The version string (semantic versioning).
    package static let current = "0.3.0"
}
