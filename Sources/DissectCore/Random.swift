/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator whose whole
/// state is one UInt64, so a seed fully determines every draw on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for a sub-stream, e.g. `(seed, epoch, batch, shard)`: the
    /// parts are mixed so that nearby tuples give unrelated streams.
    public init(seed: UInt64, stream parts: UInt64...) {
        var mixer = SplitMix64(seed: seed)
        var value = mixer.next()
        for part in parts {
            mixer = SplitMix64(seed: value ^ (part &* 0x9E37_79B9_7F4A_7C15))
            value = mixer.next()
        }
        state = value
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    @inlinable
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUnit()
    }

    /// Uniform integer in 0..<bound (bound > 0), unbiased (Lemire's method
    /// as in the standard library, but with our own fixed algorithm so the
    /// sequence never changes with the toolchain).
    @inlinable
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        let threshold = (0 &- range) % range
        while true {
            let random = next()
            let product = random.multipliedFullWidth(by: range)
            if product.low >= threshold { return Int(product.high) }
        }
    }

    /// Fisher–Yates shuffle with `nextIndex`, reproducible across toolchains.
    public mutating func shuffle<Element>(_ array: inout [Element]) {
        shuffle(collection: &array)
    }

    /// The same shuffle of any random-access collection (e.g. a buffer a hot loop owns, which it
    /// shuffles without allocating): the same draws give the same order as for an array.
    public mutating func shuffle<Items: MutableCollection & RandomAccessCollection>(collection items: inout Items)
    where Items.Index == Int {
        guard items.count > 1 else { return }
        let start = items.startIndex
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            let other = nextIndex(below: index + 1)
            if other != index { items.swapAt(start + index, start + other) }
        }
    }
}
