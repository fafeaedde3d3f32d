import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectStudy

/// The verdicts of the paper's claims on hand-made summaries: each claim holds,
/// fails or holds partly exactly where its stated threshold says.
@Suite struct ReproduceClaimsTests {
    typealias S = ReproduceSynthetic

    static func verdict(_ claims: [Claim], _ prefix: String) -> Verdict? {
        claims.first { $0.claim.hasPrefix(prefix) }?.verdict
    }

    @Test func claimsWithoutPaperOrAblationsAreUntested() {
        var summary = S.summary(seeds: [7], withPaper: false)
        summary.ablations = []
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(b)") == .untested)
        #expect(Self.verdict(claims, "(j)") == .untested)
        #expect(claims.count == 12)
    }

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

    static func withAblation(rate: Double, partnerRate: Double, allRate: Double) -> ReproduceSummary {
        var summary = S.summary(seeds: [1])
        let values = summary.sensitivityDev[0].sensitivity
        summary.ablations = [["B-PER", "B-MISC"], ["B-LOC", "I-ORG"]].flatMap { pair in
            AblationMode.allCases.map { S.ablation(seed: 1, pair: pair, mode: $0, values: values, rate: rate, partnerRate: partnerRate, allRate: allRate) }
        }
        return summary
    }

    @Test func claimBRankedLabelDropsFastest() {
        let holding = ReproduceClaims.evaluate(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005))
        #expect(holding.filter { $0.claim.hasPrefix("(b)") }.map(\.verdict) == [.holds, .holds])
        // The ranked label barely moves while its partner collapses.
        let failing = ReproduceClaims.evaluate(Self.withAblation(rate: 0.001, partnerRate: 0.05, allRate: 0.0005))
        #expect(failing.filter { $0.claim.hasPrefix("(b)") }.map(\.verdict) == [.fails, .fails])
        let row = ReproduceNumbers.ablationRows(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)).first!
        // 0.85 · (1 − e^(−0.6)) = 38.35 points at k = 10; the partner 0.85 · (1 − e^(−0.1)) = 8.09.
        #expect(abs(row.ranked! - 38.35) < 0.01)
        #expect(abs(row.partners[0].drop! - 8.09) < 0.01)
        #expect(row.k == 10 && row.kMax == 25)
    }

    @Test func claimCOverallAccuracyFlat() {
        let flat = ReproduceClaims.evaluate(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005))
        #expect(flat.filter { $0.claim.hasPrefix("(c)") }.map(\.verdict) == [.holds, .holds])
        // 0.95 · (1 − e^(−0.05·10)) = 37 points lost overall.
        let collapsing = ReproduceClaims.evaluate(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.05))
        #expect(collapsing.filter { $0.claim.hasPrefix("(c)") }.map(\.verdict) == [.fails, .fails])
        // Flat at k = 10 (2.8 points) but not by K = 25 (6.7 points): partly.
        let late = ReproduceClaims.evaluate(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.003))
        #expect(late.filter { $0.claim.hasPrefix("(c)") }.map(\.verdict) == [.partly, .partly])
    }

    /// A label-correlation matrix with the paper's patterns (sign +1) or their opposite (−1).
    static func patternMatrix(name: String, sign: Double) -> LabelCorrelation {
        let labels = CorrelationAnalysis.paperLabelOrder
        var matrix = [[Double?]](repeating: [Double?](repeating: 0.05, count: 9), count: 9)
        func set(_ a: String, _ b: String, _ value: Double) {
            let i = labels.firstIndex(of: a)!, j = labels.firstIndex(of: b)!
            matrix[i][j] = value
            matrix[j][i] = value
        }
        for i in 0..<9 { matrix[i][i] = 1 }
        let types = ["PER", "LOC", "ORG", "MISC"]
        for x in types {
            set("B-" + x, "I-" + x, 0.6 * sign)
            set("O", "I-" + x, -0.5 * sign)
            for y in types where y != x { set("B-" + x, "I-" + y, -0.3 * sign) }
        }
        set("I-LOC", "I-ORG", 0.4 * sign)
        set("I-LOC", "I-MISC", 0.4 * sign)
        set("I-ORG", "I-MISC", 0.4 * sign)
        return LabelCorrelation(name: name, labels: labels, matrix: matrix)
    }

    @Test func correlationClaimsHoldAndFail() {
        var summary = S.summary()
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 1) }
        let holding = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(holding, letter) == .holds, "\(letter)") }
        #expect(holding.first { $0.claim.hasPrefix("(f)") }!.evidence.contains("12 of 12 clearly negative"))

        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: -1) }
        let failing = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(failing, letter) == .fails, "\(letter)") }

        // The right signs but r near 0 (0.03, −0.025, …) is no correlation: the patterns fail.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 0.05) }
        let faint = ReproduceClaims.evaluate(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(faint, letter) == .fails, "\(letter)") }

        // One seed of four reversed: the means keep their signs, but (h) sees 12 of 16 cells hold.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: $0 == 4 ? -1 : 1) }
        let mixed = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(mixed, "(d)") == .holds)
        #expect(Self.verdict(mixed, "(h)") == .partly)
        #expect(mixed.first { $0.claim.hasPrefix("(h)") }!.evidence.contains("12 of 16"))
    }

    @Test func claimFCountsTheShareOfNegativePairs() {
        var summary = S.summary(seeds: [1])
        var matrix = Self.patternMatrix(name: "seed 1", sign: 1)
        // Flip 4 of the 12 B-x/I-y entries: 8 of 12 negative is 67%, under 75%: partly.
        let labels = matrix.labels
        for (a, b) in [("B-PER", "I-LOC"), ("B-PER", "I-ORG"), ("B-LOC", "I-PER"), ("B-ORG", "I-MISC")] {
            let i = labels.firstIndex(of: a)!, j = labels.firstIndex(of: b)!
            matrix.matrix[i][j] = 0.2
            matrix.matrix[j][i] = 0.2
        }
        summary.correlationDev.models = [matrix]
        let claims = ReproduceClaims.evaluate(summary)
        #expect(Self.verdict(claims, "(f)") == .partly)
        #expect(claims.first { $0.claim.hasPrefix("(f)") }!.evidence.contains("8 of 12 clearly negative (r ≤ −0.10) = 67%"))
    }

    @Test func claimF1() {
        var summary = S.summary()
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(i)") == .holds)  // dev mean 87.35: 0.95 from 86.4
        for index in summary.seeds.indices {
            summary.seeds[index].record.devF1NCRF = 80
            summary.seeds[index].record.testF1NCRF = 78
        }
        #expect(Self.verdict(ReproduceClaims.evaluate(summary), "(i)") == .fails)
    }

}
