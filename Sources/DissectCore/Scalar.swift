import Foundation

/// A floating-point type the kernels can run on: `Float` for training and
/// inference, `Double` for finite-difference gradient checks.
///
/// Every kernel in the project is generic over `Scalar`, so the code that is
/// checked in Double is the very code that trains in Float.
public protocol Scalar: BinaryFloatingPoint, Sendable, Codable
where Self.RawSignificand: FixedWidthInteger {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self

    /// Row-major general matrix multiply through OpenBLAS
    /// (`cblas_sgemm` / `cblas_dgemm`); see `BLAS.gemm` for the contract.
    static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Scalar {
    /// The logistic function 1 / (1 + e^-x), written so that it never
    /// overflows: for x < 0 it is e^x / (1 + e^x).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Self) -> Self {
        if x >= 0 {
            return 1 / (1 + exp(-x))
        }
        let e = exp(x)
        return e / (1 + e)
    }
}

extension Float: Scalar {
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }

    public static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASBridge.sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

extension Double: Scalar {
    @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }

    public static func blasGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLASBridge.dgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}
