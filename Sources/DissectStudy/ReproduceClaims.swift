import DissectAnalysis
import DissectCore
import Foundation

/// How a claim of the paper fared in this run.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// The numbers agree with the claim.
    case holds
    /// Some of the evidence agrees and some does not.
    case partly
    /// The numbers contradict the claim.
    case fails
    /// The summary lacks the data to judge it.
    case untested
}

/// One claim of the paper, the numbers this run measured for it, and the verdict.
public struct Claim: Codable, Sendable {
    public var claim: String
    public var evidence: String
    public var verdict: Verdict

    public init(claim: String, evidence: String, verdict: Verdict) {
        self.claim = claim
        self.evidence = evidence
        self.verdict = verdict
    }
}

/// Numbers shared by the claims and by the tables and the page that DissectReport
/// draws from them: one computation of each figure, so the page shows what was judged.
package enum ReproduceNumbers {
    /// The rows of the paper's Figure 2 (neuron numbers).
    package static let paperFigure2Neurons = [7, 10, 13, 17, 19, 24, 27, 34, 37, 48]
    /// The paper's ablation pairs: Figure 4 and Figure 5.
    package static let paperPairs = [["B-PER", "B-MISC"], ["B-LOC", "I-ORG"]]
    package static let entityTypes = ["PER", "LOC", "ORG", "MISC"]
    /// The sensitive / insensitive thresholds of claim (a), as fractions of the matrix's largest |s|.
    /// At the paper's scale (largest |s| 2.40) they are 0.48 and 0.096, about its own 0.5 and 0.1.
    package static let sensitiveFraction = 0.2
    package static let insensitiveFraction = 0.04
    /// Claims (b) and (c): ablation depth, and the overall-accuracy tolerance in points.
    package static let ablationK = 10
    package static let flatTolerance = 5.0
    /// Claims (d)–(h): a correlation supports a pattern only when it has the expected sign and |r| ≥ this
    /// (closer to 0 is no correlation; across 50 neurons a single r needs |r| ≥ 0.28 for p < 0.05).
    package static let clearCorrelation = 0.1

    package static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n − 1); nil below two values.
    package static func sd(_ values: [Double]) -> Double? {
        guard values.count >= 2, let average = mean(values) else { return nil }
        let squares = values.map { ($0 - average) * ($0 - average) }.reduce(0, +)
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// F1 in percent: a value ≤ 1 is read as a fraction.
    package static func percent(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return abs(value) <= 1 ? value * 100 : value
    }

    /// `value` with `decimals` digits, a true minus sign for negatives, "–" for nil.
    package static func fixed(_ value: Double?, _ decimals: Int = 2) -> String {
        guard let value else { return "–" }
        let text = DecimalText.fixed(value, decimals: decimals)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }

    package static func signed(_ value: Double?, _ decimals: Int = 2) -> String {
        guard let value else { return "–" }
        let text = DecimalText.fixed(value, decimals: decimals)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : "+" + text
    }

    package static func seedName(_ seed: UInt64) -> String { "seed \(seed)" }

    // MARK: Sensitivity

    /// The largest finite |s| of a matrix.
    package static func largest(_ values: [[Double?]]) -> Double {
        var result = 0.0
        for row in values { for case let value? in row where value.isFinite { result = max(result, abs(value)) } }
        return result
    }

    /// Columns of the paper's matrix in `order` (its own labels may be in another order).
    package static func paperSensitivity(_ paper: PaperFigures, order: [String]) -> [[Double?]] {
        CorrelationAnalysis.reorder(paper.sensitivity, labels: paper.labels, to: order)
    }

    package struct LabelCounts {
        package var label: String
        package var sensitive: Int
        package var insensitive: Int
        package var defined: Bool
    }

    /// Per label: neurons with s > high and with |s| < low.
    package static func counts(_ values: [[Double?]], labels: [String], high: Double, low: Double) -> [LabelCounts] {
        labels.indices.map { column in
            let entries = values.compactMap { column < $0.count ? $0[column] : nil }
            return LabelCounts(
                label: labels[column], sensitive: entries.filter { $0 > high }.count,
                insensitive: entries.filter { abs($0) < low }.count, defined: !entries.isEmpty)
        }
    }

    // MARK: Ablation

    package struct AblationRow {
        package var seed: UInt64
        package var mode: AblationMode
        package var ranking: String
        package var k: Int
        package var kMax: Int
        /// Accuracy lost at k, in points (positive: lower accuracy).
        package var ranked: Double?
        /// The other labels of the pair.
        package var partners: [(label: String, drop: Double?)]
        package var others: Double?
        package var all: Double?
        package var allAtMax: Double?
        /// The ranked label's loss at K, and the random orders' mean loss for it at K.
        package var rankedAtMax: Double?
        package var randomMeanAtMax: Double?
        /// The ranked label's loss under random orders (mean and the 95th-percentile order's).
        package var randomMean: Double?
        package var randomWorst: Double?

        package var holds: Bool? {
            guard let ranked else { return nil }
            let competitors = partners.compactMap(\.drop) + [others, randomMean].compactMap { $0 }
            return competitors.allSatisfy { ranked > $0 }
        }
    }

    package static func drop(_ values: [Double]?, at k: Int) -> Double? {
        guard let values, let first = values.first, k < values.count else { return nil }
        return (first - values[k]) * 100
    }

    package static func ablationRows(_ summary: ReproduceSummary, seed: UInt64? = nil) -> [AblationRow] {
        var rows: [AblationRow] = []
        for entry in summary.ablations where seed == nil || entry.seed == seed {
            let document = entry.document
            for label in entry.pair {
                guard let curve = document.curves[label] else { continue }
                let length = curve.accuracy["all"]?.count ?? curve.f1.count
                guard length > 0 else { continue }
                let kMax = length - 1
                let k = min(ablationK, kMax)
                let random = document.controls.random
                // The 5th percentile of accuracy is the worst random order's drop (high drop).
                rows.append(AblationRow(
                    seed: entry.seed, mode: document.mode, ranking: label, k: k, kMax: kMax,
                    ranked: drop(curve.accuracy[label], at: k),
                    partners: entry.pair.filter { $0 != label }.map { ($0, drop(curve.accuracy[$0], at: k)) },
                    others: drop(curve.accuracy["others"], at: k), all: drop(curve.accuracy["all"], at: k),
                    allAtMax: drop(curve.accuracy["all"], at: kMax),
                    rankedAtMax: drop(curve.accuracy[label], at: kMax),
                    randomMeanAtMax: random.flatMap { drop($0.mean.accuracy[label], at: kMax) },
                    randomMean: random.flatMap { drop($0.mean.accuracy[label], at: k) },
                    randomWorst: random.flatMap { control -> Double? in
                        guard let low = control.p05.accuracy[label], let start = control.mean.accuracy[label]?.first, k < low.count else { return nil }
                        return (start - low[k]) * 100
                    }))
            }
        }
        return rows
    }

    // MARK: Correlation

    package static func entry(_ correlation: LabelCorrelation, _ a: String, _ b: String) -> Double? {
        guard let i = correlation.labels.firstIndex(of: a), let j = correlation.labels.firstIndex(of: b),
              i < correlation.matrix.count, j < correlation.matrix[i].count else { return nil }
        return correlation.matrix[i][j]
    }

    package struct Pattern {
        package var letter: String
        package var text: String
        package var pairs: [(String, String)]
        package var positive: Bool
        /// Share of pairs with the expected sign for "holds"; at least half gives "partly".
        package var holdShare: Double
    }

    package static let patterns: [Pattern] = {
        let types = entityTypes
        let crossed = types.flatMap { x in types.filter { $0 != x }.map { y in ("B-" + x, "I-" + y) } }
        return [
            Pattern(letter: "d", text: "B-x and I-x are positively correlated (B-PER/I-PER, B-LOC/I-LOC, B-ORG/I-ORG, B-MISC/I-MISC)",
                    pairs: types.map { ("B-" + $0, "I-" + $0) }, positive: true, holdShare: 1),
            Pattern(letter: "e", text: "I-LOC, I-ORG and I-MISC are positively correlated with each other",
                    pairs: [("I-LOC", "I-ORG"), ("I-LOC", "I-MISC"), ("I-ORG", "I-MISC")], positive: true, holdShare: 1),
            Pattern(letter: "f", text: "B-x and I-y (x ≠ y) are generally negatively correlated",
                    pairs: crossed, positive: false, holdShare: 0.75),
            Pattern(letter: "g", text: "O is negatively correlated with every I-x",
                    pairs: types.map { ("O", "I-" + $0) }, positive: false, holdShare: 1),
        ]
    }()

    package struct PatternResult {
        /// Per pair: the mean r over the matrices (nil if undefined everywhere).
        package var values: [(pair: (String, String), r: Double?)]
        package var agreeing: Int
        package var defined: Int
        package var verdict: Verdict
        package var share: Double { defined == 0 ? 0 : Double(agreeing) / Double(defined) }
    }

    package static func evaluate(_ pattern: Pattern, _ matrices: [LabelCorrelation]) -> PatternResult {
        var values: [(pair: (String, String), r: Double?)] = []
        var agreeing = 0, defined = 0
        for pair in pattern.pairs {
            let rs = matrices.compactMap { entry($0, pair.0, pair.1) }
            let r = mean(rs)
            values.append((pair, r))
            guard let r else { continue }
            defined += 1
            // Judged on r as printed (two decimals), so the evidence reads the way it is counted.
            let shown = (r * 100).rounded() / 100
            if pattern.positive ? shown >= clearCorrelation : shown <= -clearCorrelation { agreeing += 1 }
        }
        let verdict: Verdict
        if defined == 0 {
            verdict = .untested
        } else {
            let share = Double(agreeing) / Double(defined)
            verdict = share >= pattern.holdShare - 1e-9 && defined == pattern.pairs.count ? .holds : share >= 0.5 ? .partly : .fails
        }
        return PatternResult(values: values, agreeing: agreeing, defined: defined, verdict: verdict)
    }
}

/// The paper's claims judged on a `ReproduceSummary`: the one place that
/// decides verdicts (DissectReport only shows them).
public enum ReproduceClaims {
    /// The paper's claims with this run's numbers and a verdict each: (a)–(h) as
    /// the report's brief lists them, then (i) the F1 and (j) likeness to the
    /// paper's own correlation matrix.
    public static func evaluate(_ summary: ReproduceSummary) -> [Claim] {
        var claims: [Claim] = [sensitivityClaim(summary)]
        let ablation = ablationClaims(summary)
        claims += ablation.filter { $0.claim.hasPrefix("(b)") } + ablation.filter { !$0.claim.hasPrefix("(b)") }
        claims += correlationClaims(summary)
        claims.append(f1Claim(summary))
        claims.append(paperLikenessClaim(summary))
        return claims
    }

    typealias N = ReproduceNumbers

    static func sensitivityClaim(_ summary: ReproduceSummary) -> Claim {
        let text = "(a) Each label has several sensitive neurons and several insensitive ones (at least 2 of each; dev, first seed)"
        guard let document = summary.sensitivityDev.first, let seed = summary.seeds.first?.seed else {
            return Claim(claim: text, evidence: "no sensitivity on dev in the summary", verdict: .untested)
        }
        func describe(_ values: [[Double?]], labels: [String]) -> (text: String, passing: Int, total: Int) {
            let scale = N.largest(values)
            let high = N.sensitiveFraction * scale, low = N.insensitiveFraction * scale
            let counts = N.counts(values, labels: labels, high: high, low: low)
            let passing = counts.filter { $0.defined && $0.sensitive >= 2 && $0.insensitive >= 2 }.count
            let list = counts.map { $0.defined ? "\($0.label) \($0.sensitive)/\($0.insensitive)" : "\($0.label) undefined" }
            let text = "largest |s| \(N.fixed(scale)), so s > \(N.fixed(high, 3)) counts as sensitive and |s| < \(N.fixed(low, 3)) as insensitive; "
                + "sensitive/insensitive neurons per label: " + list.joined(separator: ", ")
                + "; \(passing) of \(labels.count) labels have ≥ 2 of each"
            return (text, passing, labels.count)
        }
        let ours = describe(document.sensitivity, labels: document.labels)
        var evidence = "Thresholds are \(Int(N.sensitiveFraction * 100))% and \(Int(N.insensitiveFraction * 100))% of the matrix's largest |s|. "
            + "\(N.seedName(seed)): " + ours.text + "."
        let others = summary.sensitivityDev.dropFirst().enumerated().map { index, other -> String in
            let result = describe(other.sensitivity, labels: other.labels)
            let name = index + 1 < summary.seeds.count ? N.seedName(summary.seeds[index + 1].seed) : "model \(index + 2)"
            return "\(name) \(result.passing)/\(result.total)"
        }
        if !others.isEmpty { evidence += " Other seeds (labels passing): " + others.joined(separator: ", ") + "." }
        if let paper = summary.paper {
            let result = describe(N.paperSensitivity(paper, order: document.labels), labels: document.labels)
            evidence += " Paper (Figure 7): \(result.passing)/\(result.total) labels pass."
        }
        let verdict: Verdict = ours.passing == ours.total ? .holds : Double(ours.passing) >= Double(ours.total) / 2 ? .partly : .fails
        return Claim(claim: text, evidence: evidence, verdict: verdict)
    }

    static func ablationClaims(_ summary: ReproduceSummary) -> [Claim] {
        let firstSeed = summary.seeds.first?.seed ?? summary.ablations.first?.seed
        let all = N.ablationRows(summary)
        let rows = all.filter { $0.seed == firstSeed }
        var claims: [Claim] = []
        for mode in AblationMode.allCases {
            let modeRows = rows.filter { $0.mode == mode }
            let textB = "(b) Ablating a label's top neurons lowers that label's accuracy much faster than the other labels' (\(mode.rawValue) mode)"
            let textC = "(c) Overall accuracy stays nearly flat while ranked neurons are ablated (\(mode.rawValue) mode)"
            guard !modeRows.isEmpty, let firstSeed else {
                claims.append(Claim(claim: textB, evidence: "no \(mode.rawValue)-mode ablation in the summary", verdict: .untested))
                claims.append(Claim(claim: textC, evidence: "no \(mode.rawValue)-mode ablation in the summary", verdict: .untested))
                continue
            }
            let k = modeRows.map(\.k).min() ?? N.ablationK
            let judged = modeRows.compactMap(\.holds)
            let passing = judged.filter { $0 }.count
            var evidence = "Accuracy lost at k = \(k) ablated neurons, in points (\(N.seedName(firstSeed)), test): "
            evidence += modeRows.map { row in
                var parts = ["\(row.ranking) \(N.fixed(row.ranked, 1))"]
                parts += row.partners.map { "\($0.label) \(N.fixed($0.drop, 1))" }
                parts.append("others \(N.fixed(row.others, 1))")
                parts.append("random orders \(N.fixed(row.randomMean, 1))")
                let mark = row.holds.map { $0 ? "✓" : "✗" } ?? "?"
                let late = " (at k = \(row.kMax): \(N.fixed(row.rankedAtMax, 1)) vs random \(N.fixed(row.randomMeanAtMax, 1)))"
                return "by the \(row.ranking) ranking: " + parts.joined(separator: ", ") + " \(mark)" + late
            }.joined(separator: "; ")
            evidence += ". A ranking passes when its label loses more than each other label of the pair, \"others\" and the random orders' mean."
            let everySeed = all.filter { $0.mode == mode }.compactMap(\.holds)
            let seedCount = Set(all.filter { $0.mode == mode }.map(\.seed)).count
            if seedCount > 1 {
                evidence += " Over all \(seedCount) seeds: \(everySeed.filter { $0 }.count) of \(everySeed.count) rankings pass."
            }
            let verdictB: Verdict = judged.isEmpty ? .untested : passing == judged.count ? .holds : passing == 0 ? .fails : .partly
            claims.append(Claim(claim: textB, evidence: evidence, verdict: verdictB))

            let atK = modeRows.compactMap(\.all)
            let atMax = modeRows.compactMap(\.allAtMax)
            let kMax = modeRows.map(\.kMax).min() ?? k
            var evidenceC = "Accuracy over all tokens lost (points, \(N.seedName(firstSeed)), test) at k = \(k): "
            evidenceC += modeRows.map { "\($0.ranking) ranking \(N.fixed($0.all, 2))" }.joined(separator: ", ")
            evidenceC += "; at k = \(kMax): " + modeRows.map { "\($0.ranking) ranking \(N.fixed($0.allAtMax, 2))" }.joined(separator: ", ")
            evidenceC += ". Flat means a loss below \(N.fixed(N.flatTolerance, 0)) points."
            let verdictC: Verdict
            if atK.isEmpty {
                verdictC = .untested
            } else if atK.allSatisfy({ $0 < N.flatTolerance }) {
                verdictC = atMax.allSatisfy { $0 < N.flatTolerance } ? .holds : .partly
            } else {
                verdictC = atK.contains { $0 < N.flatTolerance } ? .partly : .fails
            }
            claims.append(Claim(claim: textC, evidence: evidenceC, verdict: verdictC))
        }
        return claims
    }

    static func correlationClaims(_ summary: ReproduceSummary) -> [Claim] {
        let models = summary.correlationDev.models
        var claims: [Claim] = []
        var perSeed: [[Verdict]] = []
        for pattern in N.patterns {
            let text = "(\(pattern.letter)) " + pattern.text + " (mean over seeds, dev)"
            guard !models.isEmpty else {
                claims.append(Claim(claim: text, evidence: "no correlation matrices in the summary", verdict: .untested))
                continue
            }
            let result = N.evaluate(pattern, models)
            var evidence = "Mean r over \(models.count) model\(models.count == 1 ? "" : "s"): "
            evidence += result.values.map { "\($0.pair.0)/\($0.pair.1) \(N.signed($0.r))" }.joined(separator: ", ")
            let sign = pattern.positive ? "positive (r ≥ \(N.fixed(N.clearCorrelation, 2)))" : "negative (r ≤ −\(N.fixed(N.clearCorrelation, 2)))"
            evidence += "; \(result.agreeing) of \(result.defined) clearly \(sign)"
            if pattern.holdShare < 1 {
                evidence += " = \(N.fixed(result.share * 100, 0))% (holds at ≥ \(N.fixed(pattern.holdShare * 100, 0))%, partly at ≥ 50%)"
            }
            evidence += "."
            if let reference = summary.correlationDev.reference {
                let paper = N.evaluate(pattern, [reference])
                evidence += " Paper's matrix: \(paper.agreeing) of \(paper.defined)."
            }
            claims.append(Claim(claim: text, evidence: evidence, verdict: result.verdict))
            perSeed.append(models.map { N.evaluate(pattern, [$0]).verdict })
        }
        let text = "(h) These correlation patterns hold in each of the independently trained models"
        guard !models.isEmpty else {
            claims.append(Claim(claim: text, evidence: "no correlation matrices in the summary", verdict: .untested))
            return claims
        }
        var evidence = models.enumerated().map { index, model in
            let verdicts = zip(N.patterns, perSeed).map { "\($0.letter) \($1[index].rawValue)" }
            return "\(model.name): " + verdicts.joined(separator: ", ")
        }.joined(separator: "; ")
        evidence += ". Mean pairwise similarity of the models' matrices (Pearson r of off-diagonal entries, dev): "
            + N.fixed(summary.correlationDev.similarity.meanPairwise) + "."
        let cells = perSeed.flatMap { $0 }.filter { $0 != .untested }
        let holding = cells.filter { $0 == .holds }.count
        let verdict: Verdict
        if cells.isEmpty {
            verdict = .untested
        } else if holding == cells.count {
            verdict = .holds
        } else if Double(holding) >= Double(cells.count) / 2 {
            verdict = .partly
        } else {
            verdict = .fails
        }
        evidence += " \(holding) of \(cells.count) (model, pattern) cells hold."
        claims.append(Claim(claim: text, evidence: evidence, verdict: verdict))
        return claims
    }

    static func f1Claim(_ summary: ReproduceSummary) -> Claim {
        let reported = summary.paper?.reportedF1 ?? 86.4
        let text = "(i) The uni-directional LSTM tagger reaches F1 \(N.fixed(reported, 1)) (NCRF++'s scorer; the checkpoint chosen on dev)"
        let dev = summary.seeds.compactMap { N.percent($0.record.devF1NCRF) }
        let test = summary.seeds.compactMap { N.percent($0.record.testF1NCRF) }
        guard let devMean = N.mean(dev) ?? N.mean(test) else {
            return Claim(claim: text, evidence: "no F1 by NCRF++'s scorer in the training records", verdict: .untested)
        }
        let testMean = N.mean(test)
        var evidence = "Mean over \(summary.seeds.count) seeds, NCRF++'s scorer: dev \(N.fixed(N.mean(dev), 2)) ± \(N.fixed(N.sd(dev), 2)), "
            + "test \(N.fixed(testMean, 2)) ± \(N.fixed(N.sd(test), 2)). The paper does not say which set its number is on; "
            + "holds when either mean is within 1 point of it, partly within 3."
        let gap = min(abs(devMean - reported), testMean.map { abs($0 - reported) } ?? .infinity)
        evidence += " Closest gap: \(N.fixed(gap, 2)) points."
        let verdict: Verdict = gap <= 1 ? .holds : gap <= 3 ? .partly : .fails
        return Claim(claim: text, evidence: evidence, verdict: verdict)
    }

    static func paperLikenessClaim(_ summary: ReproduceSummary) -> Claim {
        let text = "(j) Our label-correlation matrices resemble the paper's (a comparison, not a claim of the paper)"
        let against = summary.correlationDev.similarity.againstReference
        let values = against.compactMap(\.similarity)
        guard summary.correlationDev.reference != nil, let average = N.mean(values) else {
            return Claim(claim: text, evidence: "the summary has no paper matrix to compare with", verdict: .untested)
        }
        var evidence = "Pearson r between off-diagonal entries, each model vs the paper (dev): "
        evidence += against.map { "\($0.model) \(N.fixed($0.similarity))" }.joined(separator: ", ")
        evidence += "; mean \(N.fixed(average)). Holds at ≥ 0.5, partly at ≥ 0.2."
        let verdict: Verdict = average >= 0.5 ? .holds : average >= 0.2 ? .partly : .fails
        return Claim(claim: text, evidence: evidence, verdict: verdict)
    }
}
