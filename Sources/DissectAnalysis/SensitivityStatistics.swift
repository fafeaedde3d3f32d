import DissectCore
import Foundation

/// How sure a sensitivity matrix is: bootstrap intervals, permutation
/// p-values with Benjamini–Hochberg q-values, and which cells are findings.
/// Every matrix is `[n][m]`, columns in the same label order as the
/// `Sensitivity.Document` that holds it; nil where the sensitivity is undefined.
public struct SensitivityStatistics: Codable, Sendable, Equatable {
    /// The most bootstrap resamples or permutations a flag may ask for: far more than a 95 % interval
    /// or a p-value at q < 0.05 needs, and small enough that their arrays stay bounded.
    public static let largestCount = 100_000

    /// A sentence-level bootstrap: sentences drawn with replacement, `resamples` times.
    public struct Bootstrap: Codable, Sendable, Equatable {
        public var resamples: Int
        public var seed: UInt64
        /// The interval's coverage, 0.95: the 2.5th and 97.5th percentiles.
        public var level: Double
        public var lower: [[Double?]]
        public var upper: [[Double?]]
        /// Each neuron's rank in each label's ranking (1 = most sensitive): interval bounds.
        public var rankLower: [[Int?]]
        public var rankUpper: [[Int?]]
        /// Per label: mean Jaccard overlap of each resample's top 10 with the full sample's.
        public var topTenStability: [Double?]

        public init(
            resamples: Int, seed: UInt64, level: Double, lower: [[Double?]], upper: [[Double?]],
            rankLower: [[Int?]], rankUpper: [[Int?]], topTenStability: [Double?]
        ) {
            self.resamples = resamples
            self.seed = seed
            self.level = level
            self.lower = lower
            self.upper = upper
            self.rankLower = rankLower
            self.rankUpper = rankUpper
            self.topTenStability = topTenStability
        }

        enum CodingKeys: String, CodingKey {
            case resamples, seed, level, lower, upper
            case rankLower = "rank_lower"
            case rankUpper = "rank_upper"
            case topTenStability = "top10_stability"
        }
    }

    /// A permutation test per cell under a null that keeps each sentence whole (`scheme` says how).
    public struct Permutation: Codable, Sendable, Equatable {
        public var permutations: Int
        public var seed: UInt64
        public var scheme: String
        /// Two-sided p-values, (1 + #{|s*| ≥ |s|}) / (1 + permutations).
        public var p: [[Double?]]
        /// Benjamini–Hochberg q-values across every defined cell of the matrix.
        public var q: [[Double?]]

        public init(permutations: Int, seed: UInt64, scheme: String, p: [[Double?]], q: [[Double?]]) {
            self.permutations = permutations
            self.seed = seed
            self.scheme = scheme
            self.p = p
            self.q = q
        }
    }

    /// A cell is a finding when q < `qThreshold` and its bootstrap interval excludes ±`margin`.
    public struct Findings: Codable, Sendable, Equatable {
        /// The rule in words, as every output states it.
        public var rule: String
        public var qThreshold: Double
        /// The margin as a fraction of the matrix's largest |s| (0.1).
        public var marginFraction: Double
        /// `marginFraction` × the largest |s|.
        public var margin: Double
        public var cells: [[Bool?]]
        /// Cells that are findings, and defined cells.
        public var count: Int
        public var defined: Int

        public init(rule: String, qThreshold: Double, marginFraction: Double, margin: Double, cells: [[Bool?]], count: Int, defined: Int) {
            self.rule = rule
            self.qThreshold = qThreshold
            self.marginFraction = marginFraction
            self.margin = margin
            self.cells = cells
            self.count = count
            self.defined = defined
        }

        enum CodingKeys: String, CodingKey {
            case rule, margin, cells, count, defined
            case qThreshold = "q_threshold"
            case marginFraction = "margin_fraction"
        }
    }

    public var bootstrap: Bootstrap?
    public var permutation: Permutation?
    /// Present only when both the bootstrap and the permutation test ran.
    public var findings: Findings?

    public init(bootstrap: Bootstrap?, permutation: Permutation?, findings: Findings?) {
        self.bootstrap = bootstrap
        self.permutation = permutation
        self.findings = findings
    }
}

// MARK: Computing them

extension SensitivityStatistics {
    /// The intervals' coverage: the 2.5th and 97.5th percentiles of the resamples.
    public static let level = 0.95
    public static let lowerPercentile = 2.5, upperPercentile = 97.5
    /// How many of a label's first neurons the top-10 stability compares.
    public static let topCount = 10
    /// The finding rule's constants: q below `qThreshold`, and the interval clear of
    /// ± `marginFraction` × the matrix's largest |s|. With 51k dev tokens nearly every cell is
    /// significant, so q alone separates nothing; the margin asks for an effect large enough to
    /// matter, relative to the strongest one, that the interval keeps away from zero by.
    public static let qThreshold = 0.05
    public static let marginFraction = 0.1

    /// The rule in words, as every output states it; `margin` is the matrix's (nil: not known).
    public static func findingRule(margin: Double? = nil) -> String {
        let marginText = margin.map { " (here ±" + DecimalText.fixed($0, decimals: 4) + ")" } ?? ""
        return "a cell is a finding when q < \(qThreshold) (Benjamini–Hochberg over the matrix's defined cells) and its "
            + "\(Int((level * 100).rounded())) % bootstrap interval excludes ±\(Int((marginFraction * 100).rounded())) % "
            + "of the matrix's largest |s|\(marginText)"
    }

    /// What `Permutation.scheme` says: the null and why.
    static func permutationScheme(sentences: Int, fixed: Int) -> String {
        "label sequences permuted among sentences of the same length (within each length stratum), hidden states in place; "
            + "this keeps the dependence between the tokens of a sentence (h carries state along it and labels come in spans), "
            + "which shuffling single tokens would ignore, making p far too small. A sentence whose length no other has keeps its "
            + "labels, which only makes the test conservative (here \(fixed) of \(sentences) sentences). Two-sided: "
            + "p = (1 + #{|s*| ≥ |s|}) / (1 + permutations)"
    }

    /// Seconds each part took (not stored: files stay the same for the same input).
    public struct Timing: Sendable, Equatable {
        public var bootstrap: Double
        public var permutation: Double
    }

    /// The statistics of `sensitivity`, computed from the run it came from: the same tokens,
    /// labels (predicted or gold, as `sensitivity.condition`) and W. Columns in `sensitivity.labels` order.
    /// - Parameters: bootstrap, permutations: counts ≥ 0 (0 skips that part; findings need both).
    public init(run: ModelRun, sensitivity: Sensitivity, bootstrap: Int, permutations: Int, seed: UInt64) {
        self = Self.timed(run: run, sensitivity: sensitivity, bootstrap: bootstrap, permutations: permutations, seed: seed).statistics
    }

    /// `init(run:sensitivity:…)` with the seconds each part took.
    public static func timed(
        run: ModelRun, sensitivity: Sensitivity, bootstrap: Int, permutations: Int, seed: UInt64
    ) -> (statistics: SensitivityStatistics, timing: Timing) {
        let inputs = Sensitivity.inputs(run: run, condition: sensitivity.condition)
        return timed(
            labels: run.labels, neuronCount: run.neuronCount, hidden: run.hidden, assignments: inputs.assignments,
            sentenceStarts: run.sentenceStarts, outputWeight: inputs.outputWeight,
            bootstrap: bootstrap, permutations: permutations, seed: seed)
    }

    /// From the tokens themselves (what `Sensitivity(labels:…)` takes, plus the sentences).
    ///
    /// - Bootstrap: S sentences drawn with replacement, `bootstrap` times, each resample from its
    ///   own SplitMix64 stream of `seed`; whole sentences, because the tokens of a sentence are
    ///   not independent. Each resample's matrix is `Sensitivity`'s formula on the drawn tokens.
    ///   Per cell the 2.5th–97.5th percentile interval; per neuron and label the same of its
    ///   rank (1 = most sensitive, ties to the lower neuron, bounds rounded outwards); per label
    ///   the mean Jaccard overlap of the resample's top 10 with the full sample's. A resample in
    ///   which a label has no token or every token is left out of that label's summaries.
    /// - Permutation test: see `Permutation.scheme`; q by Benjamini–Hochberg over every defined cell.
    /// - Findings (both parts ran): q < 0.05 and (lower > margin or upper < −margin), margin =
    ///   0.1 × the largest |s|.
    ///
    /// - Parameters:
    ///   - hidden: `[N, n]`; assignments: N label indices (−1: none); sentenceStarts: S + 1 offsets, 0 … N.
    ///   - outputWeight: `[m, n]`, or nil for the activation difference (a layer below the top).
    ///   - bootstrap, permutations: ≥ 0; 0 skips that part.
    public init(
        labels: [String], neuronCount: Int, hidden: [Float], assignments: [Int32], sentenceStarts: [Int], outputWeight: [Float]?,
        bootstrap: Int, permutations: Int, seed: UInt64
    ) {
        self = Self.timed(
            labels: labels, neuronCount: neuronCount, hidden: hidden, assignments: assignments, sentenceStarts: sentenceStarts,
            outputWeight: outputWeight, bootstrap: bootstrap, permutations: permutations, seed: seed).statistics
    }

    /// `init(labels:…)` with the seconds each part took.
    public static func timed(
        labels: [String], neuronCount: Int, hidden: [Float], assignments: [Int32], sentenceStarts: [Int], outputWeight: [Float]?,
        bootstrap: Int, permutations: Int, seed: UInt64
    ) -> (statistics: SensitivityStatistics, timing: Timing) {
        let resampling = SensitivityResampling(
            labels: labels, neuronCount: neuronCount, hidden: hidden, assignments: assignments, sentenceStarts: sentenceStarts,
            outputWeight: outputWeight)
        var timing = Timing(bootstrap: 0, permutation: 0)
        var start = Date()
        let bootstrapPart = bootstrap > 0 ? resampling.bootstrap(resamples: bootstrap, seed: seed) : nil
        timing.bootstrap = Date().timeIntervalSince(start)
        start = Date()
        let permutationPart = permutations > 0 ? resampling.permutation(permutations: permutations, seed: seed) : nil
        timing.permutation = Date().timeIntervalSince(start)
        let findings = bootstrapPart.flatMap { intervals in
            permutationPart.map { test in Findings(values: resampling.sensitivity.values, bootstrap: intervals, permutation: test) }
        }
        return (SensitivityStatistics(bootstrap: bootstrapPart, permutation: permutationPart, findings: findings), timing)
    }

    /// The same statistics with columns reordered from `labels` to `order` (as
    /// `CorrelationAnalysis.reorder` reorders the matrix); a label missing from `labels` gives nil.
    public func reordered(labels: [String], to order: [String]) -> SensitivityStatistics {
        let positions = order.map { labels.firstIndex(of: $0) }
        func columns<Value>(_ matrix: [[Value?]]) -> [[Value?]] {
            matrix.map { row in positions.map { $0.flatMap { $0 < row.count ? row[$0] : nil } } }
        }
        var result = self
        if var bootstrap {
            bootstrap.lower = columns(bootstrap.lower)
            bootstrap.upper = columns(bootstrap.upper)
            bootstrap.rankLower = columns(bootstrap.rankLower)
            bootstrap.rankUpper = columns(bootstrap.rankUpper)
            let stability = bootstrap.topTenStability
            bootstrap.topTenStability = positions.map { $0.flatMap { $0 < stability.count ? stability[$0] : nil } }
            result.bootstrap = bootstrap
        }
        if var permutation {
            permutation.p = columns(permutation.p)
            permutation.q = columns(permutation.q)
            result.permutation = permutation
        }
        if var findings {
            findings.cells = columns(findings.cells)
            result.findings = findings
        }
        return result
    }
}

extension SensitivityStatistics.Findings {
    /// The rule applied to a matrix `[n][m]` and its statistics: a defined cell is a finding when
    /// q < `qThreshold` and its interval excludes ±margin, margin = `marginFraction` × the largest
    /// |s|; undefined cells are nil, and a cell without an interval (no resample defined it) or
    /// without q is not a finding.
    public init(values: [[Double?]], bootstrap: SensitivityStatistics.Bootstrap, permutation: SensitivityStatistics.Permutation) {
        let largest = values.reduce(0.0) { partial, row in row.reduce(partial) { max($0, abs($1 ?? 0)) } }
        let margin = SensitivityStatistics.marginFraction * largest
        func entry(_ matrix: [[Double?]], _ neuron: Int, _ label: Int) -> Double? {
            neuron < matrix.count && label < matrix[neuron].count ? matrix[neuron][label] : nil
        }
        var count = 0, defined = 0
        let cells = values.indices.map { neuron in
            values[neuron].indices.map { label -> Bool? in
                guard values[neuron][label] != nil else { return nil }
                defined += 1
                let q = entry(permutation.q, neuron, label) ?? 1
                let lower = entry(bootstrap.lower, neuron, label), upper = entry(bootstrap.upper, neuron, label)
                let clear = (lower.map { $0 > margin } ?? false) || (upper.map { $0 < -margin } ?? false)
                let finding = q < SensitivityStatistics.qThreshold && clear
                if finding { count += 1 }
                return finding
            }
        }
        self.init(
            rule: SensitivityStatistics.findingRule(margin: margin), qThreshold: SensitivityStatistics.qThreshold,
            marginFraction: SensitivityStatistics.marginFraction, margin: margin, cells: cells, count: count, defined: defined)
    }
}

extension SensitivityResampling {
    func bootstrap(resamples: Int, seed: UInt64) -> SensitivityStatistics.Bootstrap {
        bootstrapSummary(matrices: bootstrapMatrices(resamples: resamples, seed: seed), resamples: resamples, seed: seed)
    }

    func permutation(permutations: Int, seed: UInt64) -> SensitivityStatistics.Permutation {
        let plan = permutationPlan()
        return permutationResult(exceedances: exceedances(plan: plan, permutations: permutations, seed: seed), plan: plan, permutations: permutations, seed: seed)
    }

    /// p = (1 + exceedances) / (1 + permutations) per defined cell, and their BH q-values.
    func permutationResult(exceedances: [Int], plan: PermutationPlan, permutations: Int, seed: UInt64) -> SensitivityStatistics.Permutation {
        let m = labelCount, n = neuronCount
        var p = [Double?](repeating: nil, count: m * n)
        var definedCells: [Int] = []
        for cell in 0..<(m * n) where !full[cell].isNaN {
            p[cell] = Double(1 + exceedances[cell]) / Double(1 + permutations)
            definedCells.append(cell)
        }
        let adjusted = Statistics.benjaminiHochberg(definedCells.map { p[$0] ?? 1 })
        var q = [Double?](repeating: nil, count: m * n)
        for (index, cell) in definedCells.enumerated() { q[cell] = adjusted[index] }
        return SensitivityStatistics.Permutation(
            permutations: permutations, seed: seed,
            scheme: SensitivityStatistics.permutationScheme(sentences: sentenceCount, fixed: plan.fixedCount),
            p: Self.neuronMajor(p, labels: m, neurons: n), q: Self.neuronMajor(q, labels: m, neurons: n))
    }
}
