/// Why training had to stop: a loss, gradient or weight that is no longer a
/// finite number. Training stops at the batch where it is found, before that
/// batch's optimizer step when the loss or the gradient is at fault.
public struct Divergence: Sendable, Equatable, CustomStringConvertible {
    public enum Quantity: Sendable, Equatable {
        /// The batch's summed loss.
        case loss
        /// The batch's gradient (the summed dense gradient or a touched word-embedding row).
        case gradient
        /// A weight after the optimizer step (a finite gradient times a huge learning rate).
        case weights
    }

    public enum Value: Sendable, Equatable {
        case nan
        case infinite
    }

    /// The epoch, counted from 1.
    public var epoch: Int
    /// The batch within the epoch, counted from 1.
    public var batch: Int
    public var quantity: Quantity
    public var value: Value

    public init(epoch: Int, batch: Int, quantity: Quantity, value: Value) {
        self.epoch = epoch
        self.batch = batch
        self.quantity = quantity
        self.value = value
    }

    /// "loss is NaN", "gradient is infinite", "weights are NaN", ...
    public var what: String {
        let noun: String, verb: String
        switch quantity {
        case .loss: (noun, verb) = ("loss", "is")
        case .gradient: (noun, verb) = ("gradient", "is")
        case .weights: (noun, verb) = ("weights", "are")
        }
        return "\(noun) \(verb) \(value == .nan ? "NaN" : "infinite")"
    }

    /// "training diverged in epoch E, batch B (loss is NaN)", the problem half of the error line.
    public var description: String { "training diverged in epoch \(epoch), batch \(batch) (\(what))" }
}

extension FloatKernels {
    /// The largest of `values[i].bitPattern & 0x7FFF_FFFF`, the magnitudes'
    /// bit patterns. Those order like the magnitudes themselves, and every
    /// non-finite value lies above every finite one: infinity is exactly
    /// 0x7F80_0000 and a NaN is above it. So one integer max (which vectorises,
    /// unlike a float sum) tells whether all values are finite.
    static func largestMagnitudeBits(_ values: UnsafePointer<Float>, _ count: Int) -> UInt32 {
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

    /// `out[0..<count] += x[0..<count]`, returning `largestMagnitudeBits` of
    /// the sums: the finiteness check fused into an addition that runs anyway.
    static func add(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ count: Int) -> UInt32 {
        var largest: UInt32 = 0
        for index in 0..<count {
            let sum = out[index] + x[index]
            out[index] = sum
            largest = max(largest, sum.bitPattern & 0x7FFF_FFFF)
        }
        return largest
    }

    /// The naive version of `largestMagnitudeBits`, for tests.
    static func referenceLargestMagnitudeBits(_ values: UnsafePointer<Float>, _ count: Int) -> UInt32 {
        var result: UInt32 = 0
        for index in 0..<count { result = max(result, values[index].magnitude.bitPattern) }
        return result
    }

    /// What a result of `largestMagnitudeBits` says: nil when every value was finite.
    static func nonFinite(largestMagnitudeBits bits: UInt32) -> Divergence.Value? {
        let infinity = Float.infinity.bitPattern
        if bits > infinity { return .nan }
        return bits == infinity ? .infinite : nil
    }

    /// Whether `values` holds a NaN or an infinity, and which (NaN wins).
    static func nonFinite(_ values: [Double]) -> Divergence.Value? {
        if values.contains(where: \.isNaN) { return .nan }
        return values.contains(where: \.isInfinite) ? .infinite : nil
    }
}
