/// Arg-max with the one tie rule every prediction in dissect uses: the first
/// (lowest) index among equal largest values, as `torch.argmax`.
public enum ArgMax {
    /// The first index of the largest of `values[0]`, `values[stride]`, …, `values[(count − 1) · stride]`; count ≥ 1.
    /// `@inlinable` so callers in other modules get it specialized (a generic call costs a witness per comparison).
    @inlinable @inline(__always)
    public static func firstLargest<T: Comparable>(_ values: UnsafePointer<T>, count: Int, stride: Int = 1) -> Int {
        var best = 0
        var index = 1
        while index < count {
            if values[index * stride] > values[best * stride] { best = index }
            index += 1
        }
        return best
    }

    /// For each column t of a row-major `[rows, columns]` matrix, the first row
    /// with the largest value (`firstLargest(matrix + t, count: rows, stride: columns)`),
    /// eight columns at a time; rows ≥ 1.
    public static func firstLargestByColumn(
        _ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into result: UnsafeMutablePointer<Int32>
    ) {
        let raw = UnsafeRawPointer(matrix)
        var column = 0
        while column + 8 <= columns {
            var best = raw.loadUnaligned(fromByteOffset: column * 4, as: SIMD8<Float>.self)
            var which = SIMD8<Int32>(repeating: 0)
            var row = 1
            while row < rows {
                let value = raw.loadUnaligned(fromByteOffset: (row * columns + column) * 4, as: SIMD8<Float>.self)
                let better = value .> best
                best.replace(with: value, where: better)
                which.replace(with: Int32(row), where: better)
                row += 1
            }
            UnsafeMutableRawPointer(result).storeBytes(of: which, toByteOffset: column * 4, as: SIMD8<Int32>.self)
            column += 8
        }
        while column < columns {
            result[column] = Int32(firstLargest(matrix + column, count: rows, stride: columns))
            column += 1
        }
    }
}
