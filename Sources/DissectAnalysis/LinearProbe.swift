import DissectCore
import Foundation

/// Dalvi et al. (2019)'s linear probe: a multinomial (softmax) logistic regression
/// on standardised activations with an elastic-net penalty,
///
///     J(W, b) = (1/T) Σ_t −log softmax(W x_t + b)[y_t] + λ2·‖W‖₂² + λ1·‖W‖₁,
///
/// over the T tokens whose gold label the model knows, x_t = (h(t) − μ) / σ
/// z-scored per neuron (σ = 0 gives x = 0). Trained by proximal gradient
/// descent (ISTA): W, b start at 0, full batch, a fixed number of iterations,
/// step 1/L with L = ½·(‖X‖_F²/T + 1) + 2λ2 (an upper bound on the smooth
/// part's Lipschitz constant); the bias is not penalised. Every step:
/// gradient of the smooth part, then soft-thresholding of W by step·λ1.
/// The matrix products go through `BLAS.gemm` in Double.
public struct LinearProbe: Sendable {
    public struct Parameters: Codable, Sendable, Equatable {
        public var l1: Double
        public var l2: Double
        public var iterations: Int
        public init(l1: Double = 1e-3, l2: Double = 1e-3, iterations: Int = 200) {
            self.l1 = l1
            self.l2 = l2
            self.iterations = iterations
        }
    }

    public let parameters: Parameters
    /// `[m, n]`, row-major.
    public let weight: [Double]
    public let bias: [Double]
    public let labels: Int
    public let neurons: Int
    public let step: Double
    /// Share of the training tokens whose arg-max class is their gold label.
    public let trainingAccuracy: Double
    public let trainingTokens: Int

    /// Standardises `features` (`[N, n]` token-major) column by column: (x − mean) / population sd, 0 when sd = 0.
    public static func standardise(_ features: [Double], tokens N: Int, neurons n: Int) -> [Double] {
        var mean = [Double](repeating: 0, count: n), square = [Double](repeating: 0, count: n)
        for t in 0..<N { for i in 0..<n { mean[i] += features[t * n + i] } }
        for i in 0..<n { mean[i] /= Double(max(1, N)) }
        for t in 0..<N { for i in 0..<n { let d = features[t * n + i] - mean[i]; square[i] += d * d } }
        let sd = square.map { ($0 / Double(max(1, N))).squareRoot() }
        var out = features
        for t in 0..<N { for i in 0..<n { out[t * n + i] = sd[i] > 0 ? (features[t * n + i] - mean[i]) / sd[i] : 0 } }
        return out
    }

    /// The smooth part (1/T)·Σ −log p[y] + λ2‖W‖² and its gradient, for `x` `[T, n]` and `y` in 0..<m.
    public static func smoothLossAndGradient(
        weight: [Double], bias: [Double], x: [Double], y: [Int], labels m: Int, neurons n: Int, l2: Double
    ) -> (loss: Double, weight: [Double], bias: [Double]) {
        let T = y.count
        var scores = [Double](repeating: 0, count: T * m)
        // scores[T, m] = X[T, n] · Wᵀ
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                scores.withUnsafeMutableBufferPointer { sp in
                    BLAS.gemm(
                        transposeB: true, m: T, n: m, k: n, a: xp.baseAddress!, lda: n, b: wp.baseAddress!, ldb: n,
                        c: sp.baseAddress!, ldc: m)
                }
            }
        }
        var loss = 0.0
        var gradientBias = [Double](repeating: 0, count: m)
        let scale = 1 / Double(max(1, T))
        for t in 0..<T {
            let row = t * m
            var top = -Double.infinity
            for j in 0..<m { scores[row + j] += bias[j]; top = max(top, scores[row + j]) }
            var total = 0.0
            for j in 0..<m { total += exp(scores[row + j] - top) }
            let logTotal = log(total) + top
            loss -= scores[row + y[t]] - logTotal
            for j in 0..<m {
                // scores become (p − onehot) / T, the gradient of the scores.
                let p = exp(scores[row + j] - logTotal)
                scores[row + j] = (p - (j == y[t] ? 1 : 0)) * scale
                gradientBias[j] += scores[row + j]
            }
        }
        loss *= scale
        var gradientWeight = weight.map { 2 * l2 * $0 }
        // gW[m, n] += Dᵀ[m, T] · X[T, n]
        scores.withUnsafeBufferPointer { dp in
            x.withUnsafeBufferPointer { xp in
                gradientWeight.withUnsafeMutableBufferPointer { gp in
                    BLAS.gemm(
                        transposeA: true, m: m, n: n, k: T, a: dp.baseAddress!, lda: m, b: xp.baseAddress!, ldb: n,
                        beta: 1, c: gp.baseAddress!, ldc: n)
                }
            }
        }
        for value in weight { loss += l2 * value * value }
        return (loss, gradientWeight, gradientBias)
    }

    /// Trains on standardised `x` (`[T, n]`) with classes `y` in 0..<m (T ≥ 1).
    public init(x: [Double], y: [Int], labels m: Int, neurons n: Int, parameters: Parameters = Parameters()) {
        self.parameters = parameters
        labels = m
        neurons = n
        let T = y.count
        trainingTokens = T
        var squares = 0.0
        for value in x { squares += value * value }
        step = 1 / (0.5 * (squares / Double(max(1, T)) + 1) + 2 * parameters.l2)
        var w = [Double](repeating: 0, count: m * n), b = [Double](repeating: 0, count: m)
        let threshold = step * parameters.l1
        for _ in 0..<max(0, parameters.iterations) {
            let g = Self.smoothLossAndGradient(weight: w, bias: b, x: x, y: y, labels: m, neurons: n, l2: parameters.l2)
            for index in w.indices {
                let moved = w[index] - step * g.weight[index]
                w[index] = moved > threshold ? moved - threshold : (moved < -threshold ? moved + threshold : 0)
            }
            for j in 0..<m { b[j] -= step * g.bias[j] }
        }
        weight = w
        bias = b
        var correct = 0
        for t in 0..<T {
            var best = 0, bestScore = -Double.infinity
            for j in 0..<m {
                var score = b[j]
                for i in 0..<n { score += w[j * n + i] * x[t * n + i] }
                if score > bestScore { best = j; bestScore = score }
            }
            if best == y[t] { correct += 1 }
        }
        trainingAccuracy = T > 0 ? Double(correct) / Double(T) : .nan
    }

    /// |W[j, i]| for label j, one per neuron.
    public func scores(label j: Int) -> [Double] { (0..<neurons).map { abs(weight[j * neurons + $0]) } }

    /// Σ_j |W[j, i]|, one per neuron.
    public var overallScores: [Double] {
        (0..<neurons).map { i in (0..<labels).reduce(0) { $0 + abs(weight[$1 * neurons + i]) } }
    }
}
