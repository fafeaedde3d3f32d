import DissectCore
import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectReport
@testable import DissectStudy

/// The report's additions for issue 15: the rule beside each claim, robustness
/// rows, "How sure", "Control task", intervals in the correlation table, the
/// bootstrap band on ablation charts, and the study's own title and intro.
@Suite struct StudyReportTests {
    typealias S = ReproduceSynthetic
    typealias N = ReproduceNumbers

    static func page(_ summary: ReproduceSummary) -> (html: String, markdown: String, check: XMLCheck) {
        let claims = ReproduceClaims.evaluate(summary)
        let html = ReproduceReport.html(summary, claims: claims)
        return (html, ReproduceReport.markdown(summary, claims: claims), XMLCheck.parse(ReproduceReportTests.xml(html)))
    }

    @Test func claimsTableShowsEachRule() {
        let summary = S.summary()
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(html.contains("<th>Rule (fixed before the data)</th>"))
        #expect(markdown.contains("| Claim ") && markdown.contains("| Rule (fixed before the data) "))
        for claim in ReproduceClaims.evaluate(summary) {
            #expect(html.contains(ReproduceHTML.escape(claim.rule)), "\(claim.claim)")
            #expect(markdown.contains(MarkdownReport.escape(claim.rule)), "\(claim.claim)")
        }
    }

    @Test func robustnessRowsAreMarkedAndNotCounted() {
        var summary = S.summary(seeds: [1])
        let values = summary.sensitivityDev[0].sensitivity
        summary.ablations += N.paperPairs.map { S.ablation(seed: 1, pair: $0, mode: .readout, values: values, value: .resample) }
        let claims = ReproduceClaims.evaluate(summary)
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid)
        #expect(check.count("tr", class: "robustness") >= 1 + 4, "the claim row and the four ablation rows")
        #expect(html.contains("Robustness of (b) with resample-value ablation (readout mode)"))
        #expect(markdown.contains("↳ Robustness of (b)"))
        #expect(ReproduceReport.overview(summary, claims: claims).contains("Of the 12 claims checked"))
        #expect(ReproduceReport.overview(summary, claims: claims).contains("Robustness rows"))
        // The ablation table gains a Value column.
        #expect(ReproduceTables.ablation(N.ablationRows(summary)).header.contains("Value"))
        #expect(!ReproduceTables.ablation(N.ablationRows(S.summary())).header.contains("Value"))
    }

    @Test func howSureShowsFindingsAndStability() {
        var summary = S.summary(seeds: [1])
        let without = Self.page(summary)
        #expect(without.html.contains("no bootstrap or permutation statistics"))
        var cells = [[Bool?]](repeating: [Bool?](repeating: true, count: 9), count: 50)
        cells[0] = Array(repeating: false, count: 9)
        summary.sensitivityDev[0].statistics = S.statistics(findings: cells, stability: Array(repeating: 0.8, count: 9))
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        // 441 of 450 cells are findings: 98.0 %.
        #expect(html.contains("441 of 450 (98.0 %)"))
        #expect(markdown.contains("441 of 450 (98.0 %)"))
        #expect(html.contains("A cell is a finding when: q &lt; 0.05 and the interval excludes"))
        #expect(html.contains("B-PER top 10"))
        #expect(!html.contains("no bootstrap or permutation statistics"))
    }

    @Test func controlSectionOnlyWithControls() {
        var summary = S.summary(seeds: [1])
        #expect(!Self.page(summary).html.contains("<section id=\"control\">"))
        let flat: [[Double?]] = (0..<50).map { _ in Array(repeating: 0.3, count: 9) }
        summary.controls = ControlStudy(
            seeds: summary.seeds, sensitivityDev: [S.document(flat, data: "dev")],
            ablations: N.paperPairs.map { S.ablation(seed: 1, pair: $0, mode: .readout, values: flat, rate: 0.0014) })
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(html.contains("<section id=\"control\">") && html.contains("href=\"#control\""))
        #expect(check.elementCounts["section"] == 10)
        #expect(html.contains("selectivity (real − control)"))
        // B-PER's readout drop: 38.35 real, 1.18 control: selectivity +37.2.
        #expect(html.contains("+37.2"))
        #expect(markdown.contains("<a id=\"control\"></a>"))
        #expect(markdown.contains("concentration = Σ") || markdown.contains("Concentration = Σ"))
    }

    @Test func correlationTableShowsIntervals() {
        let table = ReproduceTables.patterns(S.summary().correlationDev)
        #expect(table.header.contains("mean [across seeds]") && table.header.contains("agrees"))
        let row = table.rows.first { $0[1] == "B-PER / I-PER" }!
        // Each model's r with its bootstrap interval, and the mean with the interval across seeds.
        #expect(row[2].contains(" [") && row[2].hasSuffix("]"), "\(row[2])")
        #expect(row[6].contains(" ["), "\(row[6])")
        #expect(["yes", "no"].contains(row[7]))
        // A label set that is not BIO: the table says why it is empty.
        var document = S.summary().correlationDev
        document.labels = ["NN", "VB"]
        let empty = ReproduceTables.patterns(document)
        #expect(empty.rows.isEmpty && empty.notes.first!.hasPrefix("The label set is not BIO"))
    }

    @Test func ablationChartDrawsTheBootstrapBand() {
        let summary = S.summary(seeds: [1])
        var document = summary.ablations[0].document
        let plain = AnalysisArtifacts.ablationChart(document, ranking: "B-PER")
        #expect(plain.bands.count == 1)
        var curve = document.curves["B-PER"]!
        let accuracy = curve.accuracy["B-PER"]!
        curve.band = CurveBand(resamples: 200, level: 0.95, lower: ["B-PER": accuracy.map { $0 - 0.02 }], upper: ["B-PER": accuracy.map { $0 + 0.01 }])
        document.curves["B-PER"] = curve
        let chart = AnalysisArtifacts.ablationChart(document, ranking: "B-PER")
        #expect(chart.bands.count == 2)
        let band = chart.bands.first { $0.name.contains("sentence resamples") }!
        #expect(band.name == "B-PER ranked, 95% band over 200 sentence resamples")
        // Degradation from the curve's own start: at k = 0 the band is [−0.02, +0.01].
        #expect(abs(band.lower[0] + 0.02) < 1e-12 && abs(band.upper[0] - 0.01) < 1e-12)
        let svg = XMLCheck.parse(SVGReport.lineChart(chart))
        #expect(svg.isValid && svg.count("path", class: "band") == 2)
    }

    /// With --all the summary also holds mean and resample studies: the figures stay the zero-value ones,
    /// one file each, as the report's text says.
    @Test func ablationFiguresShowZeroValueAblationOnly() {
        var summary = S.summary(seeds: [1])
        let before = ReproduceReport.figures(summary)
        for value in [AblationValue.mean, .resample] {
            var extra = summary.ablations.filter { $0.seed == 1 }
            for index in extra.indices { extra[index].document.value = value }
            summary.ablations += extra
        }
        let after = ReproduceReport.figures(summary)
        #expect(Set(after.map(\.name)).count == after.count, "one figure per file name")
        #expect(after.map(\.name) == before.map(\.name))
        #expect(after.map(\.svg) == before.map(\.svg))
    }

    /// The report's own heatmaps (Figures 2 and 7, ours) dot exactly the defined cells that are not findings.
    @Test func reportHeatmapsMarkNonFindings() {
        var summary = S.summary(seeds: [1])
        func marks() -> [String: Int] {
            var counts: [String: Int] = [:]
            for figure in ReproduceReport.figures(summary) where figure.name.hasSuffix("-ours.svg") {
                counts[figure.name] = figure.svg.components(separatedBy: "<circle class=\"mark\"").count - 1
            }
            return counts
        }
        #expect(marks().values.allSatisfy { $0 == 0 }, "no statistics: no marks")
        var cells = [[Bool?]](repeating: [Bool?](repeating: true, count: 9), count: 50)
        cells[1][2] = false
        cells[1][3] = nil
        cells[40][0] = false
        summary.sensitivityDev[0].statistics = S.statistics(findings: cells, stability: [])
        let counts = marks()
        // Two cell dots and the legend's one.
        #expect(counts["figure7-ours.svg"] == 3, "every neuron: both non-findings, not the undefined cell, plus the legend")
        let figure7 = ReproduceReport.figures(summary).first { $0.name == "figure7-ours.svg" }?.svg ?? ""
        #expect(figure7.contains("not a finding"))
    }

    /// The synthetic summary as `study` on a corpus with lower-case entity types would make it.
    static func studySummary() -> ReproduceSummary {
        var summary = S.summary(seeds: [1, 2], withPaper: false)
        let names = ["PER": "person", "LOC": "location", "ORG": "corporation", "MISC": "product"]
        func rename(_ label: String) -> String {
            guard label.count > 2, let type = names[String(label.dropFirst(2))] else { return label }
            return String(label.prefix(2)) + type
        }
        for index in summary.sensitivityDev.indices { summary.sensitivityDev[index].labels = summary.sensitivityDev[index].labels.map(rename) }
        summary.correlationDev.labels = summary.correlationDev.labels.map(rename)
        for index in summary.correlationDev.models.indices { summary.correlationDev.models[index].labels = summary.correlationDev.models[index].labels.map(rename) }
        summary.run.trainFile = "corpora/wnut17/train.txt"
        summary.task = StudyTask(
            kind: .study, pairs: [["B-person", "B-location"]], pairRule: AblationPairs.rule, trainLabelCounts: [:], testLabelCounts: [:])
        return summary
    }

    @Test func studyTitleAndIntroductionNameTheCorpus() {
        let summary = Self.studySummary()
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        let title = "dissect study of corpora/wnut17 (9 labels, BIO with the entity types person, location, corporation and product): measuring and dissecting LSTM neurons"
        #expect(html.contains("<h1>\(title)</h1>"))
        #expect(markdown.hasPrefix("# \(title)\n"))
        let overview = ReproduceReport.overview(summary, claims: ReproduceClaims.evaluate(summary))
        #expect(overview.contains("on the corpus in corpora/wnut17"))
        #expect(overview.contains("generalised to these types"))
        #expect(overview.contains("(B-person, B-location)") && overview.contains("two most frequent"))
        #expect(!overview.contains("against the paper's"))
        #expect(!html.contains("Reproducing Xin"))
        #expect(html.contains("B-person/I-person"))
        // No paper row in the F1 table.
        #expect(!ReproduceTables.f1(summary).rows.contains { $0[0].hasPrefix("Paper") })
        #expect(ReproduceTables.f1(S.summary()).rows[0][0].hasPrefix("Paper"))
        // The paper's run keeps its title.
        #expect(ReproduceReport.title(S.summary()) == ReproduceReport.paperTitle)
    }

    @Test func studyOnALabelSetThatIsNotBIO() {
        var summary = Self.studySummary()
        let pos = ["NN", "VBD", "DT", "IN", "NNP", "CC", "JJ", "RB", "."]
        for index in summary.sensitivityDev.indices { summary.sensitivityDev[index].labels = pos }
        summary.correlationDev.labels = pos
        for index in summary.correlationDev.models.indices { summary.correlationDev.models[index].labels = pos }
        let (html, _, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        #expect(ReproduceReport.title(summary).contains("(9 labels, not BIO)"))
        #expect(html.contains("cannot apply and say why"))
        #expect(html.contains("The label set is not BIO"))
    }

    // MARK: Seeds and rankers (issue 16)

    /// The text of one section of the page, markup and inline figures removed.
    static func sectionText(_ html: String, _ id: String) -> String {
        guard let start = html.range(of: "<section id=\"\(id)\">"),
              let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return "" }
        var text = String(html[start.lowerBound..<end.lowerBound])
        text = text.replacingOccurrences(of: "<svg[\\s\\S]*?</svg>", with: " ", options: .regularExpression)
        text = text.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
        return text.replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func seedsSectionStatesTheComputedFinding() throws {
        var summary = S.summary()
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        let finding = N.seedsFinding(N.seedSimilarity(try #require(summary.seedComparison)))
        let section = Self.sectionText(html, "seeds")
        #expect(section.contains(finding), "\(section)")
        #expect(markdown.contains(finding))
        #expect(section.contains("hold largely the same information") && section.contains("recur across seeds"))
        #expect(section.contains("seed 1 vs seed 2") && section.contains("30 of 50"))
        #expect(html.contains("File: seeds-cka.svg") && html.contains("File: seeds-matches.svg"))
        #expect(markdown.contains("](figures/seeds-cka.svg)"))
        #expect(ReproduceReport.figures(summary).contains { $0.name == "seeds-cka.svg" })
        // Other numbers, other words: the sentence is computed, not written.
        summary.seedComparison = S.comparison(seeds: [1, 2, 3, 4], cka: 0.3, svcca: 0.2, closeNeurons: 5, recurrence: 2)
        let changed = Self.sectionText(Self.page(summary).html, "seeds")
        #expect(changed.contains("hold different information") && changed.contains("recur no more than chance"))
        #expect(!changed.contains("largely the same"))
        #expect(changed.contains("5 of 50"))
    }

    @Test func seedsSectionWithOneSeedSaysWhy() {
        let summary = S.summary(seeds: [1])
        #expect(summary.seedComparison == nil)
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid)
        #expect(Self.sectionText(html, "seeds").contains("The summary has no comparison across seeds (it needs two or more seeds)."))
        #expect(markdown.contains("it needs two or more seeds"))
        #expect(!ReproduceReport.figures(summary).contains { $0.name == "seeds-cka.svg" })
    }

    @Test func rankersSectionStatesTheComputedFinding() throws {
        var summary = S.summary()
        let (html, markdown, check) = Self.page(summary)
        #expect(check.isValid, "\(check.errorDescription ?? "")")
        let section = Self.sectionText(html, "rankers")
        #expect(section.contains("single finds the neurons the model uses better than the paper's sensitivity, by 2.0 points"), "\(section)")
        #expect(markdown.contains(N.rankersFinding(try #require(summary.rankings), seed: "seed 1")))
        #expect(section.contains("probe (probe accuracy 91.0 %)"))
        #expect(section.contains("9 of 9"))
        #expect(html.contains("File: rankers-drops.svg"))
        summary.rankings = S.rankings(drops: [.sensitivity: 15, .probeless: 8, .probe: 6, .single: 13], overlap: 2)
        let changed = Self.sectionText(Self.page(summary).html, "rankers")
        #expect(changed.contains("the paper's sensitivity finds the neurons the model uses best, 2.0 points ahead of single"))
        #expect(changed.contains("the rankers disagree on most of the top 10"))
        summary.rankings = nil
        let without = Self.page(summary)
        #expect(without.check.isValid)
        #expect(Self.sectionText(without.html, "rankers").contains("The summary has no rival rankings."))
    }

    @Test func olderSummariesWithoutTheNewFieldsStillDecode() throws {
        var summary = S.summary()
        summary.seedComparison = nil
        summary.rankings = nil
        let data = try JSONEncoder().encode(summary)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object.removeValue(forKey: "seedComparison")
        object.removeValue(forKey: "rankings")
        let decoded = try JSONDecoder().decode(ReproduceSummary.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(decoded.seedComparison == nil && decoded.rankings == nil)
    }
}
