import Foundation
import Testing
@testable import DissectAnalysis
@testable import DissectStudy

/// How `study` reads a label set, chooses what to ablate, and the numbers of
/// the report's "How sure" and "Control task" sections.
@Suite struct StudyLabelsTests {
    typealias S = ReproduceSynthetic
    typealias N = ReproduceNumbers

    @Test func bioSchemesInAnyCase() {
        let conll = LabelScheme.detect(CorrelationAnalysis.paperLabelOrder)
        #expect(conll.isBIO && conll.types == ["PER", "LOC", "ORG", "MISC"] && conll.outside == "O")
        let wnut = LabelScheme.detect(["O", "B-person", "I-person", "b-location", "i-location", "B-corporation"])
        #expect(wnut.isBIO)
        #expect(wnut.types == ["person", "location", "corporation"])
        #expect(wnut.begin["location"] == "b-location" && wnut.inside["location"] == "i-location" && wnut.inside["corporation"] == nil)
        #expect(wnut.description == "BIO with the entity types person, location and corporation")
        let lower = LabelScheme.detect(["o", "b-x"])
        #expect(lower.isBIO && lower.outside == "o" && lower.description == "BIO with the entity type x")
    }

    @Test func setsThatAreNotBIO() {
        let pos = LabelScheme.detect(["NN", "VBD", "DT", "O"])
        #expect(!pos.isBIO && pos.types.isEmpty)
        #expect(pos.notBIOReason == "the label set is not BIO (labels such as NN, VBD, DT are not O, B-x or I-x), so there are no B-x/I-x pairs")
        // BIOES's E- and S- are not B-x or I-x; a bare "B-" has no type; O alone has no type.
        #expect(!LabelScheme.detect(["O", "B-PER", "E-PER", "S-LOC"]).isBIO)
        #expect(!LabelScheme.detect(["O", "B-"]).isBIO)
        #expect(!LabelScheme.detect(["O"]).isBIO)
        #expect(LabelScheme.detect(["O", "B-PER"]).description == "BIO with the entity type PER")
    }

    @Test func thePapersPairsWhenAllFourLabelsArePresent() {
        #expect(AblationPairs.choose(labels: CorrelationAnalysis.paperLabelOrder, trainingCounts: [:]) == N.paperPairs)
        // Without B-MISC the frequency rule applies, O left out, ties by name.
        let labels = ["O", "B-PER", "I-PER", "B-LOC", "I-ORG", "B-ORG"]
        let counts = ["O": 1000, "B-PER": 50, "I-PER": 30, "B-LOC": 50, "I-ORG": 40, "B-ORG": 10]
        #expect(AblationPairs.choose(labels: labels, trainingCounts: counts) == [["B-LOC", "B-PER"], ["I-ORG", "I-PER"]])
    }

    @Test func pairsByTrainingFrequency() {
        let wnut = ["O", "B-person", "I-person", "B-location", "I-location", "B-group"]
        let counts = ["O": 900, "B-person": 40, "I-person": 12, "B-location": 30, "I-location": 18, "B-group": 5]
        #expect(AblationPairs.choose(labels: wnut, trainingCounts: counts) == [["B-person", "B-location"], ["I-location", "I-person"]])
        // Three labels besides O: a lone last label forms its own group; one label, one group; none, none.
        #expect(AblationPairs.choose(labels: ["O", "B-a", "I-a", "B-b"], trainingCounts: ["B-a": 3, "I-a": 2, "B-b": 1]) == [["B-a", "I-a"], ["B-b"]])
        #expect(AblationPairs.choose(labels: ["O", "B-a"], trainingCounts: [:]) == [["B-a"]])
        #expect(AblationPairs.choose(labels: ["O"], trainingCounts: ["O": 5]).isEmpty)
        // POS tags have no O: every tag is a candidate.
        let pos = ["NN", "DT", "VBD", "IN", "CC"]
        #expect(AblationPairs.choose(labels: pos, trainingCounts: ["NN": 9, "DT": 7, "VBD": 5, "IN": 8, "CC": 1]) == [["NN", "IN"], ["DT", "VBD"]])
        #expect(AblationPairs.rule.contains("two most frequent"))
    }

    // MARK: How sure

    @Test func confidenceReadsFindingsAndStability() {
        var summary = S.summary(seeds: [1, 2])
        // Seed 1: 2 of its 4 defined cells are findings; seed 2 has no statistics.
        var cells = [[Bool?]](repeating: [Bool?](repeating: nil, count: 9), count: 50)
        cells[0][0] = true; cells[0][1] = false; cells[1][0] = true; cells[1][1] = false
        summary.sensitivityDev[0].statistics = S.statistics(findings: cells, stability: [0.5] + Array(repeating: nil, count: 8))
        let rows = N.confidence(summary)
        #expect(rows.count == 1 && rows[0].name == "seed 1")
        #expect(rows[0].findings == 2 && rows[0].defined == 4 && rows[0].findingShare == 0.5)
        #expect(rows[0].stability.first?.label == "B-PER" && rows[0].stability.first?.value == 0.5)
        #expect(rows[0].resamples == 50 && rows[0].permutations == 40)
        #expect(N.findingShare(summary.sensitivityDev[0]) == 0.5)
        #expect(N.findingShare(summary.sensitivityDev[1]) == nil)
    }

    // MARK: Control task

    @Test func concentrationHandWorked() {
        // |s| of 12 neurons: 10 × 1 and 2 × 5: the top 10 hold 5 + 5 + 8 × 1 = 18 of 20.
        let values: [[Double?]] = (0..<12).map { [$0 < 2 ? -5 : 1] }
        #expect(N.concentration(values, column: 0) == 0.9)
        // A flat column: 10 of n.
        #expect(abs(N.concentration((0..<50).map { _ in [0.3] }, column: 0)! - 0.2) < 1e-12)
        #expect(N.concentration([[nil], [1]], column: 0) == nil)
        #expect(N.concentration([[0], [0]], column: 0) == nil)
        #expect(N.concentration([[1], [2]], column: 0, top: 1) == 2.0 / 3)
    }

    @Test func controlComparisonIsRealMinusControl() {
        var summary = S.summary(seeds: [1])
        #expect(N.controlComparison(summary) == nil)
        // Control: every neuron equally sensitive (concentration 10/50), and ranked drops of 1.2 points.
        let flat: [[Double?]] = (0..<50).map { _ in Array(repeating: 0.3, count: 9) }
        let controlAblations = N.paperPairs.map { pair in
            S.ablation(seed: 1, pair: pair, mode: .readout, values: flat, rate: 0.0014, partnerRate: 0.001, allRate: 0.0001)
        }
        summary.controls = ControlStudy(seeds: summary.seeds, sensitivityDev: [S.document(flat, data: "dev")], ablations: controlAblations)
        let rows = N.controlComparison(summary)!
        let concentration = rows.first { $0.measure.hasPrefix("concentration") && $0.label == "B-PER" }!
        #expect(abs(concentration.control! - 20) < 1e-9)
        let column = summary.sensitivityDev[0].labels.firstIndex(of: "B-PER")!
        #expect(abs(concentration.real! - N.concentration(summary.sensitivityDev[0].sensitivity, column: column)! * 100) < 1e-9)
        #expect(abs(concentration.selectivity! - (concentration.real! - 20)) < 1e-9)
        let drop = rows.first { $0.measure.contains("readout") && $0.label == "B-PER" }!
        // Real: 0.85 · (1 − e^(−0.6)) = 38.35; control: 0.85 · (1 − e^(−0.014)) = 1.18.
        #expect(abs(drop.real! - 38.35) < 0.01 && abs(drop.control! - 1.18) < 0.01)
        #expect(abs(drop.selectivity! - (38.35 - 1.18)) < 0.02)
        // Recurrent: only the real models ran it, so no selectivity.
        let recurrent = rows.first { $0.measure.contains("recurrent") && $0.label == "B-PER" }!
        #expect(recurrent.control == nil && recurrent.selectivity == nil)
        // No findings anywhere: the findings row has no numbers.
        #expect(rows[0].real == nil && rows[0].selectivity == nil)
    }
}
