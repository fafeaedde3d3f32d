import DissectCore

/// Small per-step products written by hand: at hidden size 50 a BLAS call
/// costs more in overhead than its 10k multiply-adds.
enum Kernels {
    /// `out[0..<n] += Σ_k x[k] · matrix[k, 0..<n]` — a vector times a row-major
    /// `[k, n]` matrix, written as `k` axpys so the inner loop vectorises
    /// without reassociating a reduction.
    @_specialize(where T == Float)
    @inline(__always)
    static func addVectorTimesMatrix<T: Scalar>(
        _ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ matrix: UnsafePointer<T>, k: Int, n: Int
    ) {
        if T.self == Float.self {
            FloatKernels.addVectorTimesMatrix(
                UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self),
                UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                UnsafeRawPointer(matrix).assumingMemoryBound(to: Float.self), k: k, n: n)
            return
        }
        referenceAddVectorTimesMatrix(out, x, matrix, k: k, n: n)
    }

    /// The naive version of `addVectorTimesMatrix`, kept for tests and Double.
    @_specialize(where T == Float)
    static func referenceAddVectorTimesMatrix<T: Scalar>(
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
    static func axpy<T: Scalar>(_ out: UnsafeMutablePointer<T>, _ scale: T, _ x: UnsafePointer<T>, _ n: Int) {
        for index in 0..<n { out[index] += scale * x[index] }
    }

    /// Transposes a row-major `[rows, columns]` matrix into `[columns, rows]`.
    @_specialize(where T == Float)
    static func transpose<T: Scalar>(_ source: UnsafePointer<T>, rows: Int, columns: Int, into target: UnsafeMutablePointer<T>) {
        for row in 0..<rows {
            for column in 0..<columns { target[column * rows + row] = source[row * columns + column] }
        }
    }
}

/// Float-only fast paths with explicit SIMD, checked against the generic
/// reference loops in the tests.
enum FloatKernels {
    static func addVectorTimesMatrix(
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
