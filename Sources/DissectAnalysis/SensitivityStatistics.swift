import DissectCore

/// How sure a sensitivity matrix is: bootstrap intervals, permutation
/// p-values with Benjamini–Hochberg q-values, and which cells are findings.
/// Every matrix is `[n][m]`, columns in the same label order as the
/// `Sensitivity.Document` that holds it; nil where the sensitivity is undefined.
public struct SensitivityStatistics: Codable, Sendable, Equatable {
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
