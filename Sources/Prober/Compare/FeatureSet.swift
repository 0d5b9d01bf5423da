/// A set of features as a bitset over a ``FeatureIndex``: bit `i` is feature `i` of the index.
/// Union, intersection and difference are word-wise, so comparing hosts never hashes strings.
package struct FeatureSet: Sendable, Hashable {
    /// The bits, 64 features per word; missing words are zero.
    package private(set) var words: [UInt64]

    /// An empty set.
    package init() { words = [] }

    /// A set of the given feature ids.
    package init<S: Sequence>(_ ids: S) where S.Element == Int {
        words = []
        for id in ids { insert(id) }
    }

    /// Adds feature `id`.
    package mutating func insert(_ id: Int) {
        let word = id >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(id & 63)
    }

    /// Whether feature `id` is in the set.
    package func contains(_ id: Int) -> Bool {
        let word = id >> 6
        return word < words.count && words[word] & (1 << UInt64(id & 63)) != 0
    }

    /// Whether the set is empty.
    package var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The number of features.
    package var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The feature ids, ascending.
    package var ids: [Int] {
        var result: [Int] = []
        for (index, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                result.append(index << 6 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }

    /// Adds every feature of `other`.
    package mutating func formUnion(_ other: FeatureSet) {
        if other.words.count > words.count {
            words.append(contentsOf: repeatElement(0, count: other.words.count - words.count))
        }
        for index in other.words.indices { words[index] |= other.words[index] }
    }

    /// Keeps only the features also in `other`.
    package mutating func formIntersection(_ other: FeatureSet) {
        for index in words.indices { words[index] &= index < other.words.count ? other.words[index] : 0 }
    }

    /// Removes every feature of `other`.
    package mutating func subtract(_ other: FeatureSet) {
        for index in words.indices where index < other.words.count { words[index] &= ~other.words[index] }
    }

    /// The features in either set.
    package func union(_ other: FeatureSet) -> FeatureSet {
        var result = self
        result.formUnion(other)
        return result
    }

    /// The features in both sets.
    package func intersection(_ other: FeatureSet) -> FeatureSet {
        var result = self
        result.formIntersection(other)
        return result
    }

    /// The features of this set that are not in `other`.
    package func subtracting(_ other: FeatureSet) -> FeatureSet {
        var result = self
        result.subtract(other)
        return result
    }

    /// Whether every feature of this set is in `other`.
    package func isSubset(of other: FeatureSet) -> Bool {
        for index in words.indices where words[index] & ~(index < other.words.count ? other.words[index] : 0) != 0 {
            return false
        }
        return true
    }

    /// The number of features in both sets, without building the intersection.
    package func intersectionCount(_ other: FeatureSet) -> Int {
        var total = 0
        for index in 0..<min(words.count, other.words.count) { total += (words[index] & other.words[index]).nonzeroBitCount }
        return total
    }

    /// Same features (trailing zero words do not count).
    package static func == (lhs: FeatureSet, rhs: FeatureSet) -> Bool {
        let count = max(lhs.words.count, rhs.words.count)
        for index in 0..<count {
            let left = index < lhs.words.count ? lhs.words[index] : 0
            let right = index < rhs.words.count ? rhs.words[index] : 0
            if left != right { return false }
        }
        return true
    }

    /// Hashes the words without trailing zeros, consistently with `==`.
    package func hash(into hasher: inout Hasher) {
        var end = words.count
        while end > 0 && words[end - 1] == 0 { end -= 1 }
        hasher.combine(end)
        for index in 0..<end { hasher.combine(words[index]) }
    }
}
