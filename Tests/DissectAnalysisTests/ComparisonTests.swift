import Foundation
import Testing
import DissectCore
@testable import DissectAnalysis

/// Deterministic Gaussian-ish numbers for the comparison tests (DissectCore's SplitMix64 + Box–Muller).
struct ComparisonRandom {
    var generator: SplitMix64
    init(state: UInt64) { generator = SplitMix64(seed: state) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    mutating func matrix(_ rows: Int, _ columns: Int) -> [Double] { (0..<(rows * columns)).map { _ in normal() } }
}

/// `[r, k] × [k, c]` row-major.
func multiply(_ a: [Double], _ b: [Double], _ r: Int, _ k: Int, _ c: Int) -> [Double] {
    var out = [Double](repeating: 0, count: r * c)
    for i in 0..<r { for j in 0..<c { for l in 0..<k { out[i * c + j] += a[i * k + l] * b[l * c + j] } } }
    return out
}

/// A random orthogonal p × p matrix: the eigenvectors of a random symmetric one.
func randomOrthogonal(_ p: Int, _ random: inout ComparisonRandom) -> [Double] {
    let m = random.matrix(p, p)
    var symmetric = [Double](repeating: 0, count: p * p)
    for i in 0..<p { for j in 0..<p { symmetric[i * p + j] = m[i * p + j] + m[j * p + i] } }
    return SymmetricEigen(symmetric: symmetric, size: p).vectors
}

@Suite struct SimilarityTests {
    let tokens = 500, width = 6
    func activations(_ seed: UInt64) -> [Double] {
        var random = ComparisonRandom(state: seed)
        let raw = random.matrix(tokens, width)
        // Unequal column scales so SVCCA's 99 % rule keeps every direction but they differ.
        return raw.enumerated().map { $0.element * [3.0, 2, 1.5, 1, 0.7, 0.5][$0.offset % width] + 0.3 }
    }

    @Test func ckaIsOneForRotationAndScaling() throws {
        var random = ComparisonRandom(state: 3)
        let x = activations(1)
        let rotated = multiply(x, randomOrthogonal(width, &random), tokens, width, width)
        let cx = CentredActivations(x, tokens: tokens, width: width)
        for other in [x, rotated, x.map { $0 * 4.5 }] {
            let value = try #require(Similarity.linearCKA(cx, CentredActivations(other, tokens: tokens, width: width)))
            #expect(abs(value - 1) < 1e-9)
            let svcca = try #require(Similarity.svcca(
                cx, Similarity.reduction(cx), CentredActivations(other, tokens: tokens, width: width),
                Similarity.reduction(CentredActivations(other, tokens: tokens, width: width))))
            #expect(abs(svcca - 1) < 1e-6)
        }
    }

    @Test func ckaIsNearZeroForIndependentNoise() throws {
        var random = ComparisonRandom(state: 9)
        let n = 20_000, p = 5
        let x = CentredActivations(random.matrix(n, p), tokens: n, width: p)
        let y = CentredActivations(random.matrix(n, p), tokens: n, width: p)
        let value = try #require(Similarity.linearCKA(x, y))
        #expect(value < 0.05)
        #expect(Similarity.linearCKA(x, CentredActivations([Double](repeating: 2, count: n * p), tokens: n, width: p)) == nil)
    }

    @Test func jacobiDiagonalRotationAndReconstruction() throws {
        let diagonal = SymmetricEigen(symmetric: [2, 0, 0, 0, 5, 0, 0, 0, -1], size: 3)
        #expect(diagonal.values == [5, 2, -1])
        #expect(diagonal.vectors == [0, 1, 0, 1, 0, 0, 0, 0, 1])
        // R diag(4, 1) Rᵀ with R the rotation by 30°.
        let angle = Double.pi / 6, c = cos(angle), s = sin(angle)
        let rotation = [c, -s, s, c]
        let a = multiply(multiply(rotation, [4, 0, 0, 1], 2, 2, 2), [c, s, -s, c], 2, 2, 2)
        let eigen = SymmetricEigen(symmetric: a, size: 2)
        #expect(abs(eigen.values[0] - 4) < 1e-12 && abs(eigen.values[1] - 1) < 1e-12)
        #expect(abs(abs(eigen.vectors[0]) - c) < 1e-12 && abs(abs(eigen.vectors[2]) - s) < 1e-12)
        var random = ComparisonRandom(state: 5)
        let p = 7, m = random.matrix(p, p)
        var symmetric = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in 0..<p { symmetric[i * p + j] = m[i * p + j] + m[j * p + i] } }
        let full = SymmetricEigen(symmetric: symmetric, size: p)
        for i in 0..<p {
            for j in 0..<p {
                var sum = 0.0, dot = 0.0
                for k in 0..<p {
                    sum += full.vectors[i * p + k] * full.values[k] * full.vectors[j * p + k]
                    dot += full.vectors[k * p + i] * full.vectors[k * p + j]
                }
                #expect(abs(sum - symmetric[i * p + j]) < 1e-10)
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-12)
            }
        }
        #expect(full.values == full.values.sorted(by: >))
    }

    @Test func svccaDropsRankDeficiency() {
        // Column 3 = column 0 + column 1: rank 2 of 3.
        var random = ComparisonRandom(state: 2)
        let n = 300
        var x = [Double]()
        for _ in 0..<n {
            let a = random.normal(), b = random.normal()
            x += [a, b, a + b]
        }
        let reduction = Similarity.reduction(CentredActivations(x, tokens: n, width: 3))
        #expect(reduction.kept == 2)
    }
}

@Suite struct NeuronMatchingTests {
    func bruteForce(_ w: [[Double]]) -> Double {
        let rows = w.count, columns = w[0].count
        var best = -Double.infinity
        func visit(_ row: Int, _ used: Set<Int>, _ total: Double) {
            if row == rows { best = max(best, total); return }
            for column in 0..<columns where !used.contains(column) { visit(row + 1, used.union([column]), total + w[row][column]) }
        }
        visit(0, [], 0)
        return best
    }

    func total(_ w: [[Double]], _ assignment: [Int?]) -> Double {
        var sum = 0.0
        for (row, column) in assignment.enumerated() { if let column { sum += w[row][column] } }
        return sum
    }

    @Test(arguments: [(6, 6), (4, 6), (6, 4), (1, 3), (5, 5)])
    func hungarianMatchesBruteForce(rows: Int, columns: Int) {
        var random = ComparisonRandom(state: UInt64(rows * 10 + columns))
        for trial in 0..<30 {
            // Every third trial draws from {0, 0.5, 1} so ties abound.
            let w = (0..<rows).map { _ in (0..<columns).map { _ in trial % 3 == 0 ? Double(random.next() % 3) / 2 : random.uniform() } }
            let assignment = NeuronMatching.hungarian(w)
            let matched = assignment.compactMap { $0 }
            #expect(matched.count == min(rows, columns))
            #expect(Set(matched).count == matched.count)
            let expected = rows <= columns ? bruteForce(w) : bruteForce((0..<columns).map { j in (0..<rows).map { w[$0][j] } })
            #expect(abs(total(w, assignment) - expected) < 1e-12, "trial \(trial)")
        }
    }

    /// B = A's columns permuted, signs flipped on some: every match found with |r| = 1,
    /// MaxCorr 1, and the recurrence is full when B's rankings are A's permuted.
    @Test func handBuiltPermutation() {
        var random = ComparisonRandom(state: 12)
        let n = 200, width = 12
        let a = random.matrix(n, width)
        let permutation = [3, 0, 11, 5, 1, 9, 2, 10, 4, 8, 6, 7]  // B's column permutation[i] = ± A's column i
        let signs: [Double] = (0..<width).map { $0 % 3 == 0 ? -1 : 1 }
        var b = [Double](repeating: 0, count: n * width)
        for t in 0..<n { for i in 0..<width { b[t * width + permutation[i]] = signs[i] * a[t * width + i] } }
        let x = CentredActivations(a, tokens: n, width: width), y = CentredActivations(b, tokens: n, width: width)
        let r = NeuronMatching.correlations(x, y)
        let assignment = NeuronMatching.hungarian(r.map { $0.map(abs) })
        #expect(assignment == permutation.map { Optional($0) })
        for i in 0..<width { #expect(abs(r[i][permutation[i]] - signs[i]) < 1e-12) }
        #expect(NeuronMatching.maxCorrelation(r).allSatisfy { abs($0 - 1) < 1e-12 })
        let rankingA = [4, 7, 0, 2, 9, 11, 1, 5, 3, 10, 6, 8]
        let rankingB = rankingA.map { permutation[$0] }
        #expect(NeuronMatching.recurrence(rankingA: rankingA, rankingB: rankingB, mapping: assignment) == 10)
        // Reversed B ranking: B's top 10 misses exactly the images of A's 9th and 10th.
        #expect(NeuronMatching.recurrence(rankingA: rankingA, rankingB: Array(rankingB.reversed()), mapping: assignment) == 8)
        #expect(NeuronMatching.randomRecurrence(topA: 10, topB: 10, neuronsB: 50) == 2)
        // The correlation equals Statistics.pearson.
        let column0 = (0..<n).map { a[$0 * width] }, column3 = (0..<n).map { b[$0 * width + 3] }
        #expect(abs(r[0][3] - (Statistics.pearson(column0, column3) ?? 0)) < 1e-12)
    }

    @Test func constantNeuronHasZeroCorrelation() {
        let x = CentredActivations([1, 5, 2, 5, 3, 5, 4, 5] as [Double], tokens: 4, width: 2)
        let r = NeuronMatching.correlations(x, x)
        #expect(r[1] == [0, 0])
        #expect(NeuronMatching.constantNeurons(x) == [1])
    }
}

/// `tools/compare_reference.py` (numpy, scipy.optimize.linear_sum_assignment).
@Suite struct ComparisonFixtureTests {
    struct Fixture: Decodable {
        var x: TensorJSON, y: TensorJSON
        var cka: Double, svcca: Double
        var svcca_kept_x: Int, svcca_kept_y: Int
        var canonical_correlations: [Double]
        var correlations: [[Double]]
        var assignment: [Int], assignment_rows: [Int]
        var assignment_total: Double
    }

    @Test func matchesNumpyAndScipy() throws {
        let url = try #require(Bundle.module.url(forResource: "compare_reference", withExtension: "json", subdirectory: "Fixtures")
            ?? Bundle.module.url(forResource: "compare_reference", withExtension: "json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let x = CentredActivations(fixture.x.data, tokens: fixture.x.shape[0], width: fixture.x.shape[1])
        let y = CentredActivations(fixture.y.data, tokens: fixture.y.shape[0], width: fixture.y.shape[1])
        #expect(abs(try #require(Similarity.linearCKA(x, y)) - fixture.cka) < 1e-6)
        let rx = Similarity.reduction(x), ry = Similarity.reduction(y)
        #expect(rx.kept == fixture.svcca_kept_x && ry.kept == fixture.svcca_kept_y)
        let canonical = Similarity.canonicalCorrelations(x, rx, y, ry)
        #expect(canonical.count == fixture.canonical_correlations.count)
        for (ours, theirs) in zip(canonical, fixture.canonical_correlations) { #expect(abs(ours - theirs) < 1e-6) }
        #expect(abs(try #require(Similarity.svcca(x, rx, y, ry)) - fixture.svcca) < 1e-6)
        let r = NeuronMatching.correlations(x, y)
        for i in r.indices { for j in r[i].indices { #expect(abs(r[i][j] - fixture.correlations[i][j]) < 1e-6) } }
        let assignment = NeuronMatching.hungarian(r.map { $0.map(abs) })
        for (row, column) in zip(fixture.assignment_rows, fixture.assignment) { #expect(assignment[row] == column) }
        #expect(assignment.compactMap { $0 }.count == fixture.assignment.count)
        var total = 0.0
        for (row, column) in assignment.enumerated() { if let column { total += abs(r[row][column]) } }
        #expect(abs(total - fixture.assignment_total) < 1e-6)
    }
}
