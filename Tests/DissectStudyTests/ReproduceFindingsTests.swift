import Testing
@testable import DissectAnalysis
@testable import DissectStudy

/// The sentences of the report's sections on seeds and on rankers: each branch reached by the
/// numbers that should reach it, and the numbers themselves in the text.
@Suite struct ReproduceFindingsTests {
    typealias S = ReproduceSynthetic
    typealias N = ReproduceNumbers

    static func seeds(cka: Double = 0.95, svcca: Double = 0.53, close: Int = 30, recurrence: Int = 5) -> String {
        N.seedsFinding(N.seedSimilarity(S.comparison(seeds: [1, 2, 3, 4], cka: cka, svcca: svcca, closeNeurons: close, recurrence: recurrence)))
    }

    @Test func seedSimilarityGathersThePairs() {
        let similarity = N.seedSimilarity(S.comparison(seeds: [1, 2, 3], closeNeurons: 20, recurrence: 4))
        #expect(similarity.pairs.count == 3)
        #expect(similarity.pairs.allSatisfy { $0.closeMatches == 20 && $0.matches == 50 })
        #expect(similarity.closeShare == 0.4)
        // Mean |r|: (20 · 0.8 + 30 · 0.2) / 50 = 0.44.
        #expect(abs((similarity.meanMatch?.mean ?? 0) - 0.44) < 1e-12)
        #expect(similarity.meanRecurrence == 4 && similarity.meanExpected == 2)
        #expect(similarity.recurrence.count == 9 && similarity.recurrence.allSatisfy { $0.mean == 4 && $0.pairs == 6 })
    }

    @Test func seedsSentenceFollowsCKA() {
        #expect(Self.seeds(cka: 0.95).contains("linear CKA is 0.95 (mean 0.95)"))
        #expect(Self.seeds(cka: 0.95).contains("hold largely the same information"))
        #expect(Self.seeds(cka: 0.6, svcca: 0.55).contains("hold partly the same information"))
        #expect(Self.seeds(cka: 0.3, svcca: 0.25).contains("hold different information"))
        // SVCCA far below CKA: the directions differ.
        #expect(Self.seeds(cka: 0.95, svcca: 0.53).contains("directions that carry it differ"))
        #expect(!Self.seeds(cka: 0.95, svcca: 0.9).contains("directions that carry it differ"))
        #expect(Self.seeds().contains("SVCCA 0.53 (mean 0.53, on the top 42 of 50 directions)"))
    }

    @Test func seedsSentenceFollowsMatchingAndRecurrence() {
        #expect(Self.seeds(close: 30).contains("60 % of matched neurons have |r| ≥ 0.5, so most neurons have a close counterpart"))
        #expect(Self.seeds(close: 10).contains("so most neurons have no close counterpart"))
        #expect(Self.seeds(recurrence: 5).contains("5.0 on average are matched into the other seed's top 10 for that label, against 2.0 by chance (2.5×): the neurons that carry a label recur across seeds"))
        #expect(Self.seeds(recurrence: 3).contains("(1.5×): the neurons that carry a label recur somewhat more than chance"))
        #expect(Self.seeds(recurrence: 2).contains("(1.0×): the neurons that carry a label recur no more than chance would give"))
    }

    @Test func seedsSentenceNamesTheMostAndLeastRecurrentLabel() {
        var comparison = S.comparison(seeds: [1, 2])
        comparison.recurrence = comparison.recurrence.map { row in
            var row = row
            row.count = row.label == "I-PER" ? 9 : row.label == "O" ? 1 : 5
            return row
        }
        let text = N.seedsFinding(N.seedSimilarity(comparison))
        #expect(text.contains("most for I-PER (9.0) and least for O (1.0)"), "\(text)")
        #expect(text.hasPrefix("Across the 1 pair of the 2 seeds"))
    }

    @Test func seedsSentenceWithoutPairsOrRankings() {
        #expect(N.seedsFinding(N.seedSimilarity(S.comparison(seeds: [1]))) == "There is only one model, so no seeds are compared.")
        var comparison = S.comparison(seeds: [1, 2])
        comparison.recurrence = comparison.recurrence.map { row in
            var row = row
            row.count = nil
            return row
        }
        #expect(N.seedsFinding(N.seedSimilarity(comparison)).contains("recurrence is undefined"))
    }

    /// A real comparison of a model against itself and a rotated copy: CKA 1, every match exact for itself.
    @Test func seedSimilarityOfAModelAndItself() {
        var random = SampleStream(state: 3)
        let tokens = 200, width = 6
        let values = (0..<(tokens * width)).map { _ in Float(random.next() * 2 - 1) }
        let activations = CentredActivations(values, tokens: tokens, width: width)
        let rankings = (0..<3).map { label in (0..<width).map { ($0 + label) % width } }
        let comparison = Comparison.make(
            data: "toy", layer: 1, labels: ["A", "B", "C"],
            inputs: [.init(name: "a", activations: activations, rankings: rankings), .init(name: "b", activations: activations, rankings: rankings)])
        let similarity = N.seedSimilarity(comparison)
        #expect(abs((similarity.cka?.mean ?? 0) - 1) < 1e-9)
        #expect(similarity.closeShare == 1)
        // Six neurons, so every top 10 is all six and recurs fully: 6 against 6 · 6 / 6 = 6 by chance.
        #expect(similarity.meanRecurrence == 6 && similarity.meanExpected == 6)
        #expect(N.seedsFinding(similarity).contains("recur no more than chance"))
    }

    @Test func rankerRowsCountWinsAndSkipSensitivityAgainstItself() {
        var document = S.rankings(drops: [.sensitivity: 12, .probeless: 8, .probe: 12, .single: 14])
        // single is largest on every label but B-PER, where probe beats it and sensitivity ties probe.
        for index in document.methods.indices {
            switch document.methods[index].method {
            case .single: document.methods[index].labels["B-PER"]?.dropAt10 = 10
            case .probe, .sensitivity: document.methods[index].labels["B-PER"]?.dropAt10 = 20
            default: break
            }
        }
        let rows = N.rankerRows(document)
        func row(_ method: RankMethod) -> N.RankerRow? { rows.first { $0.method == method } }
        #expect(row(.single)?.wins == 8 && row(.probe)?.wins == 1 && row(.sensitivity)?.wins == 1 && row(.probeless)?.wins == 0)
        #expect(row(.sensitivity)?.meanOverlap == nil && row(.sensitivity)?.meanSpearman == nil)
        #expect(row(.probe)?.meanOverlap == 6 && abs((row(.probe)?.meanSpearman ?? 0) - 0.4) < 1e-12 && row(.probe)?.probeAccuracy == 0.91)
        #expect(abs((row(.single)?.meanDrop ?? 0) - (14 * 8 + 10) / 9.0) < 1e-12)
        #expect(row(.single)?.meanArea == 7)
    }

    @Test func rankersSentenceNamesTheWinner() {
        let rival = N.rankersFinding(S.rankings(drops: [.sensitivity: 12, .probeless: 8, .probe: 6, .single: 14]), seed: "seed 1")
        #expect(rival.hasPrefix("On seed 1, with each label's top 10 neurons ablated on test, single costs 14.0, sensitivity costs 12.0, probeless costs 8.0, probe costs 6.0 points"), "\(rival)")
        #expect(rival.contains("single finds the neurons the model uses better than the paper's sensitivity, by 2.0 points (single has the largest drop on 9 of 9 labels)"))
        let paper = N.rankersFinding(S.rankings(drops: [.sensitivity: 15, .probeless: 8, .probe: 6, .single: 13]), seed: "seed 1")
        #expect(paper.contains("the paper's sensitivity finds the neurons the model uses best, 2.0 points ahead of single"), "\(paper)")
        let close = N.rankersFinding(S.rankings(drops: [.sensitivity: 12, .probeless: 8, .probe: 6, .single: 12.5]), seed: "seed 1")
        #expect(close.contains("within 1 point of the best ranking, so the method matters little here"), "\(close)")
        // The area (half the drop in the synthetic rankings) agrees with the drop: no second leader.
        #expect(!rival.contains("leads instead"))
        var crossed = S.rankings(drops: [.sensitivity: 12, .probeless: 8, .probe: 6, .single: 14])
        for index in crossed.methods.indices where crossed.methods[index].method == .probeless {
            for label in crossed.labels { crossed.methods[index].labels[label]?.area = 9.5 }
        }
        let text = N.rankersFinding(crossed, seed: "seed 1")
        #expect(text.contains("; over the whole curve (the area, k = 1 … 25) probeless leads instead, 9.5 points against 7.0."), "\(text)")
    }

    @Test func rankersSentenceFollowsAgreement() {
        #expect(N.rankersFinding(S.rankings(overlap: 6), seed: "seed 1").contains("probeless shares 6.0, probe shares 6.0, single shares 6.0 neurons on average: the rankers largely agree"))
        #expect(N.rankersFinding(S.rankings(overlap: 2), seed: "seed 1").contains("the rankers disagree on most of the top 10"))
        var mixed = S.rankings(overlap: 2)
        for index in mixed.methods.indices where mixed.methods[index].method == .probeless {
            for label in mixed.labels { mixed.methods[index].labels[label]?.top10OverlapWithSensitivity = 7 }
        }
        #expect(N.rankersFinding(mixed, seed: "seed 1").contains("probeless largely agrees with sensitivity, the others do not"))
    }

    @Test func rankersSentenceWithoutSensitivity() {
        let text = N.rankersFinding(S.rankings(drops: [.probe: 6, .single: 14]), seed: "seed 2")
        #expect(text.contains("points of the label's accuracy on average over 9 labels. Against sensitivity's top 10"), "\(text)")
        #expect(!text.contains("finds the neurons"))
        #expect(N.rankersFinding(S.rankings(drops: [:]), seed: "seed 2") == "No ranking of seed 2 could be scored.")
    }
}
