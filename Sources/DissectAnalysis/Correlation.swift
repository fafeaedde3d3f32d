import Foundation
import DissectCore

/// Label-by-label correlation of sensitivity matrices (the paper's Figure 6)
/// and how alike models are.
public struct LabelCorrelation: Codable, Sendable {
    public var name: String
    public var labels: [String]
    /// `[m][m]` Pearson r between label columns across neurons; nil where undefined.
    public var matrix: [[Double?]]
    /// Percentile intervals of every entry from a bootstrap over neurons; nil when none was computed.
    public var bootstrap: CorrelationBootstrap?
}

public struct RankingAgreement: Codable, Sendable {
    public var model: String
    public var label: String
    /// Spearman's rho between the label's sensitivity on the two files.
    public var spearman: Double?
    /// Neurons shared by the two top-10 lists.
    public var topTenOverlap: Int

    public init(model: String, label: String, spearman: Double?, topTenOverlap: Int) {
        self.model = model
        self.label = label
        self.spearman = spearman
        self.topTenOverlap = topTenOverlap
    }

    enum CodingKeys: String, CodingKey {
        case model, label, spearman
        case topTenOverlap = "top10_overlap"
    }
}

public enum CorrelationAnalysis {
    /// The paper's nine labels in its figure order.
    public static let paperLabelOrder = ["B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC", "O"]

    /// The display order: the paper's when the label set is the CoNLL NER set, else as given.
    public static func displayOrder(_ labels: [String]) -> [String] {
        Set(labels) == Set(paperLabelOrder) ? paperLabelOrder : labels
    }

    /// Columns of `values` (labelled `labels`) reordered to `order`; missing labels give nil columns.
    public static func reorder(_ values: [[Double?]], labels: [String], to order: [String]) -> [[Double?]] {
        let positions = order.map { labels.firstIndex(of: $0) }
        return values.map { row in positions.map { $0.flatMap { row[$0] } } }
    }

    /// - Parameter bootstrap: resamples and seed of a bootstrap over neurons (`bootstrap(_:resamples:seed:)`); nil for none.
    public static func correlation(
        name: String, sensitivity: [[Double?]], labels: [String], bootstrap: (resamples: Int, seed: UInt64)? = nil
    ) -> LabelCorrelation {
        LabelCorrelation(
            name: name, labels: labels, matrix: Statistics.columnCorrelation(sensitivity),
            bootstrap: bootstrap.flatMap { CorrelationAnalysis.bootstrap(sensitivity, resamples: $0.resamples, seed: $0.seed) })
    }

    /// Mean of the pairwise similarities (Pearson r of off-diagonal entries) over all pairs of matrices.
    public static func meanPairwiseSimilarity(_ matrices: [[[Double?]]]) -> (mean: Double?, pairs: [Double?]) {
        var pairs: [Double?] = []
        for a in matrices.indices {
            for b in (a + 1)..<matrices.count { pairs.append(Statistics.offDiagonalSimilarity(matrices[a], matrices[b])) }
        }
        let defined = pairs.compactMap { $0 }
        return (defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count), pairs)
    }

    /// Reads a sensitivity CSV in the paper's Figure 7 layout: `neuron,<labels…>` then one row per neuron.
    ///
    /// - Throws: `DissectError` (.input) with the line for an empty file, a header
    ///   with no label, an empty or repeated label, a row of the wrong width, a
    ///   field that is not a finite number, and a file without rows.
    public static func readSensitivityCSV(_ text: String, path: String) throws -> (labels: [String], values: [[Double?]]) {
        let parsed = try readNumberCSV(text, path: path)
        return (parsed.labels, parsed.rows.map(\.values))
    }

    /// Reads a rankings CSV in the paper's Figure 8 layout: `rank,<labels…>`
    /// then one row per rank, each cell a neuron number. Empty cells are
    /// skipped; every other cell must be a whole number from 0 to rows − 1.
    ///
    /// - Throws: `DissectError` (.input) with the line, as `readSensitivityCSV`,
    ///   and for a cell that is not a neuron number.
    public static func readRankingCSV(_ text: String, path: String) throws -> (labels: [String], rankings: [String: [Int]]) {
        let parsed = try readNumberCSV(text, path: path)
        var rankings: [String: [Int]] = [:]
        for (column, label) in parsed.labels.enumerated() {
            var ranking: [Int] = []
            for row in parsed.rows {
                guard let value = row.values[column] else { continue }
                guard let neuron = Int(exactly: value), neuron >= 0, neuron < parsed.rows.count else {
                    throw DissectError(
                        file: path, line: row.line, problem: "'\(value)' under \(label) is not a neuron number (0 to \(parsed.rows.count - 1))",
                        fix: "write each rank's neuron as a whole number below the number of rows")
                }
                ranking.append(neuron)
            }
            rankings[label] = ranking
        }
        return (parsed.labels, rankings)
    }

    /// The header's labels and every row's values, each row with its 1-based line.
    static func readNumberCSV(_ text: String, path: String) throws -> (labels: [String], rows: [(line: Int, values: [Double?])]) {
        // Keep every line's own number for messages; blank lines are skipped, not renumbered.
        let numbered = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (number: $0.offset + 1, text: String($0.element)) }
            .filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let header = numbered.first else {
            throw DissectError(file: path, line: 1, problem: "the file is empty", fix: "pass a CSV with a header `neuron,<labels…>`")
        }
        let labels = header.text.split(separator: ",", omittingEmptySubsequences: false).dropFirst().map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !labels.isEmpty else {
            throw DissectError(file: path, line: header.number, problem: "the header names no labels", fix: "start the file with `neuron,<label>,<label>…`")
        }
        var columns: [String: Int] = [:]
        for (column, label) in labels.enumerated() {
            guard !label.isEmpty else {
                throw DissectError(
                    file: path, line: header.number, problem: "header column \(column + 2) has no label name",
                    fix: "name every column after the first")
            }
            if let earlier = columns.updateValue(column, forKey: label) {
                throw DissectError(
                    file: path, line: header.number,
                    problem: "the header names label \(label) twice (columns \(earlier + 2) and \(column + 2))",
                    fix: "give each label one column")
            }
        }
        var rows: [(line: Int, values: [Double?])] = []
        for line in numbered.dropFirst() {
            let fields = line.text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == labels.count + 1 else {
                throw DissectError(
                    file: path, line: line.number, problem: "the row has \(fields.count) fields but the header has \(labels.count + 1)",
                    fix: "give every row a neuron number and one value per label")
            }
            var row: [Double?] = []
            for field in fields.dropFirst() {
                if field.isEmpty || field == "null" { row.append(nil); continue }
                guard let value = Double(field), value.isFinite else {
                    throw DissectError(
                        file: path, line: line.number, problem: "'\(field)' is not a finite number",
                        fix: "write sensitivities as decimal numbers (empty for undefined)")
                }
                row.append(value)
            }
            rows.append((line.number, row))
        }
        guard !rows.isEmpty else {
            throw DissectError(file: path, line: header.number + 1, problem: "the file has no neuron rows", fix: "add one row per neuron")
        }
        return (labels, rows)
    }
}

public struct PairSimilarity: Codable, Sendable {
    public var first: String
    public var second: String
    public var similarity: Double?
}

public struct ReferenceSimilarity: Codable, Sendable {
    public var model: String
    public var similarity: Double?
}

public struct SimilaritySummary: Codable, Sendable {
    /// Mean over model pairs of the Pearson r between their matrices' off-diagonal entries.
    public var meanPairwise: Double?
    public var pairs: [PairSimilarity]
    public var againstReference: [ReferenceSimilarity]

    enum CodingKeys: String, CodingKey {
        case pairs
        case meanPairwise = "mean_pairwise"
        case againstReference = "against_reference"
    }
}

/// `correlation.json`.
public struct CorrelationDocument: Codable, Sendable {
    public var data: String
    public var agreementData: String?
    public var labels: [String]
    public var models: [LabelCorrelation]
    public var reference: LabelCorrelation?
    public var referenceName: String?
    public var referencePath: String?
    public var similarity: SimilaritySummary
    public var agreement: [RankingAgreement]

    enum CodingKeys: String, CodingKey {
        case data, labels, models, reference, similarity, agreement
        case agreementData = "agreement_data"
        case referenceName = "reference_name"
        case referencePath = "reference_path"
    }
}

public enum CorrelationStudy {
    /// Aligns every matrix to one label order (the paper's for CoNLL NER), correlates, and compares.
    /// - Parameter bootstrap: when given, every model's matrix gets a bootstrap over its neurons
    ///   (`CorrelationAnalysis.bootstrap`), model i with stream i of `seed`; the reference gets none.
    public static func make(
        data: String, agreementData: String?, models: [(name: String, labels: [String], values: [[Double?]])],
        reference: (name: String, labels: [String], values: [[Double?]])?, referencePath: String?,
        agreements: [RankingAgreement], bootstrap: (resamples: Int, seed: UInt64)? = nil
    ) -> CorrelationDocument {
        let order = CorrelationAnalysis.displayOrder(models.first?.labels ?? reference?.labels ?? [])
        let correlations = models.enumerated().map { index, model -> LabelCorrelation in
            // Each model's resamples come from its own stream of the seed.
            let modelBootstrap = bootstrap.map { settings -> (resamples: Int, seed: UInt64) in
                var stream = SplitMix64(seed: settings.seed, stream: 0x434F_5252, UInt64(index))
                return (settings.resamples, stream.next())
            }
            return CorrelationAnalysis.correlation(
                name: model.name, sensitivity: CorrelationAnalysis.reorder(model.values, labels: model.labels, to: order), labels: order,
                bootstrap: modelBootstrap)
        }
        let referenceCorrelation = reference.map { item in
            CorrelationAnalysis.correlation(
                name: item.name, sensitivity: CorrelationAnalysis.reorder(item.values, labels: item.labels, to: order), labels: order)
        }
        var pairs: [PairSimilarity] = []
        for a in correlations.indices {
            for b in (a + 1)..<correlations.count {
                pairs.append(PairSimilarity(
                    first: correlations[a].name, second: correlations[b].name,
                    similarity: Statistics.offDiagonalSimilarity(correlations[a].matrix, correlations[b].matrix)))
            }
        }
        let defined = pairs.compactMap(\.similarity)
        let against = referenceCorrelation.map { referenceMatrix in
            correlations.map { ReferenceSimilarity(model: $0.name, similarity: Statistics.offDiagonalSimilarity($0.matrix, referenceMatrix.matrix)) }
        } ?? []
        return CorrelationDocument(
            data: data, agreementData: agreementData, labels: order, models: correlations, reference: referenceCorrelation,
            referenceName: reference?.name, referencePath: referencePath,
            similarity: SimilaritySummary(
                meanPairwise: defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count), pairs: pairs,
                againstReference: against),
            agreement: agreements)
    }
}

// MARK: Intervals

/// A percentile bootstrap over the neurons (rows) of one sensitivity matrix:
/// how much each label-by-label r would move with another draw of neurons.
public struct CorrelationBootstrap: Codable, Sendable, Equatable {
    public var resamples: Int
    public var seed: UInt64
    /// The coverage, 0.95: the 2.5th and 97.5th percentiles of r over the resamples.
    public var level: Double
    /// `[m][m]` bounds; nil where r is undefined on the full matrix or in more than half the resamples.
    public var lower: [[Double?]]
    public var upper: [[Double?]]

    public init(resamples: Int, seed: UInt64, level: Double, lower: [[Double?]], upper: [[Double?]]) {
        self.resamples = resamples
        self.seed = seed
        self.level = level
        self.lower = lower
        self.upper = upper
    }
}

extension CorrelationAnalysis {
    /// The largest bootstrap a matrix gets: enough for stable 2.5th and 97.5th percentiles, bounded
    /// so a flag cannot ask for unbounded time (r of every label pair is kept per resample).
    public static let maximumCorrelationResamples = 100_000

    /// Resamples the rows of `sensitivity` (`[n][m]`, neurons × labels) with
    /// replacement `resamples` times, recomputes Pearson's r of every pair of
    /// label columns (`Statistics.columnCorrelation`) on each resample, and
    /// keeps the `level` percentile interval of each entry: lower = the
    /// (1 − level)/2 percentile, upper = the (1 + level)/2 percentile.
    /// Resample b draws its rows from `SplitMix64(seed:, stream: b)`, so the result
    /// depends only on the seed. Resamples where r is undefined (a column constant
    /// over the drawn rows) are left out of that entry; an entry defined in at most
    /// half of them is nil.
    ///
    /// - Parameters:
    ///   - resamples: 1 … `maximumCorrelationResamples` (clamped); 0 or less gives nil.
    ///   - level: in (0, 1).
    /// - Returns: nil for fewer than 2 rows or no resamples.
    public static func bootstrap(_ sensitivity: [[Double?]], resamples: Int, seed: UInt64, level: Double = 0.95) -> CorrelationBootstrap? {
        let n = sensitivity.count, m = sensitivity.first?.count ?? 0
        guard resamples > 0, n >= 2, m > 0, level > 0, level < 1 else { return nil }
        let count = min(resamples, maximumCorrelationResamples)
        let full = Statistics.columnCorrelation(sensitivity)
        var samples = [[[Double]]](repeating: [[Double]](repeating: [], count: m), count: m)
        var drawn = [[Double?]](repeating: [], count: n)
        for resample in 0..<count {
            var rng = SplitMix64(seed: seed, stream: 0x424F_4F54, UInt64(resample))
            for row in 0..<n { drawn[row] = sensitivity[rng.nextIndex(below: n)] }
            let matrix = Statistics.columnCorrelation(drawn)
            for a in 0..<m {
                for b in a..<m where full[a][b] != nil { if let r = matrix[a][b] { samples[a][b].append(r) } }
            }
        }
        var lower = [[Double?]](repeating: [Double?](repeating: nil, count: m), count: m), upper = lower
        for a in 0..<m {
            for b in a..<m where samples[a][b].count * 2 > count {
                let low = Statistics.percentile(samples[a][b], (1 - level) / 2 * 100)
                let high = Statistics.percentile(samples[a][b], (1 + level) / 2 * 100)
                lower[a][b] = low; lower[b][a] = low
                upper[a][b] = high; upper[b][a] = high
            }
        }
        return CorrelationBootstrap(resamples: count, seed: seed, level: level, lower: lower, upper: upper)
    }
}

extension Statistics {
    /// The p-quantile of Student's t with `degreesOfFreedom` ν > 0: the t with
    /// P(T ≤ t) = p, found by bisection on the distribution function
    /// F(t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0 (I the regularized incomplete beta).
    /// Closed forms to check against: ν = 1, tan(π(p − ½)); ν = 2, (2p − 1)·√(2 / (4p(1 − p))).
    /// - Returns: nil unless 0 < p < 1 and ν > 0 is finite.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double? {
        guard p > 0, p < 1, nu > 0, nu.isFinite else { return nil }
        if p < 0.5 { return studentTQuantile(1 - p, degreesOfFreedom: nu).map { -$0 } }
        if p == 0.5 { return 0 }
        func cdf(_ t: Double) -> Double { 1 - 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5) }
        var low = 0.0, high = 1.0
        while cdf(high) < p && high < 1e12 { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if cdf(middle) < p { low = middle } else { high = middle }
            if high - low <= 1e-13 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// I_x(a, b), the regularized incomplete beta function, by Lentz's continued
    /// fraction (Numerical Recipes §6.4), for 0 ≤ x ≤ 1 and a, b > 0.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logGammas + a * log(x) + b * log(1 - x)
        // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for step in 1...500 {
            let m = Double(step)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) * result / a
    }

    /// The t interval of a mean over k values: mean ± t_{(1+level)/2, k−1} · sd / √k, sd with k − 1.
    /// - Returns: nil below two values (one value has no spread to measure) or for a non-finite value.
    public static func meanInterval(_ values: [Double], level: Double = 0.95) -> (mean: Double, lower: Double, upper: Double)? {
        guard values.count >= 2, values.allSatisfy(\.isFinite), level > 0, level < 1,
              let t = studentTQuantile((1 + level) / 2, degreesOfFreedom: Double(values.count - 1)) else { return nil }
        let k = Double(values.count)
        let mean = values.reduce(0, +) / k
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (k - 1)).squareRoot()
        let half = t * sd / k.squareRoot()
        return (mean, mean - half, mean + half)
    }
}
