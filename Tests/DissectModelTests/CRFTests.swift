import Foundation
import Testing
import DissectCore
@testable import DissectModel

/// `LinearChainCRF` against brute force (every label path enumerated), central
/// finite differences in Double, and itself in Float.
///
/// The reference below is written from the formula, independently of the
/// recursions: score(y) = trans[START, y₀] + Σ_t E[t, y_t] + Σ_{t≥1} trans[y_{t−1}, y_t]
/// + trans[y_{T−1}, STOP], Z = Σ_y exp(score(y)). Random cases fill EVERY
/// transition entry, the unused column START, row STOP and [START, STOP]
/// included, so agreeing with the reference also shows those entries are ignored.
@Suite struct CRFTests {
    /// One sentence: emissions `[T, m]`, transitions `[m+2, m+2]`, gold labels.
    struct Case {
        var steps: Int
        var labels: Int
        var emissions: [Double]
        var transitions: [Double]
        var gold: [Int32]
        var width: Int { labels + 2 }
        var start: Int { labels }
        var stop: Int { labels + 1 }
    }

    static func randomCase(labels m: Int, steps: Int, seed: UInt64, scale: Double = 2) -> Case {
        var rng = SplitMix64(seed: seed, stream: UInt64(m), UInt64(steps))
        return Case(
            steps: steps, labels: m,
            emissions: (0..<(steps * m)).map { _ in rng.uniform(-scale, scale) },
            transitions: (0..<((m + 2) * (m + 2))).map { _ in rng.uniform(-scale, scale) },
            gold: (0..<steps).map { _ in Int32(rng.nextIndex(below: m)) })
    }

    /// Small integers in −1…1: sums are exact, so equal scores are exact ties.
    static func integerCase(labels m: Int, steps: Int, seed: UInt64) -> Case {
        var rng = SplitMix64(seed: seed, stream: UInt64(m), UInt64(steps))
        return Case(
            steps: steps, labels: m,
            emissions: (0..<(steps * m)).map { _ in Double(rng.nextIndex(below: 3) - 1) },
            transitions: (0..<((m + 2) * (m + 2))).map { _ in Double(rng.nextIndex(below: 3) - 1) },
            gold: (0..<steps).map { _ in Int32(rng.nextIndex(below: m)) })
    }

    // MARK: Brute-force reference

    static func allPaths(labels m: Int, steps: Int) -> [[Int32]] {
        var paths: [[Int32]] = [[]]
        for _ in 0..<steps {
            paths = paths.flatMap { prefix in (0..<m).map { prefix + [Int32($0)] } }
        }
        return paths
    }

    static func referenceScore(_ c: Case, _ path: [Int32]) -> Double {
        let y = path.map(Int.init)
        var score = c.transitions[c.start * c.width + y[0]] + c.transitions[y[c.steps - 1] * c.width + c.stop]
        for t in 0..<c.steps { score += c.emissions[t * c.labels + y[t]] }
        for t in 1..<c.steps { score += c.transitions[y[t - 1] * c.width + y[t]] }
        return score
    }

    static func referenceLogZ(_ c: Case) -> Double {
        let scores = allPaths(labels: c.labels, steps: c.steps).map { referenceScore(c, $0) }
        let maximum = scores.max() ?? 0
        return maximum + log(scores.reduce(0) { $0 + exp($1 - maximum) })
    }

    /// Token marginals `[T, m]` and expected transition counts `[m+2, m+2]`
    /// (START row and STOP column included), by summing over every path.
    static func referenceExpectations(_ c: Case) -> (marginals: [Double], counts: [Double]) {
        let logZ = referenceLogZ(c)
        var marginals = [Double](repeating: 0, count: c.steps * c.labels)
        var counts = [Double](repeating: 0, count: c.width * c.width)
        for path in allPaths(labels: c.labels, steps: c.steps) {
            let probability = exp(referenceScore(c, path) - logZ)
            let y = path.map(Int.init)
            for t in 0..<c.steps { marginals[t * c.labels + y[t]] += probability }
            counts[c.start * c.width + y[0]] += probability
            for t in 1..<c.steps { counts[y[t - 1] * c.width + y[t]] += probability }
            counts[y[c.steps - 1] * c.width + c.stop] += probability
        }
        return (marginals, counts)
    }

    /// Among the paths of maximal score (exact comparison), the one that is
    /// lexicographically smallest read from the last token back: what
    /// lowest-index tie-breaking at every max selects.
    static func referenceBestPath(_ c: Case) -> (path: [Int32], score: Double) {
        let scored = allPaths(labels: c.labels, steps: c.steps).map { ($0, referenceScore(c, $0)) }
        let best = scored.map(\.1).max() ?? -.infinity
        let winners = scored.filter { $0.1 == best }.map(\.0)
        let first = winners.min { a, b in a.reversed().lexicographicallyPrecedes(b.reversed()) } ?? []
        return (first, best)
    }

    // MARK: Calls into the CRF

    /// Runs `body` on a scratch of `scratchCount` NaNs (its contents on entry
    /// must not matter) followed by a sentinel tail that must survive (the CRF
    /// stays inside `scratchCount`).
    static func withScratch<R>(steps: Int, labels: Int, _ body: (UnsafeMutablePointer<Double>) -> R) -> R {
        let guardCount = 16, sentinel = 12345.678
        let count = LinearChainCRF.scratchCount(steps: steps, labels: labels)
        let scratch = Buffer<Double>(capacity: count + guardCount)
        scratch.pointer.update(repeating: .nan, count: count)
        (scratch.pointer + count).update(repeating: sentinel, count: guardCount)
        let result = body(scratch.pointer)
        #expect(scratch.array(count + guardCount)[count...].allSatisfy { $0 == sentinel }, "the CRF wrote past scratchCount")
        return result
    }

    struct LossResult<T: Scalar> {
        var loss: Double
        var emissionGradient: [T]
        var transitionGradient: [T]
    }

    static func loss<T: Scalar>(
        _ c: Case, as type: T.Type, gradient: Bool = true, transitionStart: [T]? = nil
    ) -> LossResult<T> {
        let emissions = c.emissions.map { T($0) }
        let transitions = c.transitions.map { T($0) }
        var emissionGradient = [T](repeating: .nan, count: c.steps * c.labels)
        var transitionGradient = transitionStart ?? [T](repeating: 0, count: c.width * c.width)
        let loss = withScratch(steps: c.steps, labels: c.labels) { scratch in
            emissionGradient.withUnsafeMutableBufferPointer { dE in
                transitionGradient.withUnsafeMutableBufferPointer { dTrans in
                    LinearChainCRF.negativeLogLikelihood(
                        emissions: emissions, steps: c.steps, labels: c.labels, gold: c.gold,
                        transitions: transitions,
                        emissionGradient: gradient ? dE.baseAddress : nil,
                        transitionGradient: gradient ? dTrans.baseAddress : nil,
                        scratch: scratch)
                }
            }
        }
        return LossResult(loss: loss, emissionGradient: emissionGradient, transitionGradient: transitionGradient)
    }

    static func bestPath<T: Scalar>(_ c: Case, as type: T.Type) -> (path: [Int32], score: Double) {
        let emissions = c.emissions.map { T($0) }
        let transitions = c.transitions.map { T($0) }
        var path = [Int32](repeating: -7, count: c.steps)
        let score = withScratch(steps: c.steps, labels: c.labels) { scratch in
            path.withUnsafeMutableBufferPointer { out in
                guard let base = out.baseAddress else { return Double.nan }
                return LinearChainCRF.viterbi(
                    emissions: emissions, steps: c.steps, labels: c.labels,
                    transitions: transitions, into: base, scratch: scratch)
            }
        }
        return (path, score)
    }

    /// The entries of `[m+2, m+2]` that enter no path score.
    static func unusedTransitionIndices(labels m: Int) -> [Int] {
        let width = m + 2, start = m, stop = m + 1
        return (0..<(width * width)).filter { index in
            let from = index / width, to = index % width
            return to == start || from == stop || (from == start && to == stop)
        }
    }

    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(a), abs(b))
    }

    static let labelCounts = [1, 2, 3]
    static let stepCounts = [1, 2, 4]

    // MARK: Tests

    @Test func initialTransitionsFollowNCRFLayout() {
        for m in [1, 3, 9] {
            let transitions = LinearChainCRF.initialTransitions(labels: m)
            let width = m + 2
            #expect(transitions.count == width * width && LinearChainCRF.transitionCount(labels: m) == width * width)
            #expect(LinearChainCRF.startIndex(labels: m) == m && LinearChainCRF.stopIndex(labels: m) == m + 1)
            for from in 0..<width {
                for to in 0..<width {
                    let expected: Float = (to == m || from == m + 1) ? -10000 : 0
                    #expect(transitions[from * width + to] == expected, "m=\(m) [\(from), \(to)]")
                }
            }
            #expect(LinearChainCRF.initialTransitions(labels: m, as: Double.self) == transitions.map(Double.init))
        }
        #expect(LinearChainCRF.forbidden == -10000)
    }

    @Test(arguments: labelCounts, stepCounts)
    func lossAndPathScoreMatchBruteForce(labels m: Int, steps: Int) {
        for seed in UInt64(1)...3 {
            let c = Self.randomCase(labels: m, steps: steps, seed: seed)
            let logZ = Self.referenceLogZ(c)
            for path in Self.allPaths(labels: m, steps: steps) {
                let score = LinearChainCRF.pathScore(
                    emissions: c.emissions, steps: steps, labels: m, path: path, transitions: c.transitions)
                #expect(Self.close(score, Self.referenceScore(c, path)), "path \(path)")
            }
            let expected = logZ - Self.referenceScore(c, c.gold)
            let withGradient = Self.loss(c, as: Double.self)
            let withoutGradient = Self.loss(c, as: Double.self, gradient: false)
            #expect(Self.close(withGradient.loss, expected), "\(withGradient.loss) vs \(expected)")
            #expect(withGradient.loss == withoutGradient.loss)
            #expect(withGradient.loss >= -1e-12)
            // Without gradient pointers nothing is written.
            #expect(withoutGradient.emissionGradient.allSatisfy { $0.isNaN })
            #expect(withoutGradient.transitionGradient.allSatisfy { $0 == 0 })
        }
    }

    /// One label: a single path, so log Z = score(gold) and the loss is 0.
    @Test func singleLabelHasZeroLoss() {
        for steps in [1, 2, 7] {
            let c = Self.randomCase(labels: 1, steps: steps, seed: 11)
            let result = Self.loss(c, as: Double.self)
            #expect(abs(result.loss) < 1e-12)
            #expect(result.emissionGradient.allSatisfy { abs($0) < 1e-12 })
            #expect(Self.bestPath(c, as: Double.self).path == [Int32](repeating: 0, count: steps))
        }
    }

    @Test(arguments: labelCounts, stepCounts)
    func gradientsAreMarginalsMinusGold(labels m: Int, steps: Int) {
        for seed in UInt64(4)...6 {
            let c = Self.randomCase(labels: m, steps: steps, seed: seed)
            let (marginals, counts) = Self.referenceExpectations(c)
            let result = Self.loss(c, as: Double.self)
            for t in 0..<steps {
                let row = result.emissionGradient[(t * m)..<((t + 1) * m)]
                #expect(abs(row.reduce(0, +)) < 1e-12, "Σ_j dE[\(t), j] = \(row.reduce(0, +))")
                for j in 0..<m {
                    let oneHot: Double = Int(c.gold[t]) == j ? 1 : 0
                    #expect(Self.close(result.emissionGradient[t * m + j] + oneHot, marginals[t * m + j]))
                }
            }
            // Expected minus gold transition counts, with the gold path's own counts.
            var goldCounts = [Double](repeating: 0, count: c.width * c.width)
            let y = c.gold.map(Int.init)
            goldCounts[c.start * c.width + y[0]] += 1
            for t in 1..<steps { goldCounts[y[t - 1] * c.width + y[t]] += 1 }
            goldCounts[y[steps - 1] * c.width + c.stop] += 1
            for index in 0..<(c.width * c.width) {
                #expect(
                    Self.close(result.transitionGradient[index], counts[index] - goldCounts[index]),
                    "transition \(index): \(result.transitionGradient[index]) vs \(counts[index] - goldCounts[index])")
            }
        }
    }

    @Test(arguments: labelCounts, stepCounts)
    func gradientMatchesFiniteDifferences(labels m: Int, steps: Int) {
        let c = Self.randomCase(labels: m, steps: steps, seed: 21)
        let result = Self.loss(c, as: Double.self)
        let analytic = result.emissionGradient + result.transitionGradient
        let mismatches = Self.checker.mismatches(parameters: c.emissions + c.transitions, analytic: analytic) {
            Self.loss(Self.replacing(c, with: $0), as: Double.self, gradient: false).loss
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        for index in Self.unusedTransitionIndices(labels: m) {
            #expect(result.transitionGradient[index] == 0, "unused transition \(index) has gradient \(result.transitionGradient[index])")
        }
    }

    static let checker = GradientChecker(step: 1e-6, relativeTolerance: 1e-7, absoluteTolerance: 1e-9)

    /// The case with emissions and transitions taken from one flat vector.
    static func replacing(_ c: Case, with values: [Double]) -> Case {
        var copy = c
        copy.emissions = Array(values[0..<(c.steps * c.labels)])
        copy.transitions = Array(values[(c.steps * c.labels)...])
        return copy
    }

    /// The checker must catch wrong CRF gradients: one entry off by 1%, and the
    /// STOP column left out (as if the backward pass forgot trans[y_{T−1}, STOP]).
    @Test func checkerRejectsWrongGradients() {
        let c = Self.randomCase(labels: 3, steps: 4, seed: 21)
        let result = Self.loss(c, as: Double.self)
        let analytic = result.emissionGradient + result.transitionGradient
        let lossOf: ([Double]) -> Double = { Self.loss(Self.replacing(c, with: $0), as: Double.self, gradient: false).loss }

        let target = c.steps * c.labels + 1 * c.width + 2  // trans[1, 2]
        #expect(abs(analytic[target]) > 1e-3)
        var perturbed = analytic
        perturbed[target] *= 1.01
        #expect(Self.checker.mismatches(parameters: c.emissions + c.transitions, analytic: perturbed, loss: lossOf)
            .map(\.index) == [target])

        var withoutStop = analytic
        let stopEntries = (0..<c.labels).map { c.steps * c.labels + $0 * c.width + c.stop }
        for index in stopEntries { withoutStop[index] = 0 }
        #expect(Self.checker.mismatches(parameters: c.emissions + c.transitions, analytic: withoutStop, loss: lossOf)
            .map(\.index) == stopEntries)
    }

    /// The emission gradient is overwritten; the transition gradient is added to.
    @Test func transitionGradientAccumulates() {
        let first = Self.randomCase(labels: 3, steps: 4, seed: 31)
        var second = Self.randomCase(labels: 3, steps: 2, seed: 32)
        second.transitions = first.transitions
        let alone = Self.loss(first, as: Double.self).transitionGradient
        let other = Self.loss(second, as: Double.self).transitionGradient
        let summed = Self.loss(first, as: Double.self, transitionStart: other).transitionGradient
        for index in alone.indices {
            #expect(Self.close(summed[index], alone[index] + other[index]))
        }
        #expect(Self.loss(first, as: Double.self).emissionGradient.allSatisfy { $0.isFinite })
    }

    @Test(arguments: labelCounts, stepCounts)
    func viterbiMatchesBruteForce(labels m: Int, steps: Int) {
        for seed in UInt64(1)...5 {
            let c = Self.randomCase(labels: m, steps: steps, seed: seed)
            let expected = Self.referenceBestPath(c)
            let found = Self.bestPath(c, as: Double.self)
            #expect(found.path == expected.path, "seed \(seed)")
            #expect(Self.close(found.score, expected.score))
        }
    }

    /// Exact ties (small integers, so every sum is exact) must go to the
    /// lowest label at every max, in Double and Float alike.
    @Test(arguments: [2, 3], stepCounts)
    func viterbiBreaksTiesTowardLowestLabel(labels m: Int, steps: Int) {
        var ties = 0
        for seed in UInt64(1)...20 {
            let c = Self.integerCase(labels: m, steps: steps, seed: seed)
            let expected = Self.referenceBestPath(c)
            let scores = Self.allPaths(labels: m, steps: steps).map { Self.referenceScore(c, $0) }
            if scores.filter({ $0 == expected.score }).count > 1 { ties += 1 }
            #expect(Self.bestPath(c, as: Double.self).path == expected.path, "seed \(seed)")
            #expect(Self.bestPath(c, as: Float.self).path == expected.path, "seed \(seed), Float")
        }
        #expect(ties >= 5, "too few tied cases to test tie-breaking: \(ties)")
    }

    /// Hand-made ties. All-zero scores: every path ties, so all label 0.
    /// E = [[0, 1, 1], [0, 0, 2]]: tokens 0 ties between 1 and 2 → [1, 2].
    /// E = [[0, 1, 1], [2, 0, 2]]: the last token ties too → [1, 0].
    @Test func viterbiHandMadeTies() {
        let zeroTransitions = [Double](repeating: 0, count: 25)
        func path(_ emissions: [Double], steps: Int) -> [Int32] {
            Self.bestPath(Case(steps: steps, labels: 3, emissions: emissions, transitions: zeroTransitions, gold: []), as: Double.self).path
        }
        #expect(path([Double](repeating: 0, count: 12), steps: 4) == [0, 0, 0, 0])
        #expect(path([0, 1, 1, 0, 0, 2], steps: 2) == [1, 2])
        #expect(path([0, 1, 1, 2, 0, 2], steps: 2) == [1, 0])
        // The NCRF++ initial transitions (−10000 only where no path goes) change nothing.
        let initial = LinearChainCRF.initialTransitions(labels: 3, as: Double.self)
        #expect(Self.bestPath(Case(steps: 2, labels: 3, emissions: [0, 1, 1, 2, 0, 2], transitions: initial, gold: []),
                              as: Double.self).path == [1, 0])
    }

    /// Float inputs are converted exactly and everything runs in Double, so on
    /// Float-representable values the two instantiations agree bit for bit;
    /// on arbitrary Doubles they agree to Float rounding of the inputs.
    @Test(arguments: [2, 3, 9], [1, 4, 30])
    func floatAndDoubleAgree(labels m: Int, steps: Int) {
        var c = Self.randomCase(labels: m, steps: steps, seed: 41)
        let double = Self.loss(c, as: Double.self)
        let float = Self.loss(c, as: Float.self)
        #expect(abs(float.loss - double.loss) <= 1e-5 * max(1, double.loss), "\(float.loss) vs \(double.loss)")
        for (f, d) in zip(float.emissionGradient, double.emissionGradient) { #expect(abs(Double(f) - d) < 1e-5) }
        for (f, d) in zip(float.transitionGradient, double.transitionGradient) { #expect(abs(Double(f) - d) < 1e-5 * Double(steps)) }
        #expect(Self.bestPath(c, as: Float.self).path == Self.bestPath(c, as: Double.self).path)

        c.emissions = c.emissions.map { Double(Float($0)) }
        c.transitions = c.transitions.map { Double(Float($0)) }
        let exactDouble = Self.loss(c, as: Double.self)
        let exactFloat = Self.loss(c, as: Float.self)
        #expect(exactFloat.loss == exactDouble.loss)
        #expect(exactFloat.emissionGradient == exactDouble.emissionGradient.map { Float($0) })
        #expect(exactFloat.transitionGradient == exactDouble.transitionGradient.map { Float($0) })
        let floatPath = Self.bestPath(c, as: Float.self), doublePath = Self.bestPath(c, as: Double.self)
        #expect(floatPath.path == doublePath.path && floatPath.score == doublePath.score)
    }

    /// Forbidden (−10000) transitions inside the label block, as a BIO
    /// constraint would set them: Z still matches brute force, Viterbi avoids
    /// them, and their gradient is 0 (exp(−10000) underflows).
    @Test func forbiddenTransitionsInsideTheBlock() {
        var c = Self.randomCase(labels: 3, steps: 4, seed: 51)
        c.transitions = LinearChainCRF.initialTransitions(labels: 3, as: Double.self)
        c.transitions[0 * c.width + 2] = LinearChainCRF.forbidden  // 0 → 2
        c.transitions[c.start * c.width + 2] = LinearChainCRF.forbidden  // START → 2
        c.emissions[0 * 3 + 2] = 5  // token 0 would like label 2
        c.gold = [0, 1, 1, 0]
        let result = Self.loss(c, as: Double.self)
        #expect(Self.close(result.loss, Self.referenceLogZ(c) - Self.referenceScore(c, c.gold)))
        #expect(result.transitionGradient[0 * c.width + 2] == 0)
        #expect(result.transitionGradient[c.start * c.width + 2] == 0)
        let path = Self.bestPath(c, as: Double.self).path
        #expect(path == Self.referenceBestPath(c).path && path[0] != 2)
        #expect(!zip(path, path.dropFirst()).contains { $0 == 0 && $1 == 2 })
    }

    /// A long sentence with large emissions: everything stays finite, the loss
    /// of the Viterbi path lies in [0, T·log m] (Z is at least its term and at
    /// most m^T times the largest), and Viterbi's score is that path's score.
    @Test func longSentenceStaysFinite() {
        let m = 9, steps = 400
        var c = Self.randomCase(labels: m, steps: steps, seed: 61, scale: 40)
        let best = Self.bestPath(c, as: Double.self)
        #expect(best.path.allSatisfy { $0 >= 0 && $0 < m })
        let score = LinearChainCRF.pathScore(
            emissions: c.emissions, steps: steps, labels: m, path: best.path, transitions: c.transitions)
        #expect(Self.close(best.score, score, 1e-12))
        c.gold = best.path
        for result in [Self.loss(c, as: Double.self).loss, Self.loss(c, as: Float.self).loss] {
            #expect(result.isFinite && result >= -1e-6 && result <= Double(steps) * log(Double(m)))
        }
        let gradient = Self.loss(c, as: Float.self)
        #expect(gradient.emissionGradient.allSatisfy { $0.isFinite } && gradient.transitionGradient.allSatisfy { $0.isFinite })
    }
}
