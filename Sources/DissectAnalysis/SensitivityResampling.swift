import DissectCore
import Foundation

/// The tokens a sensitivity matrix is computed from, prepared for the bootstrap and the
/// permutation test of `SensitivityStatistics`, with each kernel's naive reference beside it.
///
/// Shapes: N tokens in S sentences (`sentenceStarts`, S + 1 offsets), n neurons, m labels.
/// Internal matrices are label-major, `[m, n]` (cell = label·n + neuron), NaN where undefined.
///
/// Both kernels are fast because s[i, j] depends on the tokens only through sums:
/// per label the token count and Σ h_i, and Σ h_i over every token (`Sensitivity.value`).
/// - Bootstrap: each sentence's sums are computed once (`features`, `[S, W]` with
///   W = (m + 1)·n + m + 1); a resample's sums are its multiplicities times those rows,
///   a GEMM of the `[resamples, S]` multiplicity matrix with `[S, W]`.
/// - Permutation: moving label sequences changes only which tokens each label's sum
///   takes. Only the tokens outside the most frequent class (O, with ~83 % of CoNLL's
///   tokens) are added up, for a block of permutations at once while a sentence's states
///   are in cache; that class's sums are the total minus the others'.
struct SensitivityResampling: Sendable {
    let labels: [String]
    /// m
    let labelCount: Int
    /// n
    let neuronCount: Int
    /// N
    let tokenCount: Int
    let sentenceStarts: [Int]
    let hidden: [Float]
    /// The label each token is counted under, −1 for none (anything outside 0..<m).
    let assignments: [Int32]
    let outputWeight: [Float]?
    /// W[i, j] as `[m, n]` Doubles; 1 everywhere for the activation difference.
    let weights: [Double]
    /// The full sample's sensitivity, computed by `Sensitivity` itself.
    let sensitivity: Sensitivity
    /// `sensitivity.values` label-major, NaN where undefined.
    let full: [Double]

    var sentenceCount: Int { sentenceStarts.count - 1 }

    /// How the draws are seeded: `SplitMix64(seed:, stream: part, index)`, one stream per
    /// resample and per permutation, so results never depend on threads or on how work is split.
    static let bootstrapStream: UInt64 = 0x5EB0_0757
    static let permutationStream: UInt64 = 0x5E9E_2303
    /// Resamples (or permutations) per unit of parallel work; fixed, so the split depends on the count alone.
    static let blockSize = 32

    /// - Parameters:
    ///   - hidden: `[N, n]` token-major; `assignments`: N label indices (−1, or any index outside 0..<m: none).
    ///   - sentenceStarts: S + 1 non-decreasing token offsets from 0 to N.
    ///   - outputWeight: `[m, n]` (`hidden2tag.weight`), or nil for the activation difference.
    init(labels: [String], neuronCount n: Int, hidden: [Float], assignments: [Int32], sentenceStarts: [Int], outputWeight: [Float]?) {
        let m = labels.count, N = assignments.count
        precondition(hidden.count == N * n, "hidden holds \(hidden.count) values, not N·n = \(N)·\(n)")
        precondition(sentenceStarts.first == 0 && sentenceStarts.last == N, "sentence offsets must run from 0 to N")
        precondition(zip(sentenceStarts, sentenceStarts.dropFirst()).allSatisfy { $0 <= $1 }, "sentence offsets must not decrease")
        precondition(outputWeight.map { $0.count == m * n } ?? true, "the output weight must be [m, n]")
        self.labels = labels
        labelCount = m
        neuronCount = n
        tokenCount = N
        self.sentenceStarts = sentenceStarts
        self.hidden = hidden
        self.assignments = assignments.map { $0 >= 0 && Int($0) < m ? $0 : -1 }
        self.outputWeight = outputWeight
        weights = outputWeight.map { $0.map(Double.init) } ?? [Double](repeating: 1, count: m * n)
        sensitivity = Sensitivity(
            labels: labels, neuronCount: n, tokenCount: N, hidden: hidden, assignments: assignments,
            outputWeight: outputWeight, condition: .predicted)
        full = Self.labelMajor(sensitivity.values, labels: m, neurons: n)
    }

    /// `[n][m]` optional values as a label-major `[m, n]` array, NaN for nil.
    static func labelMajor(_ values: [[Double?]], labels m: Int, neurons n: Int) -> [Double] {
        var result = [Double](repeating: .nan, count: m * n)
        for neuron in 0..<n {
            for label in 0..<m { result[label * n + neuron] = values[neuron][label] ?? .nan }
        }
        return result
    }

    /// The other way: label-major `[m, n]` (NaN = nil) as `[n][m]` optionals.
    static func neuronMajor<Value>(_ values: [Value?], labels m: Int, neurons n: Int) -> [[Value?]] {
        (0..<n).map { neuron in (0..<m).map { label in values[label * n + neuron] } }
    }

    /// The sensitivity of one resample or permutation from its sums, by `Sensitivity.value`:
    /// `sums` label-major `[m, n]`, `totals` n, `counts` m, all over `tokens` tokens;
    /// a column whose label has no token or every token is NaN (undefined).
    @inline(__always)
    static func values(
        sums: UnsafePointer<Double>, totals: UnsafePointer<Double>, counts: UnsafePointer<Double>, tokens: Double,
        weights: UnsafePointer<Double>, labels m: Int, neurons n: Int, into out: UnsafeMutablePointer<Double>
    ) {
        for label in 0..<m {
            let count = counts[label], row = label * n
            guard count > 0 && count < tokens else {
                for neuron in 0..<n { out[row + neuron] = .nan }
                continue
            }
            for neuron in 0..<n {
                out[row + neuron] = Sensitivity.value(
                    sum: sums[row + neuron], count: count, total: totals[neuron], tokenCount: tokens, weight: weights[row + neuron])
            }
        }
    }

    /// The same for explicit tokens, through `Sensitivity` itself: the naive references' one step.
    func directValues(hidden: [Float], assignments: [Int32]) -> [Double] {
        let direct = Sensitivity(
            labels: labels, neuronCount: neuronCount, tokenCount: assignments.count, hidden: hidden, assignments: assignments,
            outputWeight: outputWeight, condition: .predicted)
        return Self.labelMajor(direct.values, labels: labelCount, neurons: neuronCount)
    }

    // MARK: Bootstrap

    /// The sentences of resample `resample`: S draws with replacement, in draw order.
    @inline(__always)
    func drawSentences(resample: Int, seed: UInt64, _ body: (Int) -> Void) {
        let S = sentenceCount
        guard S > 0 else { return }
        var generator = SplitMix64(seed: seed, stream: Self.bootstrapStream, UInt64(resample))
        for _ in 0..<S { body(generator.nextIndex(below: S)) }
    }

    /// Width of a row of per-sentence sums: label sums `[m, n]`, totals n, counts m, length 1.
    var featureWidth: Int { (labelCount + 1) * neuronCount + labelCount + 1 }

    /// Per sentence `[S, W]`: Σ h_i over its tokens of each label, Σ h_i over all its tokens,
    /// its tokens per label, and its length.
    func features() -> [Double] {
        let S = sentenceCount, n = neuronCount, m = labelCount, width = featureWidth
        var result = [Double](repeating: 0, count: S * width)
        let chunk = 64
        result.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            hidden.withUnsafeBufferPointer { h in
                parallelFor((S + chunk - 1) / chunk) { part in
                    for sentence in (part * chunk)..<min(S, (part + 1) * chunk) {
                        let row = base + sentence * width
                        let totals = row + m * n, counts = totals + n
                        for token in sentenceStarts[sentence]..<sentenceStarts[sentence + 1] {
                            let state = h.baseAddress! + token * n
                            for neuron in 0..<n { totals[neuron] += Double(state[neuron]) }
                            let label = Int(assignments[token])
                            guard label >= 0 else { continue }
                            counts[label] += 1
                            let sums = row + label * n
                            for neuron in 0..<n { sums[neuron] += Double(state[neuron]) }
                        }
                        counts[m] = Double(sentenceStarts[sentence + 1] - sentenceStarts[sentence])
                    }
                }
            }
        }
        return result
    }

    /// The fast path: every resample's matrix, `[resamples, m, n]`, NaN where undefined.
    /// Blocks of `blockSize` resamples run in parallel; each draws its multiplicities
    /// `[block, S]` and multiplies them by `features()` in one GEMM.
    func bootstrapMatrices(resamples: Int, seed: UInt64) -> [Double] {
        let S = sentenceCount, n = neuronCount, m = labelCount, cells = m * n, width = featureWidth
        var result = [Double](repeating: .nan, count: resamples * cells)
        guard resamples > 0, S > 0 else { return result }
        let features = features()
        let blocks = (resamples + Self.blockSize - 1) / Self.blockSize
        result.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            features.withUnsafeBufferPointer { rows in
                weights.withUnsafeBufferPointer { w in
                    parallelFor(blocks) { block in
                        let first = block * Self.blockSize, count = min(Self.blockSize, resamples - first)
                        let multiplicities = UnsafeMutableBufferPointer<Double>.allocate(capacity: count * S)
                        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: count * width)
                        defer {
                            multiplicities.deallocate()
                            sums.deallocate()
                        }
                        multiplicities.initialize(repeating: 0)
                        for offset in 0..<count {
                            let row = multiplicities.baseAddress! + offset * S
                            drawSentences(resample: first + offset, seed: seed) { row[$0] += 1 }
                        }
                        BLAS.gemm(
                            m: count, n: width, k: S, a: multiplicities.baseAddress!, lda: S,
                            b: rows.baseAddress!, ldb: width, c: sums.baseAddress!, ldc: width)
                        for offset in 0..<count {
                            let row = UnsafePointer(sums.baseAddress! + offset * width)
                            Self.values(
                                sums: row, totals: row + cells, counts: row + cells + n, tokens: row[cells + n + m],
                                weights: w.baseAddress!, labels: m, neurons: n, into: outBase + (first + offset) * cells)
                        }
                    }
                }
            }
        }
        return result
    }

    /// The naive reference for one resample: the drawn sentences' tokens laid end to end,
    /// and `Sensitivity` computed on them.
    func naiveBootstrapMatrix(resample: Int, seed: UInt64) -> [Double] {
        var resampledHidden: [Float] = [], resampledAssignments: [Int32] = []
        drawSentences(resample: resample, seed: seed) { sentence in
            let range = sentenceStarts[sentence]..<sentenceStarts[sentence + 1]
            resampledHidden += hidden[(range.lowerBound * neuronCount)..<(range.upperBound * neuronCount)]
            resampledAssignments += assignments[range]
        }
        return directValues(hidden: resampledHidden, assignments: resampledAssignments)
    }

    /// Intervals, rank intervals and top-10 stability from the resamples' matrices
    /// (`[resamples, m, n]`, from `bootstrapMatrices` or the naive reference).
    ///
    /// A label whose column is undefined in a resample (none of its tokens drawn, or
    /// nothing else drawn) is left out of that label's summaries: the percentiles and the
    /// mean overlap are over the resamples where it is defined. A cell undefined in the
    /// full sample stays nil. Rank bounds are the percentiles of the ranks rounded outwards
    /// (lower down, upper up), so they are ranks a resample can have.
    func bootstrapSummary(matrices: [Double], resamples: Int, seed: UInt64) -> SensitivityStatistics.Bootstrap {
        let n = neuronCount, m = labelCount, cells = m * n
        let lowerPercent = SensitivityStatistics.lowerPercentile, upperPercent = SensitivityStatistics.upperPercentile
        let top = min(SensitivityStatistics.topCount, n)
        var fullTop = [Bool](repeating: false, count: cells)
        for label in 0..<m {
            for neuron in sensitivity.ranking(label: label).prefix(top) { fullTop[label * n + neuron] = true }
        }
        // Per resample and label: each neuron's rank (0 = undefined) and the top-10 overlap.
        var ranks = [Int32](repeating: 0, count: resamples * cells)
        var overlaps = [Double](repeating: .nan, count: resamples * m)
        let blocks = (resamples + Self.blockSize - 1) / Self.blockSize
        ranks.withUnsafeMutableBufferPointer { rankOut in
            overlaps.withUnsafeMutableBufferPointer { overlapOut in
                matrices.withUnsafeBufferPointer { values in
                    parallelFor(blocks) { block in
                        var order = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
                        defer { order.deallocate() }
                        for resample in (block * Self.blockSize)..<min(resamples, (block + 1) * Self.blockSize) {
                            for label in 0..<m {
                                let column = values.baseAddress! + resample * cells + label * n
                                guard n > 0, !column[0].isNaN, !full[label * n].isNaN else { continue }
                                for neuron in 0..<n { order[neuron] = neuron }
                                order.sort { Sensitivity.ranksBefore($0, column[$0], $1, column[$1]) }
                                var shared = 0
                                for position in 0..<n {
                                    rankOut[resample * cells + label * n + order[position]] = Int32(position + 1)
                                    if position < top && fullTop[label * n + order[position]] { shared += 1 }
                                }
                                overlapOut[resample * m + label] = Double(shared) / Double(2 * top - shared)
                            }
                        }
                    }
                }
            }
        }
        var lower = [Double?](repeating: nil, count: cells), upper = lower
        var rankLower = [Int?](repeating: nil, count: cells), rankUpper = rankLower
        var stability = [Double?](repeating: nil, count: m)
        lower.withUnsafeMutableBufferPointer { lowerOut in
            upper.withUnsafeMutableBufferPointer { upperOut in
                rankLower.withUnsafeMutableBufferPointer { rankLowerOut in
                    rankUpper.withUnsafeMutableBufferPointer { rankUpperOut in
                        stability.withUnsafeMutableBufferPointer { stabilityOut in
                            parallelFor(m) { label in
                                guard n > 0, !full[label * n].isNaN else { return }
                                var defined = 0, overlapSum = 0.0
                                for resample in 0..<resamples where !overlaps[resample * m + label].isNaN {
                                    defined += 1
                                    overlapSum += overlaps[resample * m + label]
                                }
                                guard defined > 0 else { return }
                                stabilityOut[label] = overlapSum / Double(defined)
                                var sample: [Double] = [], rankSample: [Double] = []
                                sample.reserveCapacity(defined)
                                rankSample.reserveCapacity(defined)
                                for neuron in 0..<n {
                                    let cell = label * n + neuron
                                    sample.removeAll(keepingCapacity: true)
                                    rankSample.removeAll(keepingCapacity: true)
                                    for resample in 0..<resamples where ranks[resample * cells + cell] > 0 {
                                        sample.append(matrices[resample * cells + cell])
                                        rankSample.append(Double(ranks[resample * cells + cell]))
                                    }
                                    sample.sort()
                                    rankSample.sort()
                                    lowerOut[cell] = Statistics.percentile(sorted: sample, lowerPercent)
                                    upperOut[cell] = Statistics.percentile(sorted: sample, upperPercent)
                                    rankLowerOut[cell] = Int(Statistics.percentile(sorted: rankSample, lowerPercent).rounded(.down))
                                    rankUpperOut[cell] = Int(Statistics.percentile(sorted: rankSample, upperPercent).rounded(.up))
                                }
                            }
                        }
                    }
                }
            }
        }
        return SensitivityStatistics.Bootstrap(
            resamples: resamples, seed: seed, level: SensitivityStatistics.level,
            lower: Self.neuronMajor(lower, labels: m, neurons: n), upper: Self.neuronMajor(upper, labels: m, neurons: n),
            rankLower: Self.neuronMajor(rankLower, labels: m, neurons: n), rankUpper: Self.neuronMajor(rankUpper, labels: m, neurons: n),
            topTenStability: stability)
    }

    // MARK: Permutation

    /// The permutation test's fixed data: length strata, the sparse labels, and the sums of
    /// the sentences that never move.
    struct PermutationPlan: Sendable {
        /// Sentences of each length that more than one sentence has, ascending, concatenated;
        /// stratum k is `members[offsets[k] ..< offsets[k + 1]]`.
        var members: [Int]
        var offsets: [Int]
        /// The movable sentences in ascending order, and each one's index in `members`: visiting
        /// targets in token order reads h(t) front to back, which the prefetcher follows.
        var targets: [Int]
        var slots: [Int]
        /// Sentences whose length no other sentence has: they keep their labels.
        var fixedCount: Int
        /// The class (label, or m for none) with the most tokens, whose sums are derived.
        var majority: Int
        /// Per sentence (`sparseStarts`, S + 1 offsets) its tokens outside `majority`: position and class.
        var sparseStarts: [Int]
        var sparsePositions: [Int32]
        var sparseClasses: [Int32]
        /// `[m + 1, n]`: the fixed sentences' sums per class (in every permutation).
        var fixedSums: [Double]
        /// n: Σ h_i over every token; m: tokens per label (the same in every permutation).
        var totals: [Double]
        var counts: [Double]
        /// Per cell: how far below |s| a permuted |s*| still counts as reaching it (rounding, not signal).
        var tolerance: [Double]
    }

    /// A |s*| within `tolerance` of |s| counts as reaching it: the sums are added in another
    /// order than `Sensitivity`'s, so a permutation that leaves a cell's tokens in place (the
    /// identity among them) would otherwise miss its own value by a rounding error. The
    /// tolerance, 10⁻⁹·|W[i, j]|·max_t |h_i(t)|, is far above that error (≤ N·2⁻⁵³ of the same
    /// scale for N up to millions of tokens) and far below any difference that means something.
    static let toleranceFactor = 1e-9

    func permutationPlan() -> PermutationPlan {
        let S = sentenceCount, n = neuronCount, m = labelCount, N = tokenCount
        var byLength: [Int: [Int]] = [:]
        for sentence in 0..<S { byLength[sentenceStarts[sentence + 1] - sentenceStarts[sentence], default: []].append(sentence) }
        var members: [Int] = [], offsets = [0], fixed: [Int] = []
        for length in byLength.keys.sorted() {
            let group = byLength[length] ?? []
            if group.count > 1 {
                members += group
                offsets.append(members.count)
            } else {
                fixed += group
            }
        }
        let order = members.indices.sorted { members[$0] < members[$1] }
        let targets = order.map { members[$0] }
        var classCounts = [Int](repeating: 0, count: m + 1)
        for label in assignments { classCounts[label >= 0 ? Int(label) : m] += 1 }
        var majority = 0
        for index in classCounts.indices where classCounts[index] > classCounts[majority] { majority = index }
        var sparseStarts = [0], positions: [Int32] = [], classes: [Int32] = []
        sparseStarts.reserveCapacity(S + 1)
        for sentence in 0..<S {
            for token in sentenceStarts[sentence]..<sentenceStarts[sentence + 1] {
                let label = Int(assignments[token]), index = label >= 0 ? label : m
                guard index != majority else { continue }
                positions.append(Int32(token - sentenceStarts[sentence]))
                classes.append(Int32(index))
            }
            sparseStarts.append(positions.count)
        }
        var fixedSums = [Double](repeating: 0, count: (m + 1) * n)
        for sentence in fixed {
            for entry in sparseStarts[sentence]..<sparseStarts[sentence + 1] {
                let row = (sentenceStarts[sentence] + Int(positions[entry])) * n, target = Int(classes[entry]) * n
                for neuron in 0..<n { fixedSums[target + neuron] += Double(hidden[row + neuron]) }
            }
        }
        var totals = [Double](repeating: 0, count: n), largest = [Double](repeating: 0, count: n)
        for token in 0..<N {
            for neuron in 0..<n {
                let value = Double(hidden[token * n + neuron])
                totals[neuron] += value
                largest[neuron] = max(largest[neuron], abs(value))
            }
        }
        var tolerance = [Double](repeating: 0, count: m * n)
        for label in 0..<m {
            for neuron in 0..<n { tolerance[label * n + neuron] = Self.toleranceFactor * abs(weights[label * n + neuron]) * largest[neuron] }
        }
        return PermutationPlan(
            members: members, offsets: offsets, targets: targets, slots: order, fixedCount: fixed.count, majority: majority, sparseStarts: sparseStarts,
            sparsePositions: positions, sparseClasses: classes, fixedSums: fixedSums, totals: totals,
            counts: (0..<m).map { Double(classCounts[$0]) }, tolerance: tolerance)
    }

    /// Permutation `permutation`'s shuffle of every stratum, into `shuffled` (`members.count`):
    /// stratum member `members[t]` takes the labels of sentence `shuffled[t]`.
    @inline(__always)
    static func shuffleStrata(plan: PermutationPlan, permutation: Int, seed: UInt64, into shuffled: UnsafeMutableBufferPointer<Int>) {
        var generator = SplitMix64(seed: seed, stream: permutationStream, UInt64(permutation))
        for (index, member) in plan.members.enumerated() { shuffled[index] = member }
        for stratum in 0..<(plan.offsets.count - 1) {
            var segment = UnsafeMutableBufferPointer(rebasing: shuffled[plan.offsets[stratum]..<plan.offsets[stratum + 1]])
            generator.shuffle(collection: &segment)
        }
    }

    /// For each sentence, the sentence whose labels it takes in permutation `permutation` (itself when fixed).
    func permutationSources(plan: PermutationPlan, permutation: Int, seed: UInt64) -> [Int] {
        var sources = Array(0..<sentenceCount)
        let shuffled = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(1, plan.members.count))
        defer { shuffled.deallocate() }
        Self.shuffleStrata(plan: plan, permutation: permutation, seed: seed, into: shuffled)
        for (index, member) in plan.members.enumerated() { sources[member] = shuffled[index] }
        return sources
    }

    /// Scratch of one block of permutations, allocated once per block.
    struct PermutationScratch {
        /// `members.count`: one permutation's shuffle.
        var shuffled: UnsafeMutableBufferPointer<Int>
        /// `[targets, block]`: each movable sentence's source in each permutation of the block.
        var sources: UnsafeMutablePointer<Int32>
        /// `[block, m + 1, n]`: each permutation's sums per class.
        var sums: UnsafeMutablePointer<Double>

        init(members: Int, block: Int, classes: Int, neurons: Int) {
            shuffled = .allocate(capacity: max(1, members))
            sources = .allocate(capacity: max(1, members * block))
            sums = .allocate(capacity: max(1, block * classes * neurons))
        }

        func deallocate() {
            shuffled.deallocate()
            sources.deallocate()
            sums.deallocate()
        }
    }

    /// The fast path for permutations `first ..< first + count` (count ≤ `blockSize`): their
    /// matrices into `out` (`[count, m, n]`). Each target sentence's rows of h are read once for
    /// the whole block and added to every permutation's sums while they are in cache; only the
    /// tokens outside the majority class are added. Allocates nothing.
    func permutedValues(
        plan: PermutationPlan, first: Int, count: Int, seed: UInt64, hidden h: UnsafePointer<Float>, weights w: UnsafePointer<Double>,
        scratch: PermutationScratch, into out: UnsafeMutablePointer<Double>
    ) {
        let n = neuronCount, m = labelCount, classSize = (m + 1) * n
        for offset in 0..<count {
            Self.shuffleStrata(plan: plan, permutation: first + offset, seed: seed, into: scratch.shuffled)
            for (index, slot) in plan.slots.enumerated() { scratch.sources[index * count + offset] = Int32(scratch.shuffled[slot]) }
            plan.fixedSums.withUnsafeBufferPointer { (scratch.sums + offset * classSize).update(from: $0.baseAddress!, count: classSize) }
        }
        plan.sparseStarts.withUnsafeBufferPointer { sparseStarts in
            plan.sparsePositions.withUnsafeBufferPointer { positions in
                plan.sparseClasses.withUnsafeBufferPointer { classes in
                    sentenceStarts.withUnsafeBufferPointer { starts in
                        for (index, target) in plan.targets.enumerated() {
                            let targetRows = h + starts[target] * n
                            for offset in 0..<count {
                                let source = Int(scratch.sources[index * count + offset]), sums = scratch.sums + offset * classSize
                                for entry in sparseStarts[source]..<sparseStarts[source + 1] {
                                    let state = targetRows + Int(positions[entry]) * n
                                    let accumulator = sums + Int(classes[entry]) * n
                                    for neuron in 0..<n { accumulator[neuron] += Double(state[neuron]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        plan.totals.withUnsafeBufferPointer { totals in
            plan.counts.withUnsafeBufferPointer { counts in
                for offset in 0..<count {
                    let sums = scratch.sums + offset * classSize
                    // The majority class's sums: every token's minus the other classes'.
                    for neuron in 0..<n {
                        var rest = 0.0
                        for index in 0...m where index != plan.majority { rest += sums[index * n + neuron] }
                        sums[plan.majority * n + neuron] = totals[neuron] - rest
                    }
                    Self.values(
                        sums: sums, totals: totals.baseAddress!, counts: counts.baseAddress!, tokens: Double(tokenCount),
                        weights: w, labels: m, neurons: n, into: out + offset * m * n)
                }
            }
        }
    }

    /// Whether a permuted value reaches the full sample's in cell `cell` (two-sided).
    @inline(__always)
    static func reaches(_ permuted: Double, full: Double, tolerance: Double) -> Bool {
        abs(permuted) >= abs(full) - tolerance
    }

    /// The fast path: per cell (label-major), how many of `permutations` permutations give
    /// |s*| ≥ |s|. Blocks of `blockSize` permutations run in parallel, each with its own
    /// scratch and counts, summed afterwards (integers: the order cannot matter).
    func exceedances(plan: PermutationPlan, permutations: Int, seed: UInt64) -> [Int] {
        let n = neuronCount, m = labelCount, cells = m * n
        let blocks = (permutations + Self.blockSize - 1) / Self.blockSize
        var perBlock = [Int](repeating: 0, count: blocks * cells)
        perBlock.withUnsafeMutableBufferPointer { counts in
            hidden.withUnsafeBufferPointer { h in
                weights.withUnsafeBufferPointer { w in
                    parallelFor(blocks) { block in
                        let first = block * Self.blockSize, count = min(Self.blockSize, permutations - first)
                        let scratch = PermutationScratch(members: plan.members.count, block: count, classes: m + 1, neurons: n)
                        let values = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count * cells))
                        defer {
                            scratch.deallocate()
                            values.deallocate()
                        }
                        permutedValues(
                            plan: plan, first: first, count: count, seed: seed, hidden: h.baseAddress!, weights: w.baseAddress!,
                            scratch: scratch, into: values)
                        let blockCounts = counts.baseAddress! + block * cells
                        for offset in 0..<count {
                            for cell in 0..<cells where !full[cell].isNaN
                            && Self.reaches(values[offset * cells + cell], full: full[cell], tolerance: plan.tolerance[cell]) {
                                blockCounts[cell] += 1
                            }
                        }
                    }
                }
            }
        }
        var total = [Int](repeating: 0, count: cells)
        for block in 0..<blocks {
            for cell in 0..<cells { total[cell] += perBlock[block * cells + cell] }
        }
        return total
    }

    /// The fast path's matrices for permutations `first ..< first + count` (count ≤ `blockSize`),
    /// `[count, m, n]`: for tests against the naive reference.
    func permutedMatrices(plan: PermutationPlan, first: Int, count: Int, seed: UInt64) -> [Double] {
        let n = neuronCount, m = labelCount
        precondition(count >= 1 && count <= Self.blockSize, "a block holds 1 to \(Self.blockSize) permutations")
        var out = [Double](repeating: .nan, count: count * m * n)
        let scratch = PermutationScratch(members: plan.members.count, block: count, classes: m + 1, neurons: n)
        defer { scratch.deallocate() }
        out.withUnsafeMutableBufferPointer { values in
            hidden.withUnsafeBufferPointer { h in
                weights.withUnsafeBufferPointer { w in
                    permutedValues(
                        plan: plan, first: first, count: count, seed: seed, hidden: h.baseAddress!, weights: w.baseAddress!,
                        scratch: scratch, into: values.baseAddress!)
                }
            }
        }
        return out
    }

    /// The naive reference for one permutation: every sentence's tokens relabelled with
    /// its source sentence's labels, and `Sensitivity` computed on them.
    func naivePermutedAssignments(plan: PermutationPlan, permutation: Int, seed: UInt64) -> [Int32] {
        let sources = permutationSources(plan: plan, permutation: permutation, seed: seed)
        var permuted = assignments
        for sentence in 0..<sentenceCount {
            let start = sentenceStarts[sentence], sourceStart = sentenceStarts[sources[sentence]]
            for position in 0..<(sentenceStarts[sentence + 1] - start) { permuted[start + position] = assignments[sourceStart + position] }
        }
        return permuted
    }

    func naivePermutedMatrix(plan: PermutationPlan, permutation: Int, seed: UInt64) -> [Double] {
        directValues(hidden: hidden, assignments: naivePermutedAssignments(plan: plan, permutation: permutation, seed: seed))
    }
}
