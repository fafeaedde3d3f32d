import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectStudy

/// The verdicts of the paper's claims on hand-made summaries: each claim holds,
/// fails or holds partly exactly where its stated rule says, and each has data
/// on which it must fail.
@Suite struct ReproduceClaimsTests {
    typealias S = ReproduceSynthetic
    typealias N = ReproduceNumbers

    static func claim(_ claims: [Claim], _ prefix: String) -> Claim? {
        claims.first { $0.claim.hasPrefix(prefix) }
    }

    static func verdict(_ claims: [Claim], _ prefix: String) -> Verdict? {
        claim(claims, prefix)?.verdict
    }

    /// The verdicts of every claim starting with `prefix`, in order (readout, then recurrent for (b) and (c)).
    static func verdicts(_ summary: ReproduceSummary, _ prefix: String) -> [Verdict] {
        ReproduceClaims.evaluate(summary).filter { $0.claim.hasPrefix(prefix) }.map(\.verdict)
    }

    @Test func claimsWithoutPaperOrAblationsAreUntested() {
        var summary = S.summary(seeds: [7], withPaper: false)
        summary.ablations = []
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(b)") == .untested)
        #expect(Self.verdict(claims, "(j)") == .untested)
        #expect(claims.count == 12)
    }

    @Test func everyClaimStatesItsRule() {
        let claims = ReproduceClaims.evaluate(S.summary())
        #expect(claims.count == 12)
        for claim in claims { #expect(!claim.rule.isEmpty, "\(claim.claim)") }
        #expect(Self.claim(claims, "(b)")!.rule.contains("their 95th percentile with at least 100 orders"))
        #expect(Self.claim(claims, "(c)")!.rule.contains("share of the test tokens"))
        #expect(Self.claim(claims, "(d)")!.rule.contains("t(0.975, k − 1)"))
    }

    // MARK: (a)

    /// Every neuron gets `value` for every label, except the given rows.
    static func matrix(neurons: Int, fill: Double, rows: [Int: Double]) -> [[Double?]] {
        (0..<neurons).map { neuron in Array(repeating: Optional(rows[neuron] ?? fill), count: 9) }
    }

    @Test func claimASensitiveAndInsensitiveNeurons() {
        var summary = S.summary(seeds: [1])
        // Largest |s| 1: sensitive above 0.2, insensitive below 0.04.
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 0.3, rows: [0: 1, 1: 1, 2: 0, 3: 0.01]), data: "dev")
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(a)") == .holds)
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 1, rows: [:]), data: "dev")
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(a)") == .fails)
        #expect(claims[0].evidence.contains("B-PER 6/0"))
        // Only one insensitive neuron: two of each are needed.
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 0.5, rows: [0: 1, 1: 0]), data: "dev")
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(a)") == .fails)
    }

    @Test func claimAPartlyWhenHalfTheLabelsPass() {
        var summary = S.summary(seeds: [1])
        // Five of nine columns have two insensitive neurons (rows 2 and 3), four have none.
        let values: [[Double?]] = (0..<6).map { neuron in
            (0..<9).map { column in
                if neuron < 2 { return 1 }
                return neuron < 4 && column < 5 ? 0 : 0.5
            }
        }
        summary.sensitivityDev[0] = S.document(values, data: "dev")
        let claim = Self.claim(ReproduceClaims.evaluate(summary), "(a)")!
        #expect(claim.verdict == .partly)
        #expect(claim.evidence.contains("5 of 9 labels"))
    }

    // MARK: (b) and (c)

    /// One seed per entry of `seeds`; each (seed, pair) gets its rates from `rates`.
    static func withAblation(
        seeds: [UInt64] = [1], randomCount: Int = 20, value: AblationValue? = nil,
        rates: (UInt64, [String]) -> (rate: Double, partner: Double, all: Double)
    ) -> ReproduceSummary {
        var summary = S.summary(seeds: seeds)
        summary.ablations = []
        for (index, seed) in seeds.enumerated() {
            for pair in N.paperPairs {
                let r = rates(seed, pair)
                for mode in AblationMode.allCases {
                    summary.ablations.append(S.ablation(
                        seed: seed, pair: pair, mode: mode, values: summary.sensitivityDev[index].sensitivity,
                        rate: r.rate, partnerRate: r.partner, allRate: r.all, randomCount: randomCount, value: value))
                }
            }
        }
        return summary
    }

    static func withAblation(rate: Double, partnerRate: Double, allRate: Double) -> ReproduceSummary {
        withAblation { _, _ in (rate, partnerRate, allRate) }
    }

    @Test func claimBRankedLabelDropsFastest() {
        let holding = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)
        #expect(Self.verdicts(holding, "(b)") == [.holds, .holds])
        // The ranked label barely moves while its partner collapses.
        let failing = Self.withAblation(rate: 0.001, partnerRate: 0.05, allRate: 0.0005)
        #expect(Self.verdicts(failing, "(b)") == [.fails, .fails])
        let row = N.ablationRows(holding).first!
        // 0.85 · (1 − e^(−0.6)) = 38.35 points at k = 10; the partner 0.85 · (1 − e^(−0.1)) = 8.09;
        // 20 orders, so the bar is the largest random drop: 0.85 · (1 − e^(−0.2)) = 15.41.
        #expect(abs(row.ranked! - 38.35) < 0.01)
        #expect(abs(row.partners[0].drop! - 8.09) < 0.01)
        #expect(abs(row.randomBar! - 15.41) < 0.01)
        #expect(row.bar == .largest)
        #expect(row.k == 10 && row.kMax == 25)
        #expect(Self.claim(ReproduceClaims.evaluate(holding), "(b)")!.evidence.contains("4 of 4 (seed, ranking) cases pass (100 %)"))
    }

    @Test func claimBBeatsTheRandomOrdersNotJustThePartner() {
        // 0.85 · (1 − e^(−0.15)) = 11.8 points: above the partner (8.09) but below the largest random drop (15.4).
        let summary = Self.withAblation(rate: 0.015, partnerRate: 0.01, allRate: 0.0005)
        #expect(Self.verdicts(summary, "(b)") == [.fails, .fails])
    }

    @Test func claimBUsesThe95thPercentileFrom100Orders() {
        // Ranked 0.85 · (1 − e^(−0.18)) = 14.0 points (readout): under the largest drop of 20 orders (15.4),
        // over the 95th-percentile drop of 100 orders, 0.85 · (1 − e^(−0.16)) = 12.57.
        let few = Self.withAblation(randomCount: 20) { _, _ in (0.018, 0.01, 0.0005) }
        #expect(Self.verdicts(few, "(b)").first == .fails)
        let many = Self.withAblation(randomCount: 100) { _, _ in (0.018, 0.01, 0.0005) }
        #expect(Self.verdicts(many, "(b)").first == .holds)
        let row = N.ablationRows(many).first!
        #expect(row.bar == .percentile95 && abs(row.randomBar! - 12.57) < 0.01)
        #expect(Self.claim(ReproduceClaims.evaluate(many), "(b)")!.evidence.contains("95th-percentile drop over 100 random orders"))
        #expect(Self.claim(ReproduceClaims.evaluate(few), "(b)")!.evidence.contains("largest drop over 20 random orders"))
    }

    @Test func claimBIsPartlyAtHalfTheCasesAndJudgesEverySeed() {
        // The second pair's rankings fail: 2 of 4 cases, 50 %.
        let half = Self.withAblation { _, pair in pair == N.paperPairs[0] ? (0.06, 0.01, 0.0005) : (0.001, 0.05, 0.0005) }
        #expect(Self.verdicts(half, "(b)") == [.partly, .partly])
        // Three of four pass: 75 % holds. One of four: fails.
        var three = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)
        Self.flatten(&three, ranking: "B-LOC")
        #expect(Self.verdicts(three, "(b)") == [.holds, .holds])
        var one = three
        for label in ["B-PER", "I-ORG"] { Self.flatten(&one, ranking: label) }
        #expect(Self.verdicts(one, "(b)") == [.fails, .fails])
        // The first seed passes and the second fails: judged over both seeds, 50 %.
        let seeds = Self.withAblation(seeds: [1, 2]) { seed, _ in seed == 1 ? (0.06, 0.01, 0.0005) : (0.001, 0.05, 0.0005) }
        #expect(Self.verdicts(seeds, "(b)") == [.partly, .partly])
        #expect(Self.claim(ReproduceClaims.evaluate(seeds), "(b)")!.evidence.contains("4 of 8"))
        #expect(Self.claim(ReproduceClaims.evaluate(seeds), "(b)")!.evidence.contains("seed 1, B-PER: 38.4 vs random 15.4, B-MISC 8.1 ✓"))
        // Beyond eight cases the evidence lists the ones that do not pass: 8 of 12 pass, partly.
        let threeSeeds = Self.withAblation(seeds: [1, 2, 3]) { seed, _ in seed < 3 ? (0.06, 0.01, 0.0005) : (0.001, 0.05, 0.0005) }
        let evidence = Self.claim(ReproduceClaims.evaluate(threeSeeds), "(b)")!.evidence
        #expect(Self.verdicts(threeSeeds, "(b)") == [.partly, .partly])
        #expect(evidence.contains("8 of 12") && evidence.contains("the cases that do not pass: seed 3, B-PER: 0.8 vs random 15.4"))
        #expect(!evidence.contains("seed 1, B-PER") && evidence.contains("(the ablation table lists every case)"))
    }

    /// The ranked label's own curve made flat in every study that ranks it.
    static func flatten(_ summary: inout ReproduceSummary, ranking label: String) {
        for index in summary.ablations.indices {
            guard var curve = summary.ablations[index].document.curves[label], let start = curve.accuracy[label]?.first else { continue }
            curve.accuracy[label] = Array(repeating: start, count: curve.accuracy[label]!.count)
            summary.ablations[index].document.curves[label] = curve
        }
    }

    @Test func claimBRobustnessRowsAreSeparate() {
        // Zero-value ablation fails (b); mean-value ablation passes, in its own rows.
        var summary = Self.withAblation(rate: 0.001, partnerRate: 0.05, allRate: 0.0005)
        summary.ablations += Self.withAblation(value: .mean) { _, _ in (0.06, 0.01, 0.0005) }.ablations
        let claims = ReproduceClaims.evaluate(summary)
        #expect(claims.filter { $0.claim.hasPrefix("(b)") }.map(\.verdict) == [.fails, .fails])
        let robustness = claims.filter(\.robustness)
        #expect(robustness.count == 2)
        #expect(robustness.allSatisfy { $0.verdict == .holds && $0.claim.contains("mean-value") && $0.rule == N.ruleB })
        #expect(claims.filter { !$0.robustness }.count == 12)
        // Each robustness row follows the (b) row of its mode.
        let readout = claims.firstIndex { $0.claim.hasPrefix("(b)") && $0.claim.contains("readout") }!
        #expect(claims[readout + 1].robustness && claims[readout + 1].claim.contains("readout"))
        // Mean-value documents alone leave (b) itself untested.
        let onlyMean = Self.withAblation(value: .mean) { _, _ in (0.06, 0.01, 0.0005) }
        #expect(Self.verdicts(onlyMean, "(b)") == [.untested, .untested])
        #expect(Self.verdicts(onlyMean, "(c)") == [.untested, .untested])
        // Resample gets its own rows; zero-only summaries have none.
        let resample = Self.withAblation(value: .resample) { _, _ in (0.001, 0.05, 0.0005) }
        #expect(ReproduceClaims.evaluate(resample).filter(\.robustness).map(\.verdict) == [.fails, .fails])
        #expect(ReproduceClaims.evaluate(S.summary()).filter(\.robustness).isEmpty)
    }

    @Test func claimCOverallLossAgainstShareAndRandom() {
        let flat = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)
        #expect(Self.verdicts(flat, "(c)") == [.holds, .holds])
        // Bar for the B-PER ranking: share 1,617 / 46,435 = 3.48 % × 38.35 + the largest random overall loss
        // 0.95 · (1 − e^(−0.05)) = 4.63: 5.97 points; the overall loss is 0.95 · (1 − e^(−0.005)) = 0.47.
        let row = N.ablationRows(flat).first!
        #expect(abs(row.share! - 1_617.0 / 46_435) < 1e-12)
        #expect(abs(row.overallBound! - (1_617.0 / 46_435 * row.ranked! + 0.95 * (1 - exp(-0.05)) * 100)) < 1e-9)
        #expect(abs(row.all! - 0.47) < 0.01 && row.passesC == true)
        // 0.95 · (1 − e^(−0.05·10)) = 37 points lost overall.
        let collapsing = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.05)
        #expect(Self.verdicts(collapsing, "(c)") == [.fails, .fails])
        // Half the cases collapse: partly.
        let half = Self.withAblation { _, pair in (0.06, 0.01, pair == N.paperPairs[0] ? 0.05 : 0.0005) }
        #expect(Self.verdicts(half, "(c)") == [.partly, .partly])
        // The old rule (overall loss under 5 points) would pass 4.9 points; here random orders cost at most 0.5 overall
        // (their lowest "all" accuracy set to 0.95 · e^(−0.0005·10)), so 4.9 > 3.48 % × 38.35 + 0.47 = 1.81 fails.
        var strict = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0053)
        for index in strict.ablations.indices {
            strict.ablations[index].document.controls.random?.minimum?.accuracy["all"] = (0...25).map { 0.95 * exp(-0.0005 * Double($0)) }
        }
        let strictRow = N.ablationRows(strict).first!
        #expect(strictRow.all! > 4.8 && strictRow.all! < 5)
        #expect(Self.verdicts(strict, "(c)") == [.fails, .fails])
    }

    @Test func claimCWithoutGoldCountsUsesPredictedLabels() {
        var summary = Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)
        summary.task = nil
        let row = N.ablationRows(summary).first!
        // The synthetic test matrices predict 1,000 tokens of each of the nine labels.
        #expect(abs(row.share! - 1.0 / 9) < 1e-12)
        #expect(Self.claim(ReproduceClaims.evaluate(summary), "(c)")!.evidence.contains("labels predicted on test"))
    }

    // MARK: (d)–(h)

    /// A label-correlation matrix with the paper's patterns (sign +1) or their opposite (−1), and
    /// (when `halfWidth` is given) a bootstrap interval of ± `halfWidth` around every entry.
    static func patternMatrix(name: String, sign: Double, halfWidth: Double? = 0.1, labels: [String] = CorrelationAnalysis.paperLabelOrder) -> LabelCorrelation {
        var matrix = [[Double?]](repeating: [Double?](repeating: 0.05, count: labels.count), count: labels.count)
        func set(_ a: String, _ b: String, _ value: Double) {
            guard let i = labels.firstIndex(of: a), let j = labels.firstIndex(of: b) else { return }
            matrix[i][j] = value
            matrix[j][i] = value
        }
        for i in labels.indices { matrix[i][i] = 1 }
        let scheme = LabelScheme.detect(labels)
        for x in scheme.types {
            if let b = scheme.begin[x], let i = scheme.inside[x] { set(b, i, 0.6 * sign) }
            if let o = scheme.outside, let i = scheme.inside[x] { set(o, i, -0.5 * sign) }
            for y in scheme.types where y != x { if let b = scheme.begin[x], let i = scheme.inside[y] { set(b, i, -0.3 * sign) } }
        }
        let inside = scheme.types.compactMap { scheme.inside[$0] }
        for a in inside.indices { for b in (a + 1)..<inside.count { set(inside[a], inside[b], 0.4 * sign) } }
        var result = LabelCorrelation(name: name, labels: labels, matrix: matrix)
        if let halfWidth {
            result.bootstrap = CorrelationBootstrap(
                resamples: 100, seed: 1, level: 0.95, lower: matrix.map { $0.map { $0.map { $0 - halfWidth } } },
                upper: matrix.map { $0.map { $0.map { $0 + halfWidth } } })
        }
        return result
    }

    static let correlationLetters = ["(d)", "(e)", "(f)", "(g)", "(h)"]

    @Test func correlationClaimsHoldAndFail() {
        var summary = S.summary()
        // Four seeds a little apart (so the interval across seeds has a width).
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 0.9 + 0.05 * Double($0)) }
        let holding = ReproduceClaims.evaluate(summary)
        for letter in Self.correlationLetters { #expect(Self.verdict(holding, letter) == .holds, "\(letter)") }
        #expect(Self.claim(holding, "(f)")!.evidence.contains("12 of 12 clearly negative"))
        #expect(Self.claim(holding, "(d)")!.evidence.contains("interval across seeds"))

        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: -1) }
        let failing = ReproduceClaims.evaluate(summary)
        for letter in Self.correlationLetters { #expect(Self.verdict(failing, letter) == .fails, "\(letter)") }

        // The right signs but r near 0 (0.03, −0.025, …) is no correlation: the patterns fail.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 0.05) }
        let faint = ReproduceClaims.evaluate(summary)
        for letter in Self.correlationLetters { #expect(Self.verdict(faint, letter) == .fails, "\(letter)") }
    }

    @Test func oneReversedSeedWidensTheIntervalAcrossSeeds() {
        var summary = S.summary()
        // Three seeds +0.6 and one −0.6: mean +0.3, sd 0.6, t(0.975, 3) = 3.182, so the interval is
        // 0.3 ± 0.95 and holds 0: the mean keeps its sign, but (d) no longer agrees anywhere.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: $0 == 4 ? -1 : 1) }
        let mixed = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(mixed, "(d)") == .fails)
        let pair = N.pairInterval(summary.correlationDev.models, "B-PER", "I-PER")
        #expect(abs(pair.r! - 0.3) < 1e-12)
        #expect(abs(pair.lower! - (0.3 - 3.182446 * 0.6 / 2)) < 1e-5)
        // (h) judges each model on its own: 12 of 16 (model, pattern) cells hold, partly.
        #expect(Self.verdict(mixed, "(h)") == .partly)
        #expect(Self.claim(mixed, "(h)")!.evidence.contains("12 of 16"))
    }

    @Test func oneSeedIsJudgedOnItsBootstrapInterval() {
        var summary = S.summary(seeds: [1])
        summary.correlationDev.models = [Self.patternMatrix(name: "seed 1", sign: 1, halfWidth: 0.1)]
        let narrow = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)"] { #expect(Self.verdict(narrow, letter) == .holds, "\(letter)") }
        #expect(Self.claim(narrow, "(d)")!.evidence.contains("bootstrap interval over neurons"))
        // The same r with intervals ± 0.7 reach across 0: no pair agrees.
        summary.correlationDev.models = [Self.patternMatrix(name: "seed 1", sign: 1, halfWidth: 0.7)]
        let wide = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)"] { #expect(Self.verdict(wide, letter) == .fails, "\(letter)") }
        // No bootstrap and one seed: no interval to judge.
        summary.correlationDev.models = [Self.patternMatrix(name: "seed 1", sign: 1, halfWidth: nil)]
        let none = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)"] { #expect(Self.verdict(none, letter) == .untested, "\(letter)") }
        // (h) needs two models.
        #expect(Self.verdict(narrow, "(h)") == .untested)
        #expect(Self.claim(narrow, "(h)")!.evidence.contains("at least two seeds"))
    }

    @Test func claimHFailsWhenEveryModelDisagrees() {
        var summary = S.summary()
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: $0 <= 3 ? -1 : 1) }
        // One model of four agrees: 4 of 16 cells hold.
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(h)") == .fails)
        // Without bootstrap intervals no cell can be judged.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 1, halfWidth: nil) }
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(h)") == .untested)
        #expect(Self.verdict(claims, "(d)") == .holds)
    }

    @Test func claimFCountsTheShareOfNegativePairs() {
        var summary = S.summary(seeds: [1])
        var matrix = Self.patternMatrix(name: "seed 1", sign: 1)
        // Flip 4 of the 12 B-x/I-y entries: 8 of 12 negative is 67 %, under 75 %: partly.
        let labels = matrix.labels
        for (a, b) in [("B-PER", "I-LOC"), ("B-PER", "I-ORG"), ("B-LOC", "I-PER"), ("B-ORG", "I-MISC")] {
            let i = labels.firstIndex(of: a)!, j = labels.firstIndex(of: b)!
            matrix.matrix[i][j] = 0.2
            matrix.matrix[j][i] = 0.2
            matrix.bootstrap!.lower[i][j] = 0.1; matrix.bootstrap!.lower[j][i] = 0.1
            matrix.bootstrap!.upper[i][j] = 0.3; matrix.bootstrap!.upper[j][i] = 0.3
        }
        summary.correlationDev.models = [matrix]
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(f)") == .partly)
        #expect(Self.claim(claims, "(f)")!.evidence.contains("8 of 12 clearly negative = 67 %"))
    }

    @Test func patternsAreGeneralisedToTheTypesPresent() {
        let labels = ["O", "B-person", "I-person", "B-location", "I-location", "B-corporation"]
        let patterns = N.patterns(labels: labels)
        #expect(patterns.map(\.letter) == ["d", "e", "f", "g"])
        #expect(patterns[0].pairs.map { "\($0.0)/\($0.1)" } == ["B-person/I-person", "B-location/I-location"])
        #expect(patterns[0].text.contains("B-person/I-person, B-location/I-location"))
        #expect(patterns[1].pairs.map { "\($0.0)/\($0.1)" } == ["I-person/I-location"])
        #expect(patterns[1].text.hasPrefix("I-person and I-location"))
        #expect(Set(patterns[2].pairs.map { "\($0.0)/\($0.1)" }) == ["B-person/I-location", "B-location/I-person", "B-corporation/I-person", "B-corporation/I-location"])
        #expect(patterns[3].pairs.map { "\($0.0)/\($0.1)" } == ["O/I-person", "O/I-location"])
        #expect(patterns.allSatisfy { $0.untestable == nil })
        // One type: no two I- labels, no crossed pairs.
        let single = N.patterns(labels: ["O", "B-person", "I-person"])
        #expect(single[1].untestable != nil && single[2].untestable != nil && single[0].untestable == nil)
        #expect(single[1].text == "The I-x labels are positively correlated with each other")
        #expect(single[2].text == "B-x and I-y (x ≠ y) are generally negatively correlated")
        // B- labels only: (g) has no I-x to name.
        let beginOnly = N.patterns(labels: ["O", "B-a", "B-b"])
        #expect(beginOnly[3].text == "O is negatively correlated with every I-x" && beginOnly[3].untestable == "the label set has no I- label")
        #expect(beginOnly[0].untestable == "no entity type has both a B- and an I- label")
        // The paper's nine labels keep the paper's own patterns.
        #expect(N.patterns(labels: CorrelationAnalysis.paperLabelOrder)[1].text == "I-LOC, I-ORG and I-MISC are positively correlated with each other")
    }

    @Test func correlationClaimsOnALowerCaseBIOSet() {
        let labels = ["O", "B-person", "I-person", "B-location", "I-location"]
        var summary = S.summary(seeds: [1, 2])
        summary.correlationDev = CorrelationDocument(
            data: "dev", agreementData: nil, labels: labels,
            models: [1, 2].map { Self.patternMatrix(name: "seed \($0)", sign: 0.9 + 0.1 * Double($0), labels: labels) },
            reference: nil, referenceName: nil, referencePath: nil,
            similarity: SimilaritySummary(meanPairwise: nil, pairs: [], againstReference: []), agreement: [])
        let claims = ReproduceClaims.evaluate(summary)
        let d = Self.claim(claims, "(d)")!
        #expect(d.verdict == .holds && d.claim.contains("B-person/I-person") && d.evidence.contains("B-location/I-location"))
        #expect(Self.claim(claims, "(g)")!.claim.contains("O is negatively correlated with every I-x (I-person and I-location)"))
        for letter in Self.correlationLetters { #expect(Self.verdict(claims, letter) == .holds, "\(letter)") }
    }

    @Test func aLabelSetThatIsNotBIOLeavesDToHUntested() {
        let labels = ["NN", "VBD", "DT", "IN", "NNP", "CC"]
        var summary = S.summary(seeds: [1, 2])
        summary.correlationDev.labels = labels
        summary.correlationDev.models = [1, 2].map { LabelCorrelation(name: "seed \($0)", labels: labels, matrix: Statistics.columnCorrelation(
            (0..<10).map { neuron in labels.indices.map { Optional(Double((neuron * 7 + $0 * 3) % 11)) } })) }
        let claims = ReproduceClaims.evaluate(summary)
        for letter in Self.correlationLetters {
            let claim = Self.claim(claims, letter)!
            #expect(claim.verdict == .untested, "\(letter)")
            #expect(claim.evidence.contains("the label set is not BIO"), "\(letter): \(claim.evidence)")
            #expect(claim.evidence.contains("so there are no B-x/I-x pairs"), "\(letter)")
        }
        #expect(claims.count == 12)
    }

    // MARK: (i) and (j)

    @Test func claimF1() {
        var summary = S.summary()
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(i)") == .holds)  // dev mean 87.35: 0.95 from 86.4
        func setF1(_ dev: Double, _ test: Double) {
            for index in summary.seeds.indices {
                summary.seeds[index].record.devF1NCRF = dev
                summary.seeds[index].record.testF1NCRF = test
            }
        }
        setF1(84.4, 82)  // 2 points off
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(i)") == .partly)
        setF1(80, 78)
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(i)") == .fails)
        // F1 is stored in percent: a collapsed model at 0.87 % is not 87 %.
        setF1(0.87, 0.864)
        let collapsed = Self.claim(ReproduceClaims.evaluate(summary), "(i)")!
        #expect(collapsed.verdict == .fails)
        #expect(collapsed.evidence.contains("dev 0.87"))
        #expect(N.percent(0.87) == 0.87)
    }

    @Test func claimJLikenessToThePaper() {
        var summary = S.summary()
        func set(_ values: [Double]) {
            summary.correlationDev.similarity.againstReference = values.enumerated().map { ReferenceSimilarity(model: "seed \($0.offset)", similarity: $0.element) }
        }
        set([0.6, 0.7])
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(j)") == .holds)
        set([0.3, 0.2])
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(j)") == .partly)
        set([0.1, -0.2])
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(j)") == .fails)
    }

    @Test func studyLeavesIAndJUntestedWithReasons() {
        var summary = S.summary()
        summary.task?.kind = .study
        let claims = ReproduceClaims.evaluate(summary)
        let i = Self.claim(claims, "(i)")!, j = Self.claim(claims, "(j)")!
        #expect(i.verdict == .untested && i.evidence.contains("no reference"))
        #expect(j.verdict == .untested && j.evidence.contains("no paper matrix"))
        // The other claims are judged as in reproduce.
        #expect(Self.verdict(claims, "(b)") == Self.verdict(ReproduceClaims.evaluate(S.summary()), "(b)"))
    }
}
