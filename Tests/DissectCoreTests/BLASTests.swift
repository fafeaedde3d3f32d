import Foundation
import Testing
@testable import DissectCore

@Suite struct BLASTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesReference(transposeA: Bool, transposeB: Bool) {
        var rng = SplitMix64(seed: 7)
        let m = 5, n = 7, k = 3
        let a = (0..<(m * k)).map { _ in Double(rng.uniform(-1, 1)) }
        let b = (0..<(k * n)).map { _ in Double(rng.uniform(-1, 1)) }
        var fast = (0..<(m * n)).map { _ in Double(rng.uniform(-1, 1)) }
        var slow = fast
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &fast, ldc: n)
        ReferenceBLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &slow, ldc: n)
        for index in 0..<(m * n) {
            #expect(abs(fast[index] - slow[index]) < 1e-12, "element \(index)")
        }
    }

    @Test func floatGemmMatchesReference() {
        var rng = SplitMix64(seed: 11)
        let m = 33, n = 17, k = 50
        let a = (0..<(m * k)).map { _ in Float(rng.uniform(-1, 1)) }
        let b = (0..<(n * k)).map { _ in Float(rng.uniform(-1, 1)) }
        var fast = [Float](repeating: 0, count: m * n)
        var slow = fast
        BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &fast, ldc: n)
        ReferenceBLAS.gemm(transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &slow, ldc: n)
        for index in 0..<(m * n) { #expect(abs(fast[index] - slow[index]) < 1e-4) }
    }

    @Test func splitMixIsReproducible() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        for _ in 0..<100 { #expect(first.next() == second.next()) }
        // Known first output of SplitMix64 with seed 0 (reference implementation).
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        var bounded = SplitMix64(seed: 3)
        for _ in 0..<1000 { let value = bounded.nextIndex(below: 7); #expect(value >= 0 && value < 7) }
    }
}

/// Which OpenBLAS kernels dissect asks for when OpenBLAS fell back to its generic ones.
@Suite struct BLASCoreTests {
    static let avx512: Set<String> = ["fpu", "sse3", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]

    @Test func fallbackIsReplacedByTheWidestKernelsTheCPUHas() {
        #expect(BLAS.preferredCore(current: "Prescott", cpuFlags: Self.avx512) == "SkylakeX")
        #expect(BLAS.preferredCore(current: "Prescott", cpuFlags: ["sse3", "avx", "avx2", "fma"]) == "Haswell")
        // AVX-512 without BW/DQ/VL (Knights Landing) is not SkylakeX.
        #expect(BLAS.preferredCore(current: "Prescott", cpuFlags: ["avx2", "fma", "avx512f", "avx512cd"]) == "Haswell")
        #expect(BLAS.preferredCore(current: "Prescott", cpuFlags: ["sse3", "avx"]) == nil)
    }

    @Test func aCoreOpenBLASRecognisedIsKept() {
        for core in ["SkylakeX", "Haswell", "Zen", "Cooperlake", "NEOVERSEN1"] {
            #expect(BLAS.preferredCore(current: core, cpuFlags: Self.avx512) == nil, "\(core)")
        }
    }

    @Test func cpuinfoFlagsAreRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: fpu\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(BLAS.cpuFlags(cpuinfo: path) == ["fpu", "avx2", "fma", "avx512f"])
        #expect(BLAS.cpuFlags(cpuinfo: path + "-missing").isEmpty)
        #expect(!BLAS.coreName.isEmpty)
    }
}
