import CKernels
import DissectCore

/// Small per-step products written by hand: at hidden size 50 a BLAS call
/// costs more in overhead than its 10k multiply-adds.
public enum Kernels {
    /// The same memory seen as Float, for the Float fast paths (callers check `T.self == Float.self` first).
    @inline(__always)
    public static func float<T: Scalar>(_ pointer: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
    }

    @inline(__always)
    public static func float<T: Scalar>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
    }

    /// `out[0..<n] += Σ_k x[k] · matrix[k, 0..<n]` — a vector times a row-major
    /// `[k, n]` matrix, written as `k` axpys so the inner loop vectorises
    /// without reassociating a reduction.
    @_specialize(where T == Float)
    @inline(__always)
    public static func addVectorTimesMatrix<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ matrix: UnsafePointer<T>, k: Int, n: Int
    ) {
        if T.self == Float.self {
            FloatKernels.addVectorTimesMatrix(
                float(out), float(x), float(matrix), k: k, n: n)
            return
        }
        referenceAddVectorTimesMatrix(out, x, matrix, k: k, n: n)
    }

    /// The naive version of `addVectorTimesMatrix`, kept for tests and Double.
    @_specialize(where T == Float)
    public static func referenceAddVectorTimesMatrix<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ matrix: UnsafePointer<T>, k: Int, n: Int
    ) {
        for inner in 0..<k {
            let scale = x[inner]
            let row = matrix + inner * n
            for column in 0..<n { out[column] += scale * row[column] }
        }
    }

    /// `out[0..<n] += scale · x[0..<n]`.
    @_specialize(where T == Float)
    @inline(__always)
    public static func axpy<T: Scalar>(_ out: UnsafeMutablePointer<T>, _ scale: T, _ x: UnsafePointer<T>, _ n: Int) {
        for index in 0..<n { out[index] += scale * x[index] }
    }

    /// Transposes a row-major `[rows, columns]` matrix into `[columns, rows]`.
    @_specialize(where T == Float)
    public static func transpose<T: Scalar>(_ source: UnsafePointer<T>, rows: Int, columns: Int, into target: UnsafeMutablePointer<T>) {
        for row in 0..<rows {
            for column in 0..<columns { target[column * rows + row] = source[row * columns + column] }
        }
    }
}

/// Float-only fast paths with explicit SIMD, checked against the generic
/// reference loops in the tests.
public enum FloatKernels {
    public static func addVectorTimesMatrix(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ matrix: UnsafePointer<Float>, k: Int, n: Int
    ) {
        // Accumulate 32 outputs at a time in registers over all k, so `out`
        // is read and written once instead of k times.
        var column = 0
        let raw = UnsafeRawPointer(matrix)
        while column + 32 <= n {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for inner in 0..<k {
                let scale = SIMD8<Float>(repeating: x[inner])
                let base = (inner * n + column) * 4
                a0 += scale * raw.loadUnaligned(fromByteOffset: base, as: SIMD8<Float>.self)
                a1 += scale * raw.loadUnaligned(fromByteOffset: base + 32, as: SIMD8<Float>.self)
                a2 += scale * raw.loadUnaligned(fromByteOffset: base + 64, as: SIMD8<Float>.self)
                a3 += scale * raw.loadUnaligned(fromByteOffset: base + 96, as: SIMD8<Float>.self)
            }
            add(a0, to: out + column); add(a1, to: out + column + 8)
            add(a2, to: out + column + 16); add(a3, to: out + column + 24)
            column += 32
        }
        while column + 8 <= n {
            var a0 = SIMD8<Float>()
            for inner in 0..<k {
                a0 += SIMD8<Float>(repeating: x[inner])
                    * raw.loadUnaligned(fromByteOffset: (inner * n + column) * 4, as: SIMD8<Float>.self)
            }
            add(a0, to: out + column)
            column += 8
        }
        while column < n {
            var sum: Float = 0
            for inner in 0..<k { sum += x[inner] * matrix[inner * n + column] }
            out[column] += sum
            column += 1
        }
    }

    @inline(__always)
    private static func add(_ value: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(pointer)
        let old = raw.loadUnaligned(as: SIMD8<Float>.self)
        raw.storeBytes(of: old + value, as: SIMD8<Float>.self)
    }
}

extension Kernels {
    /// `values[i] = σ(values[i])` for i in 0..<count.
    @inline(__always)
    public static func sigmoidInPlace<T: Scalar>(_ values: UnsafeMutablePointer<T>, _ count: Int) {
        if T.self == Float.self {
            FloatKernels.sigmoidInPlace(float(values), count)
            return
        }
        for index in 0..<count { values[index] = T.sigmoid(values[index]) }
    }

    /// `values[i] = tanh(values[i])` for i in 0..<count.
    @inline(__always)
    public static func tanhInPlace<T: Scalar>(_ values: UnsafeMutablePointer<T>, _ count: Int) {
        if T.self == Float.self {
            FloatKernels.tanhInPlace(float(values), count)
            return
        }
        for index in 0..<count { values[index] = T.tanh(values[index]) }
    }
}

extension FloatKernels {
    /// e^x for eight lanes: Cephes' `expf` (range reduction by ln 2, degree-5
    /// polynomial), within 2 ulp of libm over [−87, 88]; inputs are clamped there.
    /// Rounding to an integer uses the 1.5·2²³ trick: adding it leaves the
    /// integer in the low mantissa bits, which also gives 2ⁿ without a conversion.
    @inline(__always)
    public static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87), high = SIMD8<Float>(repeating: 88)
        var x = input.replacing(with: low, where: input .< low)
        x.replace(with: high, where: x .> high)
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        x = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        let z = x * x
        var y = SIMD8<Float>(repeating: 1.987_569_15e-4)
        y = y * x + 1.398_199_95e-3
        y = y * x + 8.333_451_9e-3
        y = y * x + 4.166_579_59e-2
        y = y * x + 1.666_666_55e-1
        y = y * x + 5.000_000_12e-1
        y = y * z + x + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
        return y * scale
    }

    @inline(__always)
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// tanh x = 2σ(2x) − 1 (absolute error below 1e-7).
    @inline(__always)
    public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        2 / (1 + exp(-2 * x)) - 1
    }

    /// Eight lanes at a time. (Sixteen, in C for AVX-512, were measured and dropped: the
    /// division they end with bounds both widths, 1.25 against 1.35 ns per value here.)
    public static func sigmoidInPlace(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        let raw = UnsafeMutableRawPointer(values)
        var index = 0
        while index + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: sigmoid(v), toByteOffset: index * 4, as: SIMD8<Float>.self)
            index += 8
        }
        if index < count { tail(values + index, count - index, sigmoid) }
    }

    public static func tanhInPlace(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        let raw = UnsafeMutableRawPointer(values)
        var index = 0
        while index + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: tanh(v), toByteOffset: index * 4, as: SIMD8<Float>.self)
            index += 8
        }
        if index < count { tail(values + index, count - index, tanh) }
    }

    /// The last 1–7 lanes go through the same SIMD function, so every element
    /// gets exactly the same arithmetic wherever it sits.
    @inline(__always)
    private static func tail(_ values: UnsafeMutablePointer<Float>, _ count: Int, _ function: (SIMD8<Float>) -> SIMD8<Float>) {
        var lanes = SIMD8<Float>()
        for lane in 0..<count { lanes[lane] = values[lane] }
        let result = function(lanes)
        for lane in 0..<count { values[lane] = result[lane] }
    }
}

extension Kernels {
    /// `out[0..<rows] = matrix[rows, columns] · x[0..<columns]` (row-major), as
    /// dot products: used where the output is short (dh from the 4H gate
    /// gradients) so no scalar column tail is left over.
    @inline(__always)
    public static func setMatrixTimesVector<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, _ matrix: UnsafePointer<T>, _ x: UnsafePointer<T>, rows: Int, columns: Int
    ) {
        if T.self == Float.self {
            FloatKernels.setMatrixTimesVector(
                float(out), float(matrix), float(x), rows: rows, columns: columns)
            return
        }
        referenceSetMatrixTimesVector(out, matrix, x, rows: rows, columns: columns)
    }

    public static func referenceSetMatrixTimesVector<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, _ matrix: UnsafePointer<T>, _ x: UnsafePointer<T>, rows: Int, columns: Int
    ) {
        for row in 0..<rows {
            var sum: T = 0
            for column in 0..<columns { sum += matrix[row * columns + column] * x[column] }
            out[row] = sum
        }
    }
}

extension FloatKernels {
    @inline(__always)
    public static func load(_ pointer: UnsafePointer<Float>, _ index: Int) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
    }

    @inline(__always)
    public static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>, _ index: Int) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, toByteOffset: index * 4, as: SIMD8<Float>.self)
    }

    public static func setMatrixTimesVector(
        _ out: UnsafeMutablePointer<Float>, _ matrix: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, columns: Int
    ) {
        for row in 0..<rows {
            let line = matrix + row * columns
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
            var column = 0
            while column + 16 <= columns {
                a0 += load(line, column) * load(x, column)
                a1 += load(line, column + 8) * load(x, column + 8)
                column += 16
            }
            while column + 8 <= columns {
                a0 += load(line, column) * load(x, column)
                column += 8
            }
            var sum = (a0 + a1).sum()
            while column < columns {
                sum += line[column] * x[column]
                column += 1
            }
            out[row] = sum
        }
    }
}

extension Kernels {
    /// Columns per panel of `packPanels`: two SIMD8 registers.
    public static let panelWidth = 16

    /// Values `packPanels` writes for a `[k, n]` matrix: ⌈n / 16⌉ panels of k × 16.
    public static func panelCount(k: Int, n: Int) -> Int { (n + panelWidth - 1) / panelWidth * panelWidth * k }

    /// Lays a `[k, n]` matrix out as column panels, `packed[p][i][lane] = matrix[i, 16p + lane]`
    /// (zero past column n), so the batched product reads it front to back, 64 bytes
    /// per step of its inner loop, instead of one line per row of a wide matrix.
    /// - Parameters: `transposed`: the source is stored `[n, k]` (W_hh `[G, H]` for the
    ///   forward product with W_hhᵀ); else `[k, n]`. `sourceStride`: values between the
    ///   source's rows (default k when transposed, else n; more for a block of columns of a
    ///   wider matrix). packed: `panelCount(k:n:)` values.
    @_specialize(where T == Float)
    public static func packPanels<T: Scalar>(
        _ source: UnsafePointer<T>, k: Int, n: Int, transposed: Bool, sourceStride: Int? = nil,
        into packed: UnsafeMutablePointer<T>
    ) {
        let width = panelWidth
        let rowStride = sourceStride ?? (transposed ? k : n)
        if T.self == Float.self && transposed && dissect_use_wide_vectors() != 0 {
            // Scalar, this loop wrote one lane of every line of a panel per pass: 7 % of training at hidden 400.
            for first in stride(from: 0, to: n, by: width) {
                dissect_pack_transposed_panel_avx512(
                    float(source + first * rowStride), rowStride, k, min(width, n - first), float(packed + first * k))
            }
            return
        }
        portablePackPanels(source, k: k, n: n, transposed: transposed, rowStride: rowStride, into: packed)
    }

    /// `packPanels` in Swift alone (the AVX-512 path's reference, and its path on other CPUs).
    @_specialize(where T == Float)
    public static func portablePackPanels<T: Scalar>(
        _ source: UnsafePointer<T>, k: Int, n: Int, transposed: Bool, rowStride: Int, into packed: UnsafeMutablePointer<T>
    ) {
        let width = panelWidth
        var panel = packed
        for first in stride(from: 0, to: n, by: width) {
            let columns = min(width, n - first)
            if transposed {
                // Source row by source row, so the reads run contiguously and the strided writes stay in one panel.
                for lane in 0..<columns {
                    let row = source + (first + lane) * rowStride
                    for inner in 0..<k { panel[inner * width + lane] = row[inner] }
                }
                for lane in columns..<width {
                    for inner in 0..<k { panel[inner * width + lane] = 0 }
                }
            } else {
                // Whole Float lines as two 8-lane moves, not `update(from:count:)`: a call to memmove
                // per 16 values cost 3 % of training at hidden 400 (k = 1600 lines a panel, every batch).
                if T.self == Float.self && columns == width {
                    let to = UnsafeMutableRawPointer(panel), from = UnsafeRawPointer(source + first)
                    for inner in 0..<k {
                        let line = from + inner * rowStride * 4, target = to + inner * width * 4
                        target.storeBytes(of: line.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                        (target + 32).storeBytes(of: (line + 32).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    }
                } else {
                    for inner in 0..<k {
                        let line = panel + inner * width
                        line.update(from: source + inner * rowStride + first, count: columns)
                        for lane in columns..<width { line[lane] = 0 }
                    }
                }
            }
            panel += k * width
        }
    }

    /// `out[r, 0..<n] += Σ_i x[r, i] · matrix[i, 0..<n]` for r in 0..<rows, with the
    /// `[k, n]` matrix in `packPanels` layout: the batched recurrence's product over
    /// the sentences still running at a step. x `[rows, k]` (row stride xStride),
    /// out `[rows, n]` (row stride outStride).
    ///
    /// Why not one OpenBLAS GEMM per step: measured here (AMD EPYC, OpenBLAS 0.3.21's
    /// Haswell kernels, hidden 400, 5 sentences a shard), a GEMM of ≤ 5 rows × [400, 1600]
    /// trained at 316 sentences/s against 565 for the per-sentence SIMD kernel: it copies
    /// ("packs") the whole matrix on every call and pads the rows to its tile. The panels
    /// here are packed once per pass, and up to six rows share each load of them.
    ///
    /// `backwards` takes the panels from the last to the first (the sums are the same):
    /// a recurrence that alternates direction by step starts each step on the panels the
    /// last one read most recently, which are still in L2 when the whole matrix is not.
    @_specialize(where T == Float)
    @inline(__always)
    public static func addRowsTimesPanels<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, outStride: Int, _ x: UnsafePointer<T>, xStride: Int,
        _ panels: UnsafePointer<T>, rows: Int, k: Int, n: Int, backwards: Bool = false
    ) {
        if T.self == Float.self {
            FloatKernels.addRowsTimesPanels(
                float(out), outStride: outStride, float(x), xStride: xStride, float(panels), rows: rows, k: k, n: n,
                backwards: backwards)
            return
        }
        referenceAddRowsTimesPanels(out, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n)
    }

    /// One set of rows for `addRowSetsTimesPanels`: row r is `out + r·outStride` and `x + r·xStride`.
    public struct RowSet<T: Scalar> {
        public var out: UnsafeMutablePointer<T>
        public var outStride: Int
        public var x: UnsafePointer<T>
        public var xStride: Int
        public var rows: Int

        @inline(__always)
        public init(out: UnsafeMutablePointer<T>, outStride: Int, x: UnsafePointer<T>, xStride: Int, rows: Int) {
            self.out = out
            self.outStride = outStride
            self.x = x
            self.xStride = xStride
            self.rows = rows
        }
    }

    /// `addRowsTimesPanels` for the rows of `count` sets in different buffers (`set(i)`, nil for
    /// none), as one product: on the AVX-512 path each line of the panels is loaded once for up to
    /// twelve rows of any set (two shards' five sentences each read W_hh once per step, not twice).
    /// The same bits as one call per set.
    @inline(__always)
    public static func addRowSetsTimesPanels<T: Scalar>(
        count: Int, _ panels: UnsafePointer<T>, k: Int, n: Int, backwards: Bool = false, set: (Int) -> RowSet<T>?
    ) {
        guard T.self == Float.self, dissect_use_wide_vectors() != 0 else {
            for index in 0..<count {
                guard let rows = set(index) else { continue }
                addRowsTimesPanels(rows.out, outStride: rows.outStride, rows.x, xStride: rows.xStride, panels, rows: rows.rows, k: k, n: n, backwards: backwards)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: dissect_row_set.self, capacity: count) { sets in
            var used = 0
            for index in 0..<count {
                guard let rows = set(index), rows.rows > 0 else { continue }
                sets[used] = dissect_row_set(
                    out: float(rows.out), x: float(rows.x), outStride: rows.outStride, xStride: rows.xStride, rows: rows.rows)
                used += 1
            }
            dissect_add_row_sets_times_panels_avx512(sets.baseAddress, used, float(panels), k, n, backwards ? 1 : 0)
        }
    }

    /// The naive version of `addRowsTimesPanels` (also Double's).
    public static func referenceAddRowsTimesPanels<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, outStride: Int, _ x: UnsafePointer<T>, xStride: Int,
        _ panels: UnsafePointer<T>, rows: Int, k: Int, n: Int
    ) {
        for row in 0..<rows {
            for column in 0..<n {
                let panel = panels + (column / panelWidth) * k * panelWidth, lane = column % panelWidth
                var sum: T = 0
                for inner in 0..<k { sum += x[row * xStride + inner] * panel[inner * panelWidth + lane] }
                out[row * outStride + column] += sum
            }
        }
    }
}

extension FloatKernels {
    /// `Kernels.addRowsTimesPanels` with explicit SIMD: per panel, up to six rows at a
    /// time keep their 16 sums each in registers over all k (12 of the 16 AVX2
    /// registers at six rows) and share each 64-byte load of the panel, so a step
    /// of up to six sentences reads W_hh once. At LSTM 400 the 2.56 MB matrix does
    /// not fit the 1 MB L2 of this project's machine, and a step with few rows is bound by reading it;
    /// splitting five rows as four and one, as a first version did, read it twice.
    ///
    /// Every output element is one fused multiply-add chain over i = 0 … k−1 from
    /// zero, then added to `out`, whichever path computes it: a row's result does not
    /// depend on how many rows run beside it (the input projection, an OpenBLAS GEMM
    /// over the shard's tokens, makes no such promise). (A lone row keeps enough chains in flight by taking four panels at a
    /// time; more than one row never leaves a lone row behind.) Swift does not
    /// contract `a += s * m` by itself, hence `addProduct`. Shapes as `Kernels.addRowsTimesPanels`.
    public static func addRowsTimesPanels(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panels: UnsafePointer<Float>, rows: Int, k: Int, n: Int, backwards: Bool = false
    ) {
        if dissect_use_wide_vectors() != 0 {
            dissect_add_rows_times_panels_avx512(out, outStride, x, xStride, panels, rows, k, n, backwards ? 1 : 0)
            return
        }
        portableAddRowsTimesPanels(out, outStride: outStride, x, xStride: xStride, panels, rows: rows, k: k, n: n, backwards: backwards)
    }

    /// `addRowsTimesPanels` with AVX2 registers, on any x86-64 since Haswell (and the bits of the AVX-512 path).
    public static func portableAddRowsTimesPanels(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panels: UnsafePointer<Float>, rows: Int, k: Int, n: Int, backwards: Bool = false
    ) {
        let width = Kernels.panelWidth
        if rows == 1 {
            addRowTimesPanels(out, x, panels, k: k, n: n, backwards: backwards)
            return
        }
        let panelCount = (n + width - 1) / width
        for index in 0..<panelCount {
            let first = (backwards ? panelCount - 1 - index : index) * width
            let panel = panels + first * k
            let columns = min(width, n - first)
            var row = 0
            while row < rows {
                let o = out + row * outStride + first, xs = x + row * xStride
                // Seven rows as four and three, so no row is left alone.
                let count = rows - row == 7 ? 4 : min(6, rows - row)
                switch count {
                case 6: add6RowsTimesPanel(o, outStride: outStride, xs, xStride: xStride, panel, k: k, columns: columns)
                case 5: add5RowsTimesPanel(o, outStride: outStride, xs, xStride: xStride, panel, k: k, columns: columns)
                case 4: add4RowsTimesPanel(o, outStride: outStride, xs, xStride: xStride, panel, k: k, columns: columns)
                case 3: add3RowsTimesPanel(o, outStride: outStride, xs, xStride: xStride, panel, k: k, columns: columns)
                default: add2RowsTimesPanel(o, outStride: outStride, xs, xStride: xStride, panel, k: k, columns: columns)
                }
                row += count
            }
        }
    }

    /// One row × every panel: four panels at a time (eight chains in flight), then one
    /// (`backwards`: the single panels from the last, then the groups from the last).
    static func addRowTimesPanels(
        _ out: UnsafeMutablePointer<Float>, _ x0: UnsafePointer<Float>, _ panels: UnsafePointer<Float>, k: Int, n: Int,
        backwards: Bool
    ) {
        let width = Kernels.panelWidth, panelSize = k * width
        let groups = n / (4 * width), panelCount = (n + width - 1) / width
        if backwards {
            for index in stride(from: panelCount - 1, through: 4 * groups, by: -1) {
                addRowTimesPanel(out + index * width, x0, panels + index * panelSize, k: k, columns: min(width, n - index * width))
            }
            for group in stride(from: groups - 1, through: 0, by: -1) {
                addRowTimesFourPanels(out + group * 4 * width, x0, panels + group * 4 * panelSize, k: k)
            }
        } else {
            for group in 0..<groups {
                addRowTimesFourPanels(out + group * 4 * width, x0, panels + group * 4 * panelSize, k: k)
            }
            for index in (4 * groups)..<panelCount {
                addRowTimesPanel(out + index * width, x0, panels + index * panelSize, k: k, columns: min(width, n - index * width))
            }
        }
    }

    /// One row × four whole panels: out[0..<64] += Σ_i x[i] · panels[i, 0..<64].
    @inline(__always)
    static func addRowTimesFourPanels(
        _ out: UnsafeMutablePointer<Float>, _ x0: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, k: Int
    ) {
        let width = Kernels.panelWidth, panelSize = k * width, first = 0
        do {
            let p1 = panel + panelSize, p2 = p1 + panelSize, p3 = p2 + panelSize
            var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
            var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
            for inner in 0..<k {
                let s0 = SIMD8<Float>(repeating: x0[inner]), line = inner * 16
                a00.addProduct(s0, load(panel, line)); a01.addProduct(s0, load(panel, line + 8))
                a10.addProduct(s0, load(p1, line)); a11.addProduct(s0, load(p1, line + 8))
                a20.addProduct(s0, load(p2, line)); a21.addProduct(s0, load(p2, line + 8))
                a30.addProduct(s0, load(p3, line)); a31.addProduct(s0, load(p3, line + 8))
            }
            addPanel(a00, a01, to: out + first, columns: width)
            addPanel(a10, a11, to: out + first + width, columns: width)
            addPanel(a20, a21, to: out + first + 2 * width, columns: width)
            addPanel(a30, a31, to: out + first + 3 * width, columns: width)
        }
    }

    /// One row × one panel: out[0..<columns] += Σ_i x[i] · panel[i, 0..<columns].
    @inline(__always)
    static func addRowTimesPanel(
        _ out: UnsafeMutablePointer<Float>, _ x0: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        for inner in 0..<k {
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, load(panel, inner * 16)); a01.addProduct(s0, load(panel, inner * 16 + 8))
        }
        addPanel(a00, a01, to: out, columns: columns)
    }

    /// 6 rows × one panel: out[r, 0..<columns] += Σ_i x[r, i] · panel[i, 0..<16] for r in 0..<6.
    @inline(__always)
    static func add6RowsTimesPanel(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        let x0 = x + 0 * xStride, x1 = x + 1 * xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride, x4 = x + 4 * xStride, x5 = x + 5 * xStride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
        var a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        var a40 = SIMD8<Float>(), a41 = SIMD8<Float>()
        var a50 = SIMD8<Float>(), a51 = SIMD8<Float>()
        for inner in 0..<k {
            let m0 = load(panel, inner * 16), m1 = load(panel, inner * 16 + 8)
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, m0); a01.addProduct(s0, m1)
            let s1 = SIMD8<Float>(repeating: x1[inner])
            a10.addProduct(s1, m0); a11.addProduct(s1, m1)
            let s2 = SIMD8<Float>(repeating: x2[inner])
            a20.addProduct(s2, m0); a21.addProduct(s2, m1)
            let s3 = SIMD8<Float>(repeating: x3[inner])
            a30.addProduct(s3, m0); a31.addProduct(s3, m1)
            let s4 = SIMD8<Float>(repeating: x4[inner])
            a40.addProduct(s4, m0); a41.addProduct(s4, m1)
            let s5 = SIMD8<Float>(repeating: x5[inner])
            a50.addProduct(s5, m0); a51.addProduct(s5, m1)
        }
        addPanel(a00, a01, to: out + 0 * outStride, columns: columns)
        addPanel(a10, a11, to: out + 1 * outStride, columns: columns)
        addPanel(a20, a21, to: out + 2 * outStride, columns: columns)
        addPanel(a30, a31, to: out + 3 * outStride, columns: columns)
        addPanel(a40, a41, to: out + 4 * outStride, columns: columns)
        addPanel(a50, a51, to: out + 5 * outStride, columns: columns)
    }

    /// 5 rows × one panel: out[r, 0..<columns] += Σ_i x[r, i] · panel[i, 0..<16] for r in 0..<5.
    @inline(__always)
    static func add5RowsTimesPanel(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        let x0 = x + 0 * xStride, x1 = x + 1 * xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride, x4 = x + 4 * xStride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
        var a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        var a40 = SIMD8<Float>(), a41 = SIMD8<Float>()
        for inner in 0..<k {
            let m0 = load(panel, inner * 16), m1 = load(panel, inner * 16 + 8)
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, m0); a01.addProduct(s0, m1)
            let s1 = SIMD8<Float>(repeating: x1[inner])
            a10.addProduct(s1, m0); a11.addProduct(s1, m1)
            let s2 = SIMD8<Float>(repeating: x2[inner])
            a20.addProduct(s2, m0); a21.addProduct(s2, m1)
            let s3 = SIMD8<Float>(repeating: x3[inner])
            a30.addProduct(s3, m0); a31.addProduct(s3, m1)
            let s4 = SIMD8<Float>(repeating: x4[inner])
            a40.addProduct(s4, m0); a41.addProduct(s4, m1)
        }
        addPanel(a00, a01, to: out + 0 * outStride, columns: columns)
        addPanel(a10, a11, to: out + 1 * outStride, columns: columns)
        addPanel(a20, a21, to: out + 2 * outStride, columns: columns)
        addPanel(a30, a31, to: out + 3 * outStride, columns: columns)
        addPanel(a40, a41, to: out + 4 * outStride, columns: columns)
    }

    /// 4 rows × one panel: out[r, 0..<columns] += Σ_i x[r, i] · panel[i, 0..<16] for r in 0..<4.
    @inline(__always)
    static func add4RowsTimesPanel(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        let x0 = x + 0 * xStride, x1 = x + 1 * xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
        var a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        for inner in 0..<k {
            let m0 = load(panel, inner * 16), m1 = load(panel, inner * 16 + 8)
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, m0); a01.addProduct(s0, m1)
            let s1 = SIMD8<Float>(repeating: x1[inner])
            a10.addProduct(s1, m0); a11.addProduct(s1, m1)
            let s2 = SIMD8<Float>(repeating: x2[inner])
            a20.addProduct(s2, m0); a21.addProduct(s2, m1)
            let s3 = SIMD8<Float>(repeating: x3[inner])
            a30.addProduct(s3, m0); a31.addProduct(s3, m1)
        }
        addPanel(a00, a01, to: out + 0 * outStride, columns: columns)
        addPanel(a10, a11, to: out + 1 * outStride, columns: columns)
        addPanel(a20, a21, to: out + 2 * outStride, columns: columns)
        addPanel(a30, a31, to: out + 3 * outStride, columns: columns)
    }

    /// 3 rows × one panel: out[r, 0..<columns] += Σ_i x[r, i] · panel[i, 0..<16] for r in 0..<3.
    @inline(__always)
    static func add3RowsTimesPanel(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        let x0 = x + 0 * xStride, x1 = x + 1 * xStride, x2 = x + 2 * xStride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
        for inner in 0..<k {
            let m0 = load(panel, inner * 16), m1 = load(panel, inner * 16 + 8)
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, m0); a01.addProduct(s0, m1)
            let s1 = SIMD8<Float>(repeating: x1[inner])
            a10.addProduct(s1, m0); a11.addProduct(s1, m1)
            let s2 = SIMD8<Float>(repeating: x2[inner])
            a20.addProduct(s2, m0); a21.addProduct(s2, m1)
        }
        addPanel(a00, a01, to: out + 0 * outStride, columns: columns)
        addPanel(a10, a11, to: out + 1 * outStride, columns: columns)
        addPanel(a20, a21, to: out + 2 * outStride, columns: columns)
    }

    /// 2 rows × one panel: out[r, 0..<columns] += Σ_i x[r, i] · panel[i, 0..<16] for r in 0..<2.
    @inline(__always)
    static func add2RowsTimesPanel(
        _ out: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, xStride: Int,
        _ panel: UnsafePointer<Float>, k: Int, columns: Int
    ) {
        let x0 = x + 0 * xStride, x1 = x + 1 * xStride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        for inner in 0..<k {
            let m0 = load(panel, inner * 16), m1 = load(panel, inner * 16 + 8)
            let s0 = SIMD8<Float>(repeating: x0[inner])
            a00.addProduct(s0, m0); a01.addProduct(s0, m1)
            let s1 = SIMD8<Float>(repeating: x1[inner])
            a10.addProduct(s1, m0); a11.addProduct(s1, m1)
        }
        addPanel(a00, a01, to: out + 0 * outStride, columns: columns)
        addPanel(a10, a11, to: out + 1 * outStride, columns: columns)
    }

    /// Adds a panel's 16 sums to `columns` (≤ 16) values at `out`.
    @inline(__always)
    static func addPanel(_ low: SIMD8<Float>, _ high: SIMD8<Float>, to out: UnsafeMutablePointer<Float>, columns: Int) {
        if columns == 16 {
            store(load(out, 0) + low, out, 0)
            store(load(out, 8) + high, out, 8)
        } else {
            for lane in 0..<columns { out[lane] += lane < 8 ? low[lane] : high[lane - 8] }
        }
    }
}
