import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectReport

@Suite struct ReproduceReportTests {
    typealias S = ReproduceSynthetic

    /// The page without its doctype line, as XMLParser wants it.
    static func xml(_ html: String) -> String {
        html.hasPrefix("<!DOCTYPE html>\n") ? String(html.dropFirst("<!DOCTYPE html>\n".count)) : html
    }

    static func verdict(_ claims: [Claim], _ prefix: String) -> Verdict? {
        claims.first { $0.claim.hasPrefix(prefix) }?.verdict
    }

    // MARK: Well-formedness

    @Test func pageIsWellFormedXHTML() throws {
        let html = ReproduceReport.html(S.summary())
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html"))
        let check = XMLCheck.parse(Self.xml(html))
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        // Figures inline: 8 sensitivity/ranking panels, 8 ablation charts, 2 × 5 correlation maps.
        #expect((check.elementCounts["svg"] ?? 0) >= 26)
        #expect(check.elementCounts["script"] == nil)
        #expect(check.elementCounts["section"] == 6)
        // No network references: the only URLs are the XHTML and SVG namespace names.
        let withoutNamespaces = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/1999/xhtml\"", with: "")
            .replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespaces.contains("http:") && !withoutNamespaces.contains("https:") && !withoutNamespaces.contains("//"))
        #expect(!html.contains("<?xml"))
        // Every section is linked from the table of contents.
        for id in ["claims", "f1", "sensitivity", "ablation", "correlation", "run"] {
            #expect(html.contains("href=\"#\(id)\""))
            #expect(html.contains("<section id=\"\(id)\">"))
        }
    }

    @Test func pageWithoutPaperOrAblationsIsWellFormed() {
        var summary = S.summary(seeds: [7], withPaper: false)
        summary.ablations = []
        let html = ReproduceReport.html(summary)
        let check = XMLCheck.parse(Self.xml(html))
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(html.contains("no paper figures"))
        let claims = ReproduceReport.claims(summary)
        #expect(Self.verdict(claims, "(b)") == .untested)
        #expect(Self.verdict(claims, "(j)") == .untested)
    }

    @Test func textIsEscaped() {
        var summary = S.summary(seeds: [1])
        summary.run.command = "dissect reproduce --out 'a<b>&c' \"quoted\""
        summary.references[0].provenance = "<script>alert(1)</script> & more"
        let html = ReproduceReport.html(summary)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(XMLCheck.parse(Self.xml(html)).isValid)
    }

    @Test func everyFigureParsesAndIsNamed() {
        let figures = ReproduceReport.figures(S.summary())
        let names = figures.map(\.name)
        for expected in [
            "figure2-ours.svg", "figure2-paper.svg", "figure3-ours.svg", "figure3-paper.svg",
            "figure7-ours.svg", "figure7-paper.svg", "figure8-ours.svg", "figure8-paper.svg",
            "figure4-readout.svg", "figure4-recurrent.svg", "figure5-readout.svg", "figure5-recurrent.svg",
            "figure6-dev.svg", "figure6-test.svg",
        ] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(Set(names).count == names.count)
        for (name, svg) in figures {
            let check = XMLCheck.parse(svg)
            #expect(check.isValid, "\(name): \(check.errorDescription ?? "")")
            #expect(check.rootAttributes["viewBox"] != nil, "\(name)")
        }
        // Figure 8 is the full 50 × 9 rankings; Figure 3 its top ten rows.
        let figure8 = XMLCheck.parse(figures.first { $0.name == "figure8-ours.svg" }!.svg)
        #expect(figure8.count("rect", class: "cell") == 450)
        let figure3 = XMLCheck.parse(figures.first { $0.name == "figure3-paper.svg" }!.svg)
        #expect(figure3.count("rect", class: "cell") == 90)
        let figure2 = XMLCheck.parse(figures.first { $0.name == "figure2-paper.svg" }!.svg)
        #expect(figure2.count("rect", class: "cell") == 90)
        // Figure 6: four seeds and the paper's matrix.
        let figure6 = XMLCheck.parse(figures.first { $0.name == "figure6-dev.svg" }!.svg)
        #expect(figure6.count("rect", class: "cell") == 5 * 81)
    }

    @Test func figure2And7ShareOneScale() {
        let summary = S.summary()
        let figures = ReproduceReport.figures(summary)
        let scale = ReproduceFigures.sensitivityScale(summary)
        let label = "+" + SVGText.fixed(scale, decimals: 2)
        for name in ["figure2-ours.svg", "figure2-paper.svg", "figure7-ours.svg", "figure7-paper.svg", "figure8-paper.svg"] {
            let texts = XMLCheck.parse(figures.first { $0.name == name }!.svg).texts
            #expect(texts.contains(label), "\(name) has no legend label \(label)")
        }
    }

    @Test func paperFigure2UsesItsOwnRows() {
        let figures = ReproduceReport.figures(S.summary())
        let texts = XMLCheck.parse(figures.first { $0.name == "figure2-paper.svg" }!.svg).texts
        for neuron in [7, 10, 13, 17, 19, 24, 27, 34, 37, 48] { #expect(texts.contains(String(neuron))) }
    }

    @Test func markdownHasTheF1TableAndFigureLinks() {
        let summary = S.summary()
        let markdown = ReproduceReport.markdown(summary)
        #expect(markdown.contains("| Model"))
        #expect(markdown.contains("dev F1 (NCRF++)"))
        #expect(markdown.contains("test F1 (conlleval)"))
        #expect(markdown.contains("86.4 †"))
        #expect(markdown.contains("seed 3"))
        #expect(markdown.contains("mean ± sd over 4 seeds"))
        #expect(markdown.contains("NCRF++ (LSTM, no CRF) on this machine"))
        #expect(markdown.contains("87.31"))
        for (name, _) in ReproduceReport.figures(summary) { #expect(markdown.contains("](\(name))"), "\(name) not linked") }
        #expect(markdown.contains("| Claim"))
    }

    @Test func f1MeanAndSDAreRight() {
        // 86.9, 87.2, 87.5, 87.8: mean 87.35, sd 0.387.
        let table = ReproduceTables.f1(S.summary())
        let mean = table.rows.first { $0[0].hasPrefix("mean") }!
        #expect(mean[1] == "87.35 ± 0.39")
        #expect(table.rows[0][1] == "86.4 †")
        #expect(table.rows.last![7].hasPrefix("NCRF++ commit"))
    }

    // MARK: Claims on hand-made summaries

    /// Every neuron gets `value` for every label, except the given rows.
    static func matrix(neurons: Int, fill: Double, rows: [Int: Double]) -> [[Double?]] {
        (0..<neurons).map { neuron in Array(repeating: Optional(rows[neuron] ?? fill), count: 9) }
    }

    @Test func claimASensitiveAndInsensitiveNeurons() {
        var summary = S.summary(seeds: [1])
        // Largest |s| 1: sensitive above 0.2, insensitive below 0.04.
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 0.3, rows: [0: 1, 1: 1, 2: 0, 3: 0.01]), data: "dev")
        #expect(Self.verdict(ReproduceReport.claims(summary), "(a)") == .holds)
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 1, rows: [:]), data: "dev")
        let claims = ReproduceReport.claims(summary)
        #expect(Self.verdict(claims, "(a)") == .fails)
        #expect(claims[0].evidence.contains("B-PER 6/0"))
        // Only one insensitive neuron: two of each are needed.
        summary.sensitivityDev[0] = S.document(Self.matrix(neurons: 6, fill: 0.5, rows: [0: 1, 1: 0]), data: "dev")
        #expect(Self.verdict(ReproduceReport.claims(summary), "(a)") == .fails)
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
        let holding = ReproduceReport.claims(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005))
        #expect(holding.filter { $0.claim.hasPrefix("(b)") }.map(\.verdict) == [.holds, .holds])
        // The ranked label barely moves while its partner collapses.
        let failing = ReproduceReport.claims(Self.withAblation(rate: 0.001, partnerRate: 0.05, allRate: 0.0005))
        #expect(failing.filter { $0.claim.hasPrefix("(b)") }.map(\.verdict) == [.fails, .fails])
        let row = ReproduceNumbers.ablationRows(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005)).first!
        // 0.85 · (1 − e^(−0.6)) = 38.35 points at k = 10; the partner 0.85 · (1 − e^(−0.1)) = 8.09.
        #expect(abs(row.ranked! - 38.35) < 0.01)
        #expect(abs(row.partners[0].drop! - 8.09) < 0.01)
        #expect(row.k == 10 && row.kMax == 25)
    }

    @Test func claimCOverallAccuracyFlat() {
        let flat = ReproduceReport.claims(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.0005))
        #expect(flat.filter { $0.claim.hasPrefix("(c)") }.map(\.verdict) == [.holds, .holds])
        // 0.95 · (1 − e^(−0.05·10)) = 37 points lost overall.
        let collapsing = ReproduceReport.claims(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.05))
        #expect(collapsing.filter { $0.claim.hasPrefix("(c)") }.map(\.verdict) == [.fails, .fails])
        // Flat at k = 10 (2.8 points) but not by K = 25 (6.7 points): partly.
        let late = ReproduceReport.claims(Self.withAblation(rate: 0.06, partnerRate: 0.01, allRate: 0.003))
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
        let holding = ReproduceReport.claims(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(holding, letter) == .holds, "\(letter)") }
        #expect(holding.first { $0.claim.hasPrefix("(f)") }!.evidence.contains("12 of 12 clearly negative"))

        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: -1) }
        let failing = ReproduceReport.claims(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(failing, letter) == .fails, "\(letter)") }

        // The right signs but r near 0 (0.03, −0.025, …) is no correlation: the patterns fail.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: 0.05) }
        let faint = ReproduceReport.claims(summary)
        for letter in ["(d)", "(e)", "(f)", "(g)", "(h)"] { #expect(Self.verdict(faint, letter) == .fails, "\(letter)") }

        // One seed of four reversed: the means keep their signs, but (h) sees 12 of 16 cells hold.
        summary.correlationDev.models = (1...4).map { Self.patternMatrix(name: "seed \($0)", sign: $0 == 4 ? -1 : 1) }
        let mixed = ReproduceReport.claims(summary)
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
        let claims = ReproduceReport.claims(summary)
        #expect(Self.verdict(claims, "(f)") == .partly)
        #expect(claims.first { $0.claim.hasPrefix("(f)") }!.evidence.contains("8 of 12 clearly negative (r ≤ −0.10) = 67%"))
    }

    @Test func claimF1() {
        var summary = S.summary()
        #expect(Self.verdict(ReproduceReport.claims(summary), "(i)") == .holds)  // dev mean 87.35: 0.95 from 86.4
        for index in summary.seeds.indices {
            summary.seeds[index].record.devF1NCRF = 80
            summary.seeds[index].record.testF1NCRF = 78
        }
        #expect(Self.verdict(ReproduceReport.claims(summary), "(i)") == .fails)
    }

    @Test func overviewCountsVerdicts() {
        let summary = S.summary()
        let claims = ReproduceReport.claims(summary)
        let text = ReproduceReport.overview(summary, claims: claims)
        #expect(text.contains("Of the \(claims.count) claims checked"))
        #expect(claims.count == 12)
    }
}
