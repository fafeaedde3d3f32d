import DissectCore

/// The sentence-level bootstrap of an ablation curve's accuracies (`CurveBand`).
///
/// Resample b draws S sentences of the data uniformly with replacement
/// (SplitMix64(seed, stream 'BAND', b)), which gives a multiplicity w_bs per
/// sentence s (Σ_s w_bs = S). At each k and for each accuracy key
/// ("all", "others", each label):
///
///     accuracy_b(k, key) = Σ_s w_bs·correct_s(k, key) / Σ_s w_bs·total_s(key)
///
/// and the band is the 2.5th and 97.5th percentile of accuracy_b over b
/// (linear interpolation, as numpy). The same B multiplicity vectors serve
/// every k, key and curve, so a band is one coherent set of resampled test
/// sets. Both sums are one GEMM each over integer counts, exact in Double.
/// A resample that holds no token of a key (Σ w·total = 0) has no accuracy
/// for it and is left out of that key's percentiles; a key no resample holds
/// gets NaN (null in JSON). F1 gets no band: `ChunkScorer` counts entities
/// over the whole file, not per sentence.
struct CurveBootstrap {
    /// B ≥ 1.
    let resamples: Int
    /// S, the data's sentences.
    let sentences: Int
    /// w, `[B, S]`.
    let weights: [Double]

    static let stream: UInt64 = 0x4241_4E44
    /// The coverage of the 2.5th–97.5th percentile band.
    static let level = 0.95

    init(resamples: Int, sentences: Int, seed: UInt64) {
        self.resamples = resamples
        self.sentences = sentences
        var weights = [Double](repeating: 0, count: resamples * sentences)
        if sentences > 0 {
            for resample in 0..<resamples {
                var generator = SplitMix64(seed: seed, stream: Self.stream, UInt64(resample))
                for _ in 0..<sentences { weights[resample * sentences + generator.nextIndex(below: sentences)] += 1 }
            }
        }
        self.weights = weights
    }

    /// The band of one curve.
    /// - Parameters:
    ///   - keys: the accuracy keys, K' of them.
    ///   - correct: `[points · K'][S]`: per k (outer) and key, each sentence's correctly predicted tokens.
    ///   - totals: `[K'][S]`: each sentence's tokens per key.
    func band(keys: [String], correct: [Double], totals: [Double]) -> CurveBand {
        let B = resamples, S = sentences, keyCount = keys.count
        let rows = S > 0 && keyCount > 0 ? correct.count / S : 0
        let points = keyCount > 0 ? rows / keyCount : 0
        var lower: [String: [Double]] = [:], upper: [String: [Double]] = [:]
        for key in keys {
            lower[key] = []
            upper[key] = []
        }
        guard points > 0, B > 0 else {
            return CurveBand(resamples: B, level: Self.level, lower: lower, upper: upper)
        }
        // Resampled sums: numerators [B, rows], denominators [B, K'].
        var numerators = [Double](repeating: 0, count: B * rows)
        var denominators = [Double](repeating: 0, count: B * keyCount)
        BLAS.gemm(transposeB: true, m: B, n: rows, k: S, a: weights, lda: S, b: correct, ldb: S, c: &numerators, ldc: rows)
        BLAS.gemm(transposeB: true, m: B, n: keyCount, k: S, a: weights, lda: S, b: totals, ldb: S, c: &denominators, ldc: keyCount)
        var values: [Double] = []
        values.reserveCapacity(B)
        for k in 0..<points {
            for (index, key) in keys.enumerated() {
                values.removeAll(keepingCapacity: true)
                for resample in 0..<B {
                    let denominator = denominators[resample * keyCount + index]
                    if denominator > 0 { values.append(numerators[resample * rows + k * keyCount + index] / denominator) }
                }
                lower[key]?.append(Statistics.percentile(values, 2.5))
                upper[key]?.append(Statistics.percentile(values, 97.5))
            }
        }
        return CurveBand(resamples: B, level: Self.level, lower: lower, upper: upper)
    }
}
