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

/// One claim of the paper, the rule that judges it, the numbers this run measured for it, and the verdict.
public struct Claim: Codable, Sendable {
    public var claim: String
    /// How the numbers become the verdict, fixed before the data (thresholds in `ReproduceNumbers`).
    public var rule: String
    public var evidence: String
    public var verdict: Verdict
    /// A robustness row beside a claim (claim (b) with mean- or resample-value ablation), not a claim of the paper.
    public var robustness: Bool

    public init(claim: String, rule: String, evidence: String, verdict: Verdict, robustness: Bool = false) {
        self.claim = claim
        self.rule = rule
        self.evidence = evidence
        self.verdict = verdict
        self.robustness = robustness
    }
}

/// Numbers shared by the claims and by the tables and the page that DissectReport
/// draws from them: one computation of each figure, so the page shows what was judged.
/// Every threshold of every verdict is here, fixed before the data.
package enum ReproduceNumbers {
    /// The rows of the paper's Figure 2 (neuron numbers).
    package static let paperFigure2Neurons = [7, 10, 13, 17, 19, 24, 27, 34, 37, 48]
    /// The paper's ablation pairs: Figure 4 and Figure 5.
    package static let paperPairs = [["B-PER", "B-MISC"], ["B-LOC", "I-ORG"]]
    package static let entityTypes = ["PER", "LOC", "ORG", "MISC"]
    /// The paper's reported F1 (Section 3.2, NCRF++'s scorer).
    package static let paperF1 = 86.4
    /// The sensitive / insensitive thresholds of claim (a), as fractions of the matrix's largest |s|.
    /// At the paper's scale (largest |s| 2.40) they are 0.48 and 0.096, about its own 0.5 and 0.1.
    package static let sensitiveFraction = 0.2
    package static let insensitiveFraction = 0.04
    /// Claim (a): neurons of each kind a label needs.
    package static let neuronsOfEachKind = 2
    /// Claims (b) and (c): the ablation depth k.
    package static let ablationK = 10
    /// Claims (b) and (c): random orders needed before their 95th-percentile drop is the bar
    /// (the 5th percentile of 100 values rests on 5 of them); with fewer, the largest drop over the orders is.
    package static let percentileOrders = 100
    /// Claims judged over cases or pairs: holds from this share passing, partly from `partlyShare`, else fails.
    package static let holdsShare = 0.75
    package static let partlyShare = 0.5
    /// Claims (d)–(h): a correlation supports a pattern only when its interval lies on the expected
    /// side of 0 and |mean r| ≥ this (closer to 0 is no correlation worth the name).
    package static let clearCorrelation = 0.1
    /// The coverage of every interval.
    package static let intervalLevel = 0.95
    /// Claim (i): points from the paper's F1 for holds and for partly.
    package static let f1Holds = 1.0
    package static let f1Partly = 3.0
    /// Claim (j): mean similarity to the paper's matrix for holds and for partly.
    package static let likenessHolds = 0.5
    package static let likenessPartly = 0.2

    /// The verdict of a claim judged case by case: untested with no case, holds when at least
    /// `holdsShare` of the cases pass, partly from `partlyShare`, else fails.
    package static func shareVerdict(passing: Int, judged: Int) -> Verdict {
        guard judged > 0 else { return .untested }
        let share = Double(passing) / Double(judged)
        return share >= holdsShare - 1e-12 ? .holds : share >= partlyShare - 1e-12 ? .partly : .fails
    }

    /// "holds when ≥ 75 % of them pass, partly from 50 %, else fails".
    package static var shareRuleText: String {
        "holds when at least \(fixed(holdsShare * 100, 0)) % of them pass, partly from \(fixed(partlyShare * 100, 0)) %, else fails"
    }

    /// "a", "a and b", "a, b and c".
    package static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }

    package static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation (n − 1); nil below two values.
    package static func sd(_ values: [Double]) -> Double? {
        guard values.count >= 2, let average = mean(values) else { return nil }
        let squares = values.map { ($0 - average) * ($0 - average) }.reduce(0, +)
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// An F1 as the training records store it, in percent (0.87 is 0.87 %, a collapsed model);
    /// nil when missing or not finite.
    package static func percent(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return value
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

    /// What bar the random orders set: their 95th-percentile drop, or (fewer than `percentileOrders` orders) their largest.
    package enum RandomBar: String {
        case percentile95 = "95th percentile"
        case largest = "largest"
    }

    /// One (seed, mode, value, ranking) case of claims (b) and (c). Drops are accuracy lost in points,
    /// acc(0) − acc(k) on test (positive: lower accuracy).
    package struct AblationRow {
        package var seed: UInt64
        package var mode: AblationMode
        /// What the ablated h_i became (nil in a document is zero).
        package var value: AblationValue
        package var ranking: String
        package var k: Int
        package var kMax: Int
        package var ranked: Double?
        /// The other labels of the pair.
        package var partners: [(label: String, drop: Double?)]
        package var others: Double?
        package var all: Double?
        package var allAtMax: Double?
        /// The ranked label's loss at K, and the random orders' mean loss for it at K.
        package var rankedAtMax: Double?
        package var randomMeanAtMax: Double?
        /// The ranked label's mean loss under the random orders.
        package var randomMean: Double?
        package var randomCount: Int?
        /// The random orders' bar for the ranked label's drop and for the overall loss (`bar` says which statistic).
        package var randomBar: Double?
        package var randomAllBar: Double?
        package var bar: RandomBar?
        /// The ranked label's share of the test tokens, in [0, 1].
        package var share: Double?

        /// Claim (b): the ranked label's drop exceeds the random bar and each partner's drop; nil when a number is missing.
        package var passesB: Bool? {
            guard let ranked, let randomBar else { return nil }
            return ranked > randomBar && partners.compactMap(\.drop).allSatisfy { ranked > $0 }
        }

        /// Claim (c)'s bar for the overall loss: share × the ranked label's drop (what losing only that
        /// label costs over all tokens) + the random orders' overall bar.
        package var overallBound: Double? {
            guard let share, let ranked, let randomAllBar else { return nil }
            return share * max(0, ranked) + randomAllBar
        }

        /// Claim (c): the overall loss stays within `overallBound`.
        package var passesC: Bool? {
            guard let all, let overallBound else { return nil }
            return all <= overallBound
        }
    }

    package static func drop(_ values: [Double]?, at k: Int) -> Double? {
        guard let values, let first = values.first, k < values.count else { return nil }
        return (first - values[k]) * 100
    }

    /// The random orders' bar for `key` at k, in points: acc(0) − the 5th percentile of accuracy
    /// (the 95th percentile of the drop) with at least `percentileOrders` orders, else acc(0) − the lowest accuracy.
    package static func randomBar(_ control: RandomControl, key: String, k: Int) -> (value: Double, bar: RandomBar)? {
        guard let start = control.mean.accuracy[key]?.first else { return nil }
        if control.count >= percentileOrders, let low = control.p05.accuracy[key], k < low.count {
            return ((start - low[k]) * 100, .percentile95)
        }
        if let low = control.minimum?.accuracy[key], k < low.count { return ((start - low[k]) * 100, .largest) }
        return nil
    }

    /// `label`'s share of the test tokens for `seed`: gold counts from the summary's task, or (older
    /// summaries) the labels predicted on test by that seed. `gold` says which.
    package static func testShare(_ summary: ReproduceSummary, seed: UInt64, label: String) -> (share: Double, gold: Bool)? {
        if let counts = summary.task?.testLabelCounts, !counts.isEmpty {
            let total = counts.values.reduce(0, +)
            return total > 0 ? (Double(counts[label] ?? 0) / Double(total), true) : nil
        }
        guard let index = summary.seeds.firstIndex(where: { $0.seed == seed }), index < summary.sensitivityTest.count else { return nil }
        let counts = summary.sensitivityTest[index].predictedCounts
        let total = counts.values.reduce(0, +)
        return total > 0 ? (Double(counts[label] ?? 0) / Double(total), false) : nil
    }

    /// Every (seed, ranking) case of every ablation study in the summary (or of one seed), in summary order.
    package static func ablationRows(_ summary: ReproduceSummary, seed: UInt64? = nil) -> [AblationRow] {
        ablationRows(summary.ablations, summary: summary, seed: seed)
    }

    /// The same for a list of entries (the control models' too); shares come from `summary`.
    package static func ablationRows(_ entries: [AblationEntry], summary: ReproduceSummary, seed: UInt64? = nil) -> [AblationRow] {
        var rows: [AblationRow] = []
        for entry in entries where seed == nil || entry.seed == seed {
            let document = entry.document
            for label in entry.pair {
                guard let curve = document.curves[label] else { continue }
                let length = curve.accuracy["all"]?.count ?? curve.f1.count
                guard length > 0 else { continue }
                let kMax = length - 1
                let k = min(ablationK, kMax)
                let random = document.controls.random
                let labelBar = random.flatMap { randomBar($0, key: label, k: k) }
                rows.append(AblationRow(
                    seed: entry.seed, mode: document.mode, value: document.value ?? .zero, ranking: label, k: k, kMax: kMax,
                    ranked: drop(curve.accuracy[label], at: k),
                    partners: entry.pair.filter { $0 != label }.map { ($0, drop(curve.accuracy[$0], at: k)) },
                    others: drop(curve.accuracy["others"], at: k), all: drop(curve.accuracy["all"], at: k),
                    allAtMax: drop(curve.accuracy["all"], at: kMax),
                    rankedAtMax: drop(curve.accuracy[label], at: kMax),
                    randomMeanAtMax: random.flatMap { drop($0.mean.accuracy[label], at: kMax) },
                    randomMean: random.flatMap { drop($0.mean.accuracy[label], at: k) },
                    randomCount: random?.count,
                    randomBar: labelBar?.value, randomAllBar: random.flatMap { randomBar($0, key: "all", k: k)?.value },
                    bar: labelBar?.bar, share: testShare(summary, seed: entry.seed, label: label)?.share))
            }
        }
        return rows
    }

    /// How the random bar was set for these rows, e.g. "the 95th percentile of 100 random orders".
    package static func barDescription(_ rows: [AblationRow]) -> String {
        let counts = Set(rows.compactMap(\.randomCount)).sorted()
        let countText = counts.isEmpty ? "no" : counts.map(String.init).joined(separator: "/")
        let bars = Set(rows.compactMap(\.bar?.rawValue)).sorted()
        guard !bars.isEmpty else { return "no usable random control (\(countText) orders)" }
        if bars == [RandomBar.percentile95.rawValue] { return "the 95th-percentile drop over \(countText) random orders" }
        return "the largest drop over \(countText) random orders (fewer than \(percentileOrders): no 95th percentile)"
    }

    package static var ruleB: String {
        "At k = \(ablationK) ablated neurons (or K when the curves are shorter), a (seed, ranking) case passes when the ranked label's "
            + "accuracy drop exceeds both the random orders' drop for that label (their 95th percentile with at least \(percentileOrders) "
            + "orders; with fewer, the largest drop over them) and the drop of each other label of its pair. The claim "
            + shareRuleText + "."
    }

    package static var ruleC: String {
        "At k = \(ablationK), a case passes when the overall (all-token) accuracy loss is at most the ranked label's share of the "
            + "test tokens × its own drop (what losing only that label would cost overall) plus the random orders' overall loss "
            + "(95th percentile with at least \(percentileOrders) orders, else the largest). The claim " + shareRuleText + "."
    }

    // MARK: Correlation

    package static func entry(_ correlation: LabelCorrelation, _ a: String, _ b: String) -> Double? {
        guard let (i, j) = indices(correlation, a, b), i < correlation.matrix.count, j < correlation.matrix[i].count else { return nil }
        return correlation.matrix[i][j]
    }

    /// The bootstrap interval of one entry; nil without a bootstrap.
    package static func bootstrapInterval(_ correlation: LabelCorrelation, _ a: String, _ b: String) -> (lower: Double, upper: Double)? {
        guard let bootstrap = correlation.bootstrap, let (i, j) = indices(correlation, a, b),
              i < bootstrap.lower.count, j < bootstrap.lower[i].count, i < bootstrap.upper.count, j < bootstrap.upper[i].count,
              let lower = bootstrap.lower[i][j], let upper = bootstrap.upper[i][j] else { return nil }
        return (lower, upper)
    }

    static func indices(_ correlation: LabelCorrelation, _ a: String, _ b: String) -> (Int, Int)? {
        guard let i = correlation.labels.firstIndex(of: a), let j = correlation.labels.firstIndex(of: b) else { return nil }
        return (i, j)
    }

    package struct Pattern {
        package var letter: String
        package var text: String
        package var pairs: [(String, String)]
        package var positive: Bool
        /// Share of pairs that must agree for "holds"; from `partlyShare` gives "partly".
        package var holdShare: Double
        /// Why the pattern cannot be judged on this label set; nil when it can.
        package var untestable: String?
    }

    /// The paper's patterns on its nine labels.
    package static let paperPatterns: [Pattern] = {
        let types = entityTypes
        let crossed = types.flatMap { x in types.filter { $0 != x }.map { y in ("B-" + x, "I-" + y) } }
        return [
            Pattern(letter: "d", text: "B-x and I-x are positively correlated (B-PER/I-PER, B-LOC/I-LOC, B-ORG/I-ORG, B-MISC/I-MISC)",
                    pairs: types.map { ("B-" + $0, "I-" + $0) }, positive: true, holdShare: 1),
            Pattern(letter: "e", text: "I-LOC, I-ORG and I-MISC are positively correlated with each other",
                    pairs: [("I-LOC", "I-ORG"), ("I-LOC", "I-MISC"), ("I-ORG", "I-MISC")], positive: true, holdShare: 1),
            Pattern(letter: "f", text: "B-x and I-y (x ≠ y) are generally negatively correlated",
                    pairs: crossed, positive: false, holdShare: holdsShare),
            Pattern(letter: "g", text: "O is negatively correlated with every I-x",
                    pairs: types.map { ("O", "I-" + $0) }, positive: false, holdShare: 1),
        ]
    }()

    /// The patterns (d)–(g) for a label set: the paper's on its nine labels; on another BIO set
    /// the same patterns over the entity types present (`LabelScheme`); on a set that is not BIO,
    /// each pattern untestable with the reason.
    package static func patterns(labels: [String]) -> [Pattern] {
        if Set(labels) == Set(CorrelationAnalysis.paperLabelOrder) { return paperPatterns }
        let scheme = LabelScheme.detect(labels)
        let generic = [
            ("d", "B-x and I-x are positively correlated", true, 1.0),
            ("e", "The I-x labels are positively correlated with each other", true, 1.0),
            ("f", "B-x and I-y (x ≠ y) are generally negatively correlated", false, holdsShare),
            ("g", "O is negatively correlated with every I-x", false, 1.0),
        ]
        guard let reason = scheme.notBIOReason else { return bioPatterns(scheme) }
        return generic.map { Pattern(letter: $0.0, text: $0.1, pairs: [], positive: $0.2, holdShare: $0.3, untestable: reason) }
    }

    static func bioPatterns(_ scheme: LabelScheme) -> [Pattern] {
        let types = scheme.types
        let both = types.compactMap { type in scheme.begin[type].flatMap { begin in scheme.inside[type].map { (begin, $0) } } }
        let inside = types.compactMap { scheme.inside[$0] }
        var insidePairs: [(String, String)] = []
        for a in inside.indices { for b in (a + 1)..<inside.count { insidePairs.append((inside[a], inside[b])) } }
        let crossed = types.flatMap { x in
            types.filter { $0 != x }.compactMap { y -> (String, String)? in
                guard let begin = scheme.begin[x], let other = scheme.inside[y] else { return nil }
                return (begin, other)
            }
        }
        let outside = scheme.outside
        func pattern(_ letter: String, _ text: String, _ pairs: [(String, String)], _ positive: Bool, _ share: Double, _ missing: String) -> Pattern {
            Pattern(letter: letter, text: text, pairs: pairs, positive: positive, holdShare: share, untestable: pairs.isEmpty ? missing : nil)
        }
        return [
            pattern("d", "B-x and I-x are positively correlated (" + both.map { "\($0.0)/\($0.1)" }.joined(separator: ", ") + ")",
                    both, true, 1, "no entity type has both a B- and an I- label"),
            pattern("e", (inside.count >= 2 ? list(inside) : "The I-x labels") + " are positively correlated with each other", insidePairs, true, 1,
                    "the label set has fewer than two I- labels, so no two I-x to correlate"),
            pattern("f", "B-x and I-y (x ≠ y) are generally negatively correlated" + (types.count >= 2 ? " (types " + list(types) + ")" : ""),
                    crossed, false, holdsShare,
                    "no B-x and I-y of two different types"),
            pattern("g", "\(outside ?? "O") is negatively correlated with every I-x" + (inside.isEmpty ? "" : " (" + list(inside) + ")"),
                    outside.map { o in inside.map { (o, $0) } } ?? [], false, 1,
                    outside == nil ? "the label set has no O label" : "the label set has no I- label"),
        ]
    }

    /// One label pair of a pattern: the mean r over the matrices, its interval, and whether it agrees.
    package struct PairResult {
        package var pair: (String, String)
        package var r: Double?
        package var lower: Double?
        package var upper: Double?
        /// True: the interval is across seeds (mean ± t·sd/√k); false: one seed's bootstrap over neurons.
        package var acrossSeeds: Bool
        /// Nil when r or its interval is missing.
        package var agrees: Bool?
    }

    package struct PatternResult {
        package var pairs: [PairResult]
        package var agreeing: Int
        package var defined: Int
        package var verdict: Verdict
        package var share: Double { defined == 0 ? 0 : Double(agreeing) / Double(defined) }
    }

    /// A pair's r and interval over `matrices`: with two or more defined r, the t interval of their
    /// mean across seeds (`Statistics.meanInterval`); with one, that matrix's bootstrap interval.
    package static func pairInterval(_ matrices: [LabelCorrelation], _ a: String, _ b: String) -> PairResult {
        let defined = matrices.compactMap { matrix in entry(matrix, a, b).map { (matrix, $0) } }
        let rs = defined.map(\.1)
        var result = PairResult(pair: (a, b), r: mean(rs), lower: nil, upper: nil, acrossSeeds: rs.count >= 2, agrees: nil)
        if rs.count >= 2, let interval = Statistics.meanInterval(rs, level: intervalLevel) {
            result.lower = interval.lower
            result.upper = interval.upper
        } else if let only = defined.first, rs.count == 1, let interval = bootstrapInterval(only.0, a, b) {
            result.lower = interval.lower
            result.upper = interval.upper
        }
        return result
    }

    /// Whether r with [lower, upper] supports a positive (or negative) pattern: the interval wholly
    /// on that side of 0 and |r| ≥ `clearCorrelation`, judged on r as printed (two decimals) so the
    /// evidence reads the way it is counted.
    package static func agrees(r: Double, lower: Double, upper: Double, positive: Bool) -> Bool {
        let shown = (r * 100).rounded() / 100
        return positive ? lower > 0 && shown >= clearCorrelation : upper < 0 && shown <= -clearCorrelation
    }

    package static func evaluate(_ pattern: Pattern, _ matrices: [LabelCorrelation]) -> PatternResult {
        var pairs: [PairResult] = []
        var agreeing = 0, defined = 0
        for pair in pattern.pairs {
            var result = pairInterval(matrices, pair.0, pair.1)
            if let r = result.r, let lower = result.lower, let upper = result.upper {
                let agree = agrees(r: r, lower: lower, upper: upper, positive: pattern.positive)
                result.agrees = agree
                defined += 1
                if agree { agreeing += 1 }
            }
            pairs.append(result)
        }
        let verdict: Verdict
        if pattern.untestable != nil || defined == 0 {
            verdict = .untested
        } else {
            let share = Double(agreeing) / Double(defined)
            verdict = share >= pattern.holdShare - 1e-9 && defined == pattern.pairs.count ? .holds
                : share >= partlyShare - 1e-9 ? .partly : .fails
        }
        return PatternResult(pairs: pairs, agreeing: agreeing, defined: defined, verdict: verdict)
    }

    /// The rule of one of (d)–(g), with its own share for "holds".
    package static func correlationRule(_ pattern: Pattern) -> String {
        let whole = pattern.holdShare >= 1 - 1e-9
        return "A label pair agrees when its \(fixed(intervalLevel * 100, 0)) % interval lies wholly on the expected side of 0 and "
            + "|mean r| ≥ \(fixed(clearCorrelation)). With k ≥ 2 seeds the interval is mean ± t(0.975, k − 1) · sd / √k over the seeds' r; "
            + "with one seed, that seed's bootstrap over neurons (the rows of its dev sensitivity matrix resampled with replacement). "
            + "Holds when " + (whole ? "every pair agrees" : "at least \(fixed(pattern.holdShare * 100, 0)) % of the pairs agree")
            + ", partly from \(fixed(partlyShare * 100, 0)) %, else fails."
    }
}

/// The paper's claims judged on a `ReproduceSummary`: the one place that
/// decides verdicts (DissectReport only shows them).
public enum ReproduceClaims {
    /// The paper's claims with this run's numbers, rule and verdict each: (a)–(h) as
    /// the report's brief lists them, then (i) the F1 and (j) likeness to the
    /// paper's own correlation matrix. Robustness rows (claim (b) with mean- or
    /// resample-value ablation) follow the (b) row of their mode, marked `robustness`.
    public static func evaluate(_ summary: ReproduceSummary) -> [Claim] {
        var claims: [Claim] = [sensitivityClaim(summary)]
        let ablation = ablationClaims(summary)
        claims += ablation.filter { !$0.claim.hasPrefix("(c)") } + ablation.filter { $0.claim.hasPrefix("(c)") }
        claims += correlationClaims(summary)
        claims.append(f1Claim(summary))
        claims.append(paperLikenessClaim(summary))
        return claims
    }

    typealias N = ReproduceNumbers

    static func isStudy(_ summary: ReproduceSummary) -> Bool { summary.task?.kind == .study }

    static func sensitivityClaim(_ summary: ReproduceSummary) -> Claim {
        let text = "(a) Each label has several sensitive neurons and several insensitive ones (dev, first seed)"
        let rule = "A label passes with at least \(N.neuronsOfEachKind) neurons with s > \(N.fixed(N.sensitiveFraction * 100, 0)) % of the matrix's "
            + "largest |s| and at least \(N.neuronsOfEachKind) with |s| < \(N.fixed(N.insensitiveFraction * 100, 0)) % of it. "
            + "Holds when every label passes, partly when at least half do, else fails."
        guard let document = summary.sensitivityDev.first, let seed = summary.seeds.first?.seed else {
            return Claim(claim: text, rule: rule, evidence: "no sensitivity on dev in the summary", verdict: .untested)
        }
        func describe(_ values: [[Double?]], labels: [String]) -> (text: String, passing: Int, total: Int) {
            let scale = N.largest(values)
            let high = N.sensitiveFraction * scale, low = N.insensitiveFraction * scale
            let counts = N.counts(values, labels: labels, high: high, low: low)
            let passing = counts.filter { $0.defined && $0.sensitive >= N.neuronsOfEachKind && $0.insensitive >= N.neuronsOfEachKind }.count
            let list = counts.map { $0.defined ? "\($0.label) \($0.sensitive)/\($0.insensitive)" : "\($0.label) undefined" }
            let text = "largest |s| \(N.fixed(scale)), so s > \(N.fixed(high, 3)) counts as sensitive and |s| < \(N.fixed(low, 3)) as insensitive; "
                + "sensitive/insensitive neurons per label: " + list.joined(separator: ", ")
                + "; \(passing) of \(labels.count) labels have ≥ \(N.neuronsOfEachKind) of each"
            return (text, passing, labels.count)
        }
        let ours = describe(document.sensitivity, labels: document.labels)
        var evidence = "\(N.seedName(seed)): " + ours.text + "."
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
        let verdict: Verdict = ours.total == 0 ? .untested
            : ours.passing == ours.total ? .holds : Double(ours.passing) >= Double(ours.total) / 2 ? .partly : .fails
        return Claim(claim: text, rule: rule, evidence: evidence, verdict: verdict)
    }

    /// The most cases a claim's evidence lists one by one; beyond it only the cases that do not pass are listed.
    static let listedCases = 8

    /// "seed 1, B-PER: 38.4 vs random 15.4, B-MISC 8.1 ✓" for every case, or (more than `listedCases`)
    /// for every case that does not pass, pointing to the ablation table for the rest.
    static func caseList(_ rows: [N.AblationRow], mark: (N.AblationRow) -> Bool?, detail: (N.AblationRow) -> String) -> String {
        func item(_ row: N.AblationRow) -> String {
            let symbol = mark(row).map { $0 ? "✓" : "✗" } ?? "?"
            return "\(N.seedName(row.seed)), \(row.ranking): " + detail(row) + " \(symbol)"
        }
        guard rows.count > listedCases else { return rows.map(item).joined(separator: "; ") }
        let failing = rows.filter { mark($0) != true }
        return (failing.isEmpty ? "no case fails" : "the cases that do not pass: " + failing.map(item).joined(separator: "; "))
            + " (the ablation table lists every case)"
    }

    static func depthNote(_ rows: [N.AblationRow]) -> String {
        let k = rows.map(\.k).min() ?? N.ablationK
        return k < N.ablationK ? "k = \(k) (the curves end at K = \(k) < \(N.ablationK))" : "k = \(k)"
    }

    /// Claim (b) on `rows` (one mode, one value): its verdict and evidence.
    static func rankedDropClaim(_ rows: [N.AblationRow], text: String, robustness: Bool) -> Claim {
        let judged = rows.compactMap(\.passesB)
        let passing = judged.filter { $0 }.count
        var evidence = "\(passing) of \(judged.count) (seed, ranking) cases pass"
            + (judged.isEmpty ? "" : " (\(N.fixed(Double(passing) / Double(judged.count) * 100, 0)) %)")
        evidence += ". Accuracy lost at \(depthNote(rows)), in points (test); the random bar is " + N.barDescription(rows) + ": "
        evidence += caseList(rows, mark: \.passesB) { row in
            var parts = ["\(N.fixed(row.ranked, 1)) vs random \(N.fixed(row.randomBar, 1))"]
            parts += row.partners.map { "\($0.label) \(N.fixed($0.drop, 1))" }
            return parts.joined(separator: ", ")
        }
        evidence += "."
        if judged.count < rows.count {
            evidence += " \(rows.count - judged.count) case\(rows.count - judged.count == 1 ? "" : "s") without a usable random control or curve left out."
        }
        return Claim(claim: text, rule: N.ruleB, evidence: evidence, verdict: N.shareVerdict(passing: passing, judged: judged.count),
                     robustness: robustness)
    }

    static func ablationClaims(_ summary: ReproduceSummary) -> [Claim] {
        let all = N.ablationRows(summary)
        var claims: [Claim] = []
        for mode in AblationMode.allCases {
            let modeRows = all.filter { $0.mode == mode && $0.value == .zero }
            let textB = "(b) Ablating a label's top neurons lowers that label's accuracy much faster than the other labels' (\(mode.rawValue) mode)"
            let textC = "(c) Overall accuracy stays nearly flat while ranked neurons are ablated (\(mode.rawValue) mode)"
            if modeRows.isEmpty {
                claims.append(Claim(claim: textB, rule: N.ruleB, evidence: "no zero-value \(mode.rawValue)-mode ablation in the summary", verdict: .untested))
            } else {
                claims.append(rankedDropClaim(modeRows, text: textB, robustness: false))
            }
            for value in AblationValue.allCases where value != .zero {
                let rows = all.filter { $0.mode == mode && $0.value == value }
                guard !rows.isEmpty else { continue }
                let text = "Robustness of (b) with \(value.rawValue)-value ablation (\(mode.rawValue) mode): "
                    + (value == .mean ? "h_i set to its mean over the ranking data" : "h_i replaced by its value at a random token of the ranking data")
                claims.append(rankedDropClaim(rows, text: text, robustness: true))
            }

            guard !modeRows.isEmpty else {
                claims.append(Claim(claim: textC, rule: N.ruleC, evidence: "no zero-value \(mode.rawValue)-mode ablation in the summary", verdict: .untested))
                continue
            }
            let judged = modeRows.compactMap(\.passesC)
            let passing = judged.filter { $0 }.count
            let gold = modeRows.first.flatMap { N.testShare(summary, seed: $0.seed, label: $0.ranking)?.gold } ?? true
            var evidence = "\(passing) of \(judged.count) (seed, ranking) cases pass"
                + (judged.isEmpty ? "" : " (\(N.fixed(Double(passing) / Double(judged.count) * 100, 0)) %)")
            evidence += ". Overall loss at \(depthNote(modeRows)) in points (test) against its bar, share of test tokens"
                + (gold ? "" : " (labels predicted on test: the summary has no gold counts)")
                + " × the ranked label's drop + the random orders' overall loss; the random bar is " + N.barDescription(modeRows) + ": "
            evidence += caseList(modeRows, mark: \.passesC) { row in
                "\(N.fixed(row.all, 2)) vs \(N.fixed(row.overallBound, 2)) (share \(N.fixed(row.share.map { $0 * 100 }, 1)) % × \(N.fixed(row.ranked, 1)) "
                    + "+ random \(N.fixed(row.randomAllBar, 2)))"
            }
            evidence += "."
            if judged.count < modeRows.count {
                evidence += " \(modeRows.count - judged.count) case\(modeRows.count - judged.count == 1 ? "" : "s") without a share, random control or curve left out."
            }
            claims.append(Claim(claim: textC, rule: N.ruleC, evidence: evidence, verdict: N.shareVerdict(passing: passing, judged: judged.count)))
        }
        return claims
    }

    /// The labels the correlation claims read: the dev correlation's, else the first sensitivity matrix's.
    static func correlationLabels(_ summary: ReproduceSummary) -> [String] {
        let labels = summary.correlationDev.labels
        return labels.isEmpty ? (summary.sensitivityDev.first?.labels ?? summary.correlationDev.models.first?.labels ?? []) : labels
    }

    static func correlationClaims(_ summary: ReproduceSummary) -> [Claim] {
        let models = summary.correlationDev.models
        let patterns = N.patterns(labels: correlationLabels(summary))
        var claims: [Claim] = []
        var perSeed: [[Verdict]] = []
        for pattern in patterns {
            let text = "(\(pattern.letter)) " + pattern.text + " (dev)"
            let rule = N.correlationRule(pattern)
            if let reason = pattern.untestable {
                claims.append(Claim(claim: text, rule: rule, evidence: reason + ".", verdict: .untested))
                continue
            }
            guard !models.isEmpty else {
                claims.append(Claim(claim: text, rule: rule, evidence: "no correlation matrices in the summary", verdict: .untested))
                continue
            }
            let result = N.evaluate(pattern, models)
            let across = models.count >= 2
            var evidence = (across ? "Mean r over \(models.count) models [\(N.fixed(N.intervalLevel * 100, 0)) % interval across seeds]: "
                                   : "r of the one model [\(N.fixed(N.intervalLevel * 100, 0)) % bootstrap interval over neurons]: ")
            evidence += result.pairs.map { item in
                let interval = item.lower.map { "[\(N.signed($0)), \(N.signed(item.upper))]" } ?? "[no interval]"
                let mark = item.agrees.map { $0 ? " ✓" : " ✗" } ?? ""
                return "\(item.pair.0)/\(item.pair.1) \(N.signed(item.r)) \(interval)\(mark)"
            }.joined(separator: ", ")
            let sign = pattern.positive ? "positive" : "negative"
            evidence += "; \(result.agreeing) of \(result.defined) clearly \(sign)"
            if pattern.holdShare < 1 { evidence += " = \(N.fixed(result.share * 100, 0)) %" }
            evidence += "."
            if result.defined < pattern.pairs.count {
                evidence += " \(pattern.pairs.count - result.defined) pair\(pattern.pairs.count - result.defined == 1 ? "" : "s") without r or interval"
                    + (across ? "" : " (one seed and no bootstrap)") + "."
            }
            if let reference = summary.correlationDev.reference {
                let paper = pattern.pairs.filter { pair in
                    guard let r = N.entry(reference, pair.0, pair.1) else { return false }
                    return pattern.positive ? r >= N.clearCorrelation : r <= -N.clearCorrelation
                }.count
                evidence += " Paper's matrix (no interval): \(paper) of \(pattern.pairs.count) with |r| ≥ \(N.fixed(N.clearCorrelation)) and the expected sign."
            }
            claims.append(Claim(claim: text, rule: rule, evidence: evidence, verdict: result.verdict))
            perSeed.append(models.map { N.evaluate(pattern, [$0]).verdict })
        }
        let text = "(h) These correlation patterns hold in each of the independently trained models"
        let rule = "Each (model, pattern) cell is judged as (d)–(g) on that model alone, with its bootstrap interval over neurons; "
            + "needs two or more models. Holds when every judged cell holds, partly when at least half do, else fails."
        if let reason = patterns.compactMap(\.untestable).first, patterns.allSatisfy({ $0.untestable != nil }) {
            claims.append(Claim(claim: text, rule: rule, evidence: reason + ".", verdict: .untested))
            return claims
        }
        guard models.count >= 2 else {
            let evidence = models.isEmpty ? "no correlation matrices in the summary"
                : "one model: agreement across independently trained models needs at least two seeds"
            claims.append(Claim(claim: text, rule: rule, evidence: evidence, verdict: .untested))
            return claims
        }
        let testable = patterns.filter { $0.untestable == nil }
        var evidence = models.enumerated().map { index, model in
            let verdicts = zip(testable, perSeed).map { "\($0.letter) \($1[index].rawValue)" }
            return "\(model.name): " + verdicts.joined(separator: ", ")
        }.joined(separator: "; ")
        evidence += ". Mean pairwise similarity of the models' matrices (Pearson r of off-diagonal entries, dev): "
            + N.fixed(summary.correlationDev.similarity.meanPairwise) + "."
        let cells = perSeed.flatMap { $0 }.filter { $0 != .untested }
        let holding = cells.filter { $0 == .holds }.count
        let verdict: Verdict
        if cells.isEmpty {
            verdict = .untested
            evidence += " No cell could be judged (the matrices carry no bootstrap intervals)."
        } else {
            verdict = holding == cells.count ? .holds : Double(holding) >= Double(cells.count) * N.partlyShare ? .partly : .fails
            evidence += " \(holding) of \(cells.count) (model, pattern) cells hold."
        }
        claims.append(Claim(claim: text, rule: rule, evidence: evidence, verdict: verdict))
        return claims
    }

    static func f1Claim(_ summary: ReproduceSummary) -> Claim {
        let reported = summary.paper?.reportedF1 ?? N.paperF1
        let text = "(i) The uni-directional LSTM tagger reaches F1 \(N.fixed(reported, 1)) (NCRF++'s scorer; the checkpoint chosen on dev)"
        let rule = "F1 in percent, as the training records store it. Holds when the dev or the test mean by NCRF++'s scorer is within "
            + "\(N.fixed(N.f1Holds, 0)) point of the paper's \(N.fixed(reported, 1)), partly within \(N.fixed(N.f1Partly, 0)), else fails."
        if isStudy(summary) {
            return Claim(claim: text, rule: rule, evidence: "study runs on its own corpus, so the paper's F1 (on CoNLL-2003) is no reference; "
                + "the F1 table shows this run's numbers.", verdict: .untested)
        }
        let dev = summary.seeds.compactMap { N.percent($0.record.devF1NCRF) }
        let test = summary.seeds.compactMap { N.percent($0.record.testF1NCRF) }
        guard let devMean = N.mean(dev) ?? N.mean(test) else {
            return Claim(claim: text, rule: rule, evidence: "no F1 by NCRF++'s scorer in the training records", verdict: .untested)
        }
        let testMean = N.mean(test)
        var evidence = "Mean over \(summary.seeds.count) seeds, NCRF++'s scorer: dev \(N.fixed(N.mean(dev), 2)) ± \(N.fixed(N.sd(dev), 2)), "
            + "test \(N.fixed(testMean, 2)) ± \(N.fixed(N.sd(test), 2)). The paper does not say which set its number is on."
        let gap = min(abs(devMean - reported), testMean.map { abs($0 - reported) } ?? .infinity)
        evidence += " Closest gap: \(N.fixed(gap, 2)) points."
        let verdict: Verdict = gap <= N.f1Holds ? .holds : gap <= N.f1Partly ? .partly : .fails
        return Claim(claim: text, rule: rule, evidence: evidence, verdict: verdict)
    }

    static func paperLikenessClaim(_ summary: ReproduceSummary) -> Claim {
        let text = "(j) Our label-correlation matrices resemble the paper's (a comparison, not a claim of the paper)"
        let rule = "Mean over the models of Pearson's r between the off-diagonal entries of each model's matrix and the paper's (dev); "
            + "holds at ≥ \(N.fixed(N.likenessHolds, 1)), partly at ≥ \(N.fixed(N.likenessPartly, 1)), else fails."
        if isStudy(summary) {
            return Claim(claim: text, rule: rule, evidence: "the paper's matrix is of CoNLL-2003's nine labels; study has no paper matrix to compare with.",
                         verdict: .untested)
        }
        let against = summary.correlationDev.similarity.againstReference
        let values = against.compactMap(\.similarity)
        guard summary.correlationDev.reference != nil, let average = N.mean(values) else {
            return Claim(claim: text, rule: rule, evidence: "the summary has no paper matrix to compare with", verdict: .untested)
        }
        var evidence = "Pearson r between off-diagonal entries, each model vs the paper (dev): "
        evidence += against.map { "\($0.model) \(N.fixed($0.similarity))" }.joined(separator: ", ")
        evidence += "; mean \(N.fixed(average))."
        let verdict: Verdict = average >= N.likenessHolds ? .holds : average >= N.likenessPartly ? .partly : .fails
        return Claim(claim: text, rule: rule, evidence: evidence, verdict: verdict)
    }
}
