import DissectCore

/// Column-centred activations in Double, token-major `[N, p]`.
public struct CentredActivations: Sendable {
    public let tokenCount: Int
    public let width: Int
    /// `[N, p]`, each column minus its mean.
    public let values: [Double]

    /// - Parameters: activations `[N, p]` token-major (N ≥ 0, p ≥ 0, `activations.count == N·p`).
    public init(_ activations: [Float], tokens: Int, width: Int) {
        self.init(activations.map(Double.init), tokens: tokens, width: width)
    }

    public init(_ activations: [Double], tokens: Int, width: Int) {
        precondition(activations.count == tokens * width, "activations are not [\(tokens), \(width)]")
        tokenCount = tokens
        self.width = width
        var means = [Double](repeating: 0, count: width)
        for token in 0..<tokens {
            for column in 0..<width { means[column] += activations[token * width + column] }
        }
        if tokens > 0 { for column in 0..<width { means[column] /= Double(tokens) } }
        var centred = activations
        for token in 0..<tokens {
            for column in 0..<width { centred[token * width + column] -= means[column] }
        }
        values = centred
    }

    /// `selfᵀ other`, `[p, q]`, through BLAS dgemm (Double accumulation).
    public func crossProduct(_ other: CentredActivations) -> [Double] {
        precondition(tokenCount == other.tokenCount, "both sets must cover the same tokens")
        var result = [Double](repeating: 0, count: width * other.width)
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    guard let aBase = a.baseAddress, let bBase = b.baseAddress, let cBase = c.baseAddress else { return }
                    BLAS.gemm(
                        transposeA: true, m: width, n: other.width, k: tokenCount,
                        a: aBase, lda: max(1, width), b: bBase, ldb: max(1, other.width), c: cBase, ldc: max(1, other.width))
                }
            }
        }
        return result
    }

    /// Sum of squares of each centred column, `[p]`.
    public var columnSumsOfSquares: [Double] {
        var sums = [Double](repeating: 0, count: width)
        for token in 0..<tokenCount {
            for column in 0..<width {
                let value = values[token * width + column]
                sums[column] += value * value
            }
        }
        return sums
    }
}

/// The eigendecomposition of a real symmetric matrix by the cyclic Jacobi method.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, descending.
    public let values: [Double]
    /// `[n, n]` row-major; column k is the unit eigenvector of `values[k]`, its
    /// largest-|·| entry made positive (the first such on ties), so the result is deterministic.
    public let vectors: [Double]
    public let size: Int

    /// - Parameters: matrix `[n, n]` row-major, symmetric (only its upper triangle is trusted; n ≥ 0).
    ///   Sweeps rotate every off-diagonal pair (p, q) to zero until the off-diagonal
    ///   Frobenius norm is below 1e-15 × the matrix's, or 100 sweeps.
    public init(symmetric matrix: [Double], size n: Int) {
        precondition(matrix.count == n * n, "the matrix is not \(n) × \(n)")
        size = n
        var a = matrix
        for row in 0..<n { for column in 0..<row { a[row * n + column] = a[column * n + row] } }
        var v = [Double](repeating: 0, count: n * n)
        for index in 0..<n { v[index * n + index] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += 2 * a[p * n + q] * a[p * n + q] } }
            if off.squareRoot() <= 1e-15 * total || off == 0 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] != a[$1 * n + $1] ? a[$0 * n + $0] > a[$1 * n + $1] : $0 < $1 }
        values = order.map { a[$0 * n + $0] }
        var sorted = [Double](repeating: 0, count: n * n)
        for (position, source) in order.enumerated() {
            var largest = 0
            for k in 0..<n where abs(v[k * n + source]) > abs(v[largest * n + source]) { largest = k }
            let sign: Double = n > 0 && v[largest * n + source] < 0 ? -1 : 1
            for k in 0..<n { sorted[k * n + position] = sign * v[k * n + source] }
        }
        vectors = sorted
    }
}

/// Representational similarity of two sets of activations over the same tokens.
public enum Similarity {
    /// Linear CKA (Kornblith et al. 2019) of column-centred X `[N, p]` and Y `[N, q]`:
    /// ‖YᵀX‖_F² / (‖XᵀX‖_F · ‖YᵀY‖_F), in [0, 1]; nil when either set is constant (a zero Gram matrix).
    /// The Gram matrices are taken with BLAS dgemm.
    public static func linearCKA(_ x: CentredActivations, _ y: CentredActivations) -> Double? {
        let cross = frobeniusSquared(x.crossProduct(y))
        let xx = frobeniusSquared(x.crossProduct(x)).squareRoot(), yy = frobeniusSquared(y.crossProduct(y)).squareRoot()
        guard xx > 0, yy > 0 else { return nil }
        return min(1, max(0, cross / (xx * yy)))
    }

    static func frobeniusSquared(_ matrix: [Double]) -> Double { matrix.reduce(0) { $0 + $1 * $1 } }

    /// SVCCA's share of the variance the kept directions must explain.
    public static let varianceShare = 0.99
    /// Eigenvalues at or below this times the largest are dropped as rank deficiency.
    public static let rankTolerance = 1e-10

    /// The rule SVCCA uses, for outputs.
    public static let svccaRule = "SVCCA keeps, per model, the fewest top eigen-directions of the centred activations' covariance whose eigenvalues sum to at least 99 % of the total (eigenvalues at or below 1e-10 × the largest are dropped first), whitens each reduced set, and averages the canonical correlations (the singular values of Qxᵀ Qy)"

    /// A model's SVD step: the top directions of its covariance C = XᵀX / (N − 1), `[p, p]`.
    public struct Reduction: Sendable {
        /// The kept eigenvalues λ_1 ≥ … ≥ λ_k > 0.
        public let eigenvalues: [Double]
        /// `[p, k]` row-major: the kept eigenvectors.
        public let directions: [Double]
        public let width: Int
        public var kept: Int { eigenvalues.count }
    }

    /// - Parameters: x centred `[N, p]`, N ≥ 2.
    /// - Returns: the fewest k such that λ_1 + … + λ_k ≥ 0.99 · Σλ over eigenvalues above 1e-10 · λ_1.
    public static func reduction(_ x: CentredActivations) -> Reduction {
        let p = x.width
        let scale = 1 / Double(max(1, x.tokenCount - 1))
        let covariance = x.crossProduct(x).map { $0 * scale }
        let eigen = SymmetricEigen(symmetric: covariance, size: p)
        let largest = eigen.values.first ?? 0
        let usable = eigen.values.filter { largest > 0 && $0 > rankTolerance * largest }
        let total = usable.reduce(0, +)
        var kept = 0, sum = 0.0
        while kept < usable.count && sum < varianceShare * total {
            sum += usable[kept]
            kept += 1
        }
        var directions = [Double](repeating: 0, count: p * kept)
        for row in 0..<p { for column in 0..<kept { directions[row * kept + column] = eigen.vectors[row * p + column] } }
        return Reduction(eigenvalues: Array(usable.prefix(kept)), directions: directions, width: p)
    }

    /// SVCCA (Raghu et al. 2017) of X `[N, p]` and Y `[N, q]` with their reductions:
    /// with Qx = X Vx Λx^(−1/2) / √(N − 1) (orthonormal columns: the reduced covariance Vxᵀ C Vx = Λx is
    /// already diagonal, so its eigendecomposition whitens by Λx^(−1/2)), the canonical correlations are the
    /// singular values of Qxᵀ Qy = Λx^(−1/2) Vxᵀ (XᵀY / (N − 1)) Vy Λy^(−1/2), min(kx, ky) of them, descending.
    /// - Returns: the correlations (each in [0, 1]); empty when either set is constant.
    public static func canonicalCorrelations(
        _ x: CentredActivations, _ reducedX: Reduction, _ y: CentredActivations, _ reducedY: Reduction
    ) -> [Double] {
        let kx = reducedX.kept, ky = reducedY.kept, p = x.width, q = y.width
        guard kx > 0, ky > 0 else { return [] }
        let scale = 1 / Double(max(1, x.tokenCount - 1))
        let cross = x.crossProduct(y)  // [p, q]
        // left = Vxᵀ cross, [kx, q]
        var left = [Double](repeating: 0, count: kx * q)
        for a in 0..<kx {
            for row in 0..<p {
                let weight = reducedX.directions[row * kx + a]
                if weight == 0 { continue }
                for column in 0..<q { left[a * q + column] += weight * cross[row * q + column] }
            }
        }
        // m = left Vy scaled, [kx, ky]
        var m = [Double](repeating: 0, count: kx * ky)
        for a in 0..<kx {
            for b in 0..<ky {
                var sum = 0.0
                for column in 0..<q { sum += left[a * q + column] * reducedY.directions[column * ky + b] }
                m[a * ky + b] = sum * scale / (reducedX.eigenvalues[a] * reducedY.eigenvalues[b]).squareRoot()
            }
        }
        // Singular values: square roots of the eigenvalues of m mᵀ, [kx, kx].
        var gram = [Double](repeating: 0, count: kx * kx)
        for a in 0..<kx {
            for b in a..<kx {
                var sum = 0.0
                for c in 0..<ky { sum += m[a * ky + c] * m[b * ky + c] }
                gram[a * kx + b] = sum
                gram[b * kx + a] = sum
            }
        }
        let eigen = SymmetricEigen(symmetric: gram, size: kx)
        return eigen.values.prefix(min(kx, ky)).map { min(1, max(0, $0).squareRoot()) }
    }

    /// SVCCA similarity: the mean canonical correlation; nil when either set is constant.
    public static func svcca(_ x: CentredActivations, _ reducedX: Reduction, _ y: CentredActivations, _ reducedY: Reduction) -> Double? {
        let correlations = canonicalCorrelations(x, reducedX, y, reducedY)
        guard !correlations.isEmpty else { return nil }
        return correlations.reduce(0, +) / Double(correlations.count)
    }
}
