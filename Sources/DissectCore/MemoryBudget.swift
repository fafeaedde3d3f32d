import Foundation

/// About how many bytes something will allocate, for checks made before the
/// allocation happens.
///
/// Sizes come from flags and files, so their products can be far beyond
/// `Int.max` (`--hidden 3000000000` asks for 4·H·H ≈ 3.6·10¹⁹ recurrent
/// weights). Byte counts are therefore kept in floating point: no product
/// or sum of sizes can overflow or trap, a count that would not fit in an
/// integer is still represented (approximately), and every count below 2⁵³
/// bytes (8 PiB) is exact. Arithmetic saturates at `+infinity` at worst.
///
///     bytes(elements(f₁, …, fₖ, bytesEach: b)) = b · f₁ · … · fₖ
///     bytes(a + b) = bytes(a) + bytes(b),   bytes(a × s) = s · bytes(a)
public struct MemoryEstimate: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The estimate in bytes, ≥ 0.
    public private(set) var bytes: Double

    /// `bytes` below 0 or NaN count as 0.
    public init(bytes: Double) {
        self.bytes = bytes.isNaN ? 0 : max(0, bytes)
    }

    public static let zero = MemoryEstimate(bytes: 0)

    /// `f₁ · … · fₖ` elements of `bytesEach` bytes each; a negative factor counts as 0.
    public static func elements(_ factors: [Int], bytesEach: Int) -> MemoryEstimate {
        MemoryEstimate(bytes: factors.reduce(Double(max(0, bytesEach))) { $0 * Double(max(0, $1)) })
    }

    /// `f₁ · … · fₖ` 4-byte values (Float or Int32).
    public static func floats(_ factors: Int...) -> MemoryEstimate { elements(factors, bytesEach: 4) }

    /// `f₁ · … · fₖ` 8-byte values (Double, Int).
    public static func words(_ factors: Int...) -> MemoryEstimate { elements(factors, bytesEach: 8) }

    public static func + (left: MemoryEstimate, right: MemoryEstimate) -> MemoryEstimate {
        MemoryEstimate(bytes: left.bytes + right.bytes)
    }

    public static func += (left: inout MemoryEstimate, right: MemoryEstimate) { left = left + right }

    public static func * (left: MemoryEstimate, factor: Double) -> MemoryEstimate {
        MemoryEstimate(bytes: left.bytes * factor)
    }

    public static func * (left: MemoryEstimate, factor: Int) -> MemoryEstimate { left * Double(max(0, factor)) }

    public static func < (left: MemoryEstimate, right: MemoryEstimate) -> Bool { left.bytes < right.bytes }

    /// `bytes / 2³⁰`.
    public var gibibytes: Double { bytes / 1_073_741_824 }

    /// "about N GiB", as in the error messages.
    public var description: String { "about \(MemoryBudget.gibibytesText(bytes)) GiB" }

    /// The product `f₁ · … · fₖ` as an Int, or nil when it overflows (or a factor is negative).
    /// For the code that must index with the count, after the estimate has passed.
    public static func exactProduct(_ factors: [Int]) -> Int? {
        var product = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let step = product.multipliedReportingOverflow(by: factor)
            if step.overflow { return nil }
            product = step.partialValue
        }
        return product
    }

    /// The sum `t₁ + … + tₖ` as an Int, or nil when it overflows.
    public static func exactSum(_ terms: [Int]) -> Int? {
        var sum = 0
        for term in terms {
            let step = sum.addingReportingOverflow(term)
            if step.overflow { return nil }
            sum = step.partialValue
        }
        return sum
    }
}

/// The machine's memory as the bound on every size a flag or file controls.
///
/// A request is refused when its estimate exceeds the physical memory: it
/// could not run here, and trying would end in an abort from the allocator
/// or in swapping. The estimates err upwards (about ×1–2 of what is really
/// allocated), so anything refused would not have fitted.
public enum MemoryBudget {
    /// `ProcessInfo.processInfo.physicalMemory`, in bytes.
    public static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }

    /// Whether `estimate` fits in `available` bytes.
    public static func fits(_ estimate: MemoryEstimate, available: UInt64 = physicalMemory) -> Bool {
        estimate.bytes <= Double(available)
    }

    /// Throws unless `estimate` fits in `available` bytes (the physical memory by default).
    ///
    /// The error is one line, `[<file>: ]<what> needs about N GiB of memory; this machine has M GiB; <fix>`.
    ///
    /// - Parameters:
    ///   - what: the thing that needs the memory, e.g. "training with --hidden 3000000000" or "the model".
    ///   - kind: `.usage` (exit 2) when the size came from a flag, `.input` (exit 1) when it came from a file.
    ///   - file: the file whose contents set the size, if any.
    ///   - fix: how to make the request smaller.
    public static func require(
        _ estimate: MemoryEstimate, for what: String, kind: DissectError.Kind, file: String? = nil, fix: String,
        available: UInt64 = physicalMemory
    ) throws {
        guard !fits(estimate, available: available) else { return }
        throw DissectError(
            kind, file: file,
            problem: "\(what) needs \(estimate) of memory",
            fix: "this machine has \(gibibytesText(Double(available))) GiB; \(fix)")
    }

    /// GiB with one decimal below 10, else whole GiB with thousands separators ("1,234").
    public static func gibibytesText(_ bytes: Double) -> String {
        let value = bytes / 1_073_741_824
        if value < 9.95 { return String(format: "%.1f", value) }
        let digits = String(format: "%.0f", value.rounded())
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return grouped
    }
}
