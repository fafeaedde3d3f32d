import Foundation

/// Numbers as text with a fixed number of decimals, the same on every machine:
/// the figures, tables and CSV files, and the evidence of each claim, print
/// their numbers through this one function so they agree to the digit.
public enum DecimalText {
    /// Formats `value` with exactly `decimals` digits after the point,
    /// independent of locale, with "-0.00" normalised to "0.00".
    /// Non-finite values are spelled "NaN", "inf" and "-inf".
    public static func fixed(_ value: Double, decimals: Int) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        let places = max(0, min(decimals, 15))
        var power = 1.0
        for _ in 0..<places { power *= 10 }
        let scaled = (abs(value) * power).rounded(.toNearestOrAwayFromZero)
        var text: String
        if scaled < 9.0e15 {
            // Integer arithmetic keeps the digits exact and locale-free.
            let whole = UInt64(scaled)
            let divisor = UInt64(power)
            let integerPart = whole / divisor
            let fraction = whole % divisor
            text = String(integerPart)
            if places > 0 {
                let digits = String(fraction)
                text += "." + String(repeating: "0", count: places - digits.count) + digits
            }
            if whole == 0 { return text }
        } else {
            // Too large for exact integer scaling; printf with the POSIX locale
            // is still deterministic.
            text = String(format: "%.\(places)f", abs(value))
        }
        return value < 0 ? "-" + text : text
    }

}
