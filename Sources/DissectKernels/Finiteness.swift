import DissectCore

/// What a finiteness check found: a NaN or an infinity.
public enum NonFiniteValue: Sendable, Equatable {
    case nan
    case infinite
}

extension FloatKernels {
    /// The largest of `values[i].bitPattern & 0x7FFF_FFFF`, the magnitudes'
    /// bit patterns. Those order like the magnitudes themselves, and every
    /// non-finite value lies above every finite one: infinity is exactly
    /// 0x7F80_0000 and a NaN is above it. So one integer max (which vectorises,
    /// unlike a float sum) tells whether all values are finite.
    public static func largestMagnitudeBits(_ values: UnsafePointer<Float>, _ count: Int) -> UInt32 {
        let raw = UnsafeRawPointer(values)
        let mask = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        var first = SIMD8<UInt32>(), second = SIMD8<UInt32>()
        var index = 0
        while index + 16 <= count {
            first = pointwiseMax(first, raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<UInt32>.self) & mask)
            second = pointwiseMax(second, raw.loadUnaligned(fromByteOffset: index * 4 + 32, as: SIMD8<UInt32>.self) & mask)
            index += 16
        }
        var result = pointwiseMax(first, second).max()
        while index < count {
            result = max(result, values[index].bitPattern & 0x7FFF_FFFF)
            index += 1
        }
        return result
    }

    /// `out[i] = a[i] + b[i]` for i in 0..<count, returning `largestMagnitudeBits` of the sums: the
    /// finiteness check fused into the addition of two shards' gradients, which runs anyway.
    public static func sum(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ count: Int
    ) -> UInt32 {
        var largest: UInt32 = 0
        for index in 0..<count {
            let sum = a[index] + b[index]
            out[index] = sum
            largest = max(largest, sum.bitPattern & 0x7FFF_FFFF)
        }
        return largest
    }

    /// One SGD step with L2, `p[i] -= learningRate · (g[i] + l2 · p[i])` for i
    /// in 0..<count, returning `largestMagnitudeBits` of the updated weights:
    /// the finiteness check rides along in the loop that runs anyway.
    public static func sgdStep(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ count: Int, learningRate: Float, l2: Float
    ) -> UInt32 {
        var largest: UInt32 = 0
        for index in 0..<count {
            let updated = p[index] - learningRate * (g[index] + l2 * p[index])
            p[index] = updated
            largest = max(largest, updated.bitPattern & 0x7FFF_FFFF)
        }
        return largest
    }

    /// The naive version of `largestMagnitudeBits`, for tests.
    public static func referenceLargestMagnitudeBits(_ values: UnsafePointer<Float>, _ count: Int) -> UInt32 {
        var result: UInt32 = 0
        for index in 0..<count { result = max(result, values[index].magnitude.bitPattern) }
        return result
    }

    /// What a result of `largestMagnitudeBits` says: nil when every value was finite.
    public static func nonFinite(largestMagnitudeBits bits: UInt32) -> NonFiniteValue? {
        let infinity = Float.infinity.bitPattern
        if bits > infinity { return .nan }
        return bits == infinity ? .infinite : nil
    }

    /// Whether `values` holds a NaN or an infinity, and which (NaN wins).
    public static func nonFinite(_ values: [Double]) -> NonFiniteValue? {
        if values.contains(where: \.isNaN) { return .nan }
        return values.contains(where: \.isInfinite) ? .infinite : nil
    }
}
