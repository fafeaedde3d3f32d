import COpenBLAS
import Foundation

/// The one door to OpenBLAS. Everything that multiplies matrices goes through
/// `BLAS.gemm`; `ReferenceBLAS.gemm` is the naive loop it is tested against.
public enum BLAS {
    /// Row-major `C = alpha * op(A) * op(B) + beta * C`.
    ///
    /// - Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`.
    ///   `A` is stored `[m, lda]` (or `[k, lda]` when `transposeA`), `B` is
    ///   stored `[k, ldb]` (or `[n, ldb]` when `transposeB`), `C` is `[m, ldc]`.
    /// - `m`, `n`, `k` ≥ 0; a zero dimension is a no-op apart from scaling `C` by `beta`.
    @inlinable
    public static func gemm<T: Scalar>(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: T = 1, a: UnsafePointer<T>, lda: Int,
        b: UnsafePointer<T>, ldb: Int,
        beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for row in 0..<m {
                for column in 0..<n { c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column] }
            }
            return
        }
        T.blasGemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Sets how many threads OpenBLAS itself may use. dissect parallelises
    /// over sentences, so it keeps OpenBLAS to one thread per call.
    ///
    /// At one thread it also stops the threads OpenBLAS started when it was loaded: they
    /// wait for work calling `sched_yield` for about 2²⁸ cycles before they sleep, and
    /// on a 2-core machine that took a quarter of the CPU time of a whole `dissect evaluate`
    /// (measured with `perf`) from the thread that tags the second half of the sentences.
    /// OpenBLAS starts them again by itself if a later call asks for more threads.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
        if count <= 1, let shutdown = serverShutdown { _ = shutdown() }
    }

    /// OpenBLAS's `blas_thread_shutdown_` where the library has one (its pthread build; not
    /// in `cblas.h`, so looked up rather than linked).
    private static var serverShutdown: (@convention(c) () -> Int32)? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)
    }

    /// The kernel family OpenBLAS chose when it was loaded (`openblas_get_corename`), e.g. "SkylakeX".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The kernels to ask OpenBLAS for (through `OPENBLAS_CORETYPE`) when it
    /// fell back to its generic "Prescott" (SSE3) ones on a CPU it does not
    /// know: Debian's OpenBLAS 0.3.21 does that on this project's benchmark
    /// machine, whose AVX-512 kernels multiply 7× faster (README, "Results").
    /// SkylakeX needs AVX-512 F, BW, DQ and VL; Haswell needs AVX2 and FMA.
    /// - Parameters: current is `coreName`; cpuFlags the `flags` of /proc/cpuinfo.
    /// - Returns: nil when OpenBLAS chose a specific core, or the CPU has neither set.
    ///   The flags are read only when OpenBLAS did fall back, so a start-up elsewhere reads no file.
    public static func preferredCore(current: String, cpuFlags: @autoclosure () -> Set<String>) -> String? {
        guard current.lowercased() == "prescott" else { return nil }
        let flags = cpuFlags()
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The first `flags` line of /proc/cpuinfo, as a set (empty where there is none).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }
}

/// Naive loops with the same contract as `BLAS.gemm`, for tests.
public enum ReferenceBLAS {
    public static func gemm<T: Scalar>(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: T = 1, a: UnsafePointer<T>, lda: Int,
        b: UnsafePointer<T>, ldb: Int,
        beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        for row in 0..<m {
            for column in 0..<n {
                var sum: T = 0
                for inner in 0..<k {
                    let av = transposeA ? a[inner * lda + row] : a[row * lda + inner]
                    let bv = transposeB ? b[column * ldb + inner] : b[inner * ldb + column]
                    sum += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[row * ldc + column]
                c[row * ldc + column] = alpha * sum + old
            }
        }
    }
}

/// Thin typed calls into CBLAS; kept apart so the generic code above never
/// sees C enums.
public enum BLASBridge {
    public static func sgemm(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func dgemm(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
        _ b: UnsafePointer<Double>, _ ldb: Int,
        _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
