import DissectCore
import DissectCorpus
import DissectModel
import Foundation
import Testing
@testable import DissectAnalysis

/// The paper's CSVs and the analyses' memory estimates: numbers from a file
/// never index memory or size an allocation unchecked.
@Suite struct AnalysisBoundsTests {
    /// The statistics' estimate covers their two largest arrays (the resampled matrices and
    /// ranks, the per-sentence sums), grows with each count, and saturates instead of trapping.
    @Test func statisticsEstimate() {
        let n = 50, m = 9, S = 3250, N = 51_362
        let estimate = AnalysisMemory.sensitivityStatistics(neurons: n, labels: m, sentences: S, tokens: N, resamples: 1000, permutations: 1000, cores: 2)
        #expect(estimate.bytes >= Double(12 * 1000 * m * n + 8 * S * ((m + 1) * n + m + 1)))
        #expect(estimate.bytes < 100_000_000, "about 30 MB on the dev set, not more: \(estimate)")
        let more = AnalysisMemory.sensitivityStatistics(neurons: n, labels: m, sentences: S, tokens: N, resamples: 2000, permutations: 1000, cores: 2)
        let morePermutations = AnalysisMemory.sensitivityStatistics(neurons: n, labels: m, sentences: S, tokens: N, resamples: 1000, permutations: 100_000, cores: 2)
        #expect(more > estimate && morePermutations > estimate)
        let none = AnalysisMemory.sensitivityStatistics(neurons: n, labels: m, sentences: S, tokens: N, resamples: 0, permutations: 0, cores: 2)
        #expect(none < estimate && none.bytes == Double(n * m * (10 * 16 + 512)))
        let huge = AnalysisMemory.sensitivityStatistics(
            neurons: Int.max, labels: Int.max, sentences: Int.max, tokens: Int.max, resamples: 100_000, permutations: 100_000)
        #expect(!MemoryBudget.fits(huge))
    }

    @Test func aRepeatedLabelInTheCSVHeaderIsRejected() throws {
        let error = try #require(throws: DissectError.self) {
            try CorrelationAnalysis.readSensitivityCSV("neuron,B-PER,O,B-PER\n0,1,2,3\n", path: "s.csv")
        }
        #expect(error.kind == .input)
        #expect(error.description == "s.csv:1: the header names label B-PER twice (columns 2 and 4); give each label one column")
    }

    @Test func anEmptyLabelInTheCSVHeaderIsRejected() throws {
        let error = try #require(throws: DissectError.self) {
            try CorrelationAnalysis.readSensitivityCSV("neuron,B-PER, ,O\n0,1,2,3\n", path: "s.csv")
        }
        #expect(error.description == "s.csv:1: header column 3 has no label name; name every column after the first")
    }

    @Test(arguments: ["1e300", "-1", "2.5", "3", "-9.3e18"])
    func aRankingCellThatIsNotANeuronIsRejected(cell: String) throws {
        let text = "rank,B-PER,O\n1,0,1\n2,\(cell),0\n3,2,2\n"
        let error = try #require(throws: DissectError.self) { try CorrelationAnalysis.readRankingCSV(text, path: "r.csv") }
        #expect(error.kind == .input)
        #expect(error.description.hasPrefix("r.csv:3: "), "\(error)")
        #expect(error.description.contains("is not a neuron number (0 to 2)"), "\(error)")
    }

    @Test func rankingsAreRead() throws {
        let parsed = try CorrelationAnalysis.readRankingCSV("rank,B-PER,O\n1,2,1\n2,0,\n3,1,0\n", path: "r.csv")
        #expect(parsed.labels == ["B-PER", "O"])
        #expect(parsed.rankings == ["B-PER": [2, 0, 1], "O": [1, 0]])
        let paper = "/work/shared/paper/figure8_rankings.csv"
        if let text = try? String(contentsOfFile: paper, encoding: .utf8) {
            let figure = try CorrelationAnalysis.readRankingCSV(text, path: paper)
            #expect(figure.rankings["B-PER"]?.count == 50)
        }
    }

    @Test func estimatesOfAbsurdSizesAreFinite() {
        let random = AnalysisMemory.randomControl(count: Int.max, neurons: Int.max, steps: Int.max, labels: Int.max, groups: 2)
        #expect(random.bytes.isFinite && random.bytes > 1e50)
        #expect(AnalysisMemory.correlation(labels: 1_000_000, matrices: 3).bytes > 1e14)
        #expect(AnalysisMemory.randomControl(count: 0, neurons: 50, steps: 25, labels: 9, groups: 1).bytes == 0)
        let band = AnalysisMemory.band(resamples: Int.max, sentences: Int.max, steps: Int.max, labels: Int.max, curves: Int.max)
        #expect(band.bytes.isFinite && band.bytes > 1e50)
        #expect(AnalysisMemory.band(resamples: 0, sentences: 3453, steps: 25, labels: 9, curves: 4).bytes == 0)
        // The weights alone: 8·B·S.
        #expect(AnalysisMemory.band(resamples: 200, sentences: 3453, steps: 25, labels: 9, curves: 4).bytes > 8 * 200 * 3453)
    }

    /// Resample ablation keeps its drawn values, 4·N·n more than zero or mean.
    @Test func resampleAblationNeedsItsTable() {
        var c = TaggerConfiguration()
        c.hiddenSize = 50
        c.bidirectional = true
        c.labelCount = 9
        for mode in AblationMode.allCases {
            let zero = AnalysisMemory.ablation(configuration: c, tokens: 46_000, mode: mode)
            #expect(AnalysisMemory.ablation(configuration: c, tokens: 46_000, mode: mode, value: .mean).bytes == zero.bytes)
            let resample = AnalysisMemory.ablation(configuration: c, tokens: 46_000, mode: mode, value: .resample)
            #expect(resample.bytes == zero.bytes + 4 * 46_000 * 100)
        }
    }

    @Test func anAnalysisLargerThanTheMemoryGivenNamesTheDataFile() throws {
        var c = TaggerConfiguration()
        c.wordCount = 3
        c.charCount = 3
        c.labelCount = 2
        let checkpoint = Checkpoint(
            metadata: CheckpointMetadata(
                configuration: c, vocabulary: VocabularyLists(words: ["<unk>", "a", "b"], chars: ["<unk>", "a", "b"], labels: ["O", "B-X"]),
                unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil),
            model: TaggerModel<Float>(configuration: c))
        let corpus = Corpus(path: "d.conll", sentences: (0..<20_000).map { Sentence(words: ["a", "b"], labels: ["O", "B-X"], line: $0 * 3 + 1) })
        let sizes = CorpusSizes(sentences: corpus.sentences)
        // Enough for the model and its predictor, not for the cached states of 40,000 tokens.
        let predictor = c.loadingMemory + c.predictionMemory(chunk: sizes.largest(Sharding.sentencesPerCall))
        let cache = AnalysisMemory.modelRun(configuration: c, sizes: sizes, keepProjections: false)
        #expect(cache.bytes > 2 * predictor.bytes)
        let available = UInt64(predictor.bytes + cache.bytes / 2)
        let error = try #require(throws: DissectError.self) {
            try AnalysisMemory.requireModelRun(
                checkpoint: checkpoint, corpus: corpus, path: "d.conll", keepProjections: false, available: available)
        }
        #expect(error.kind == .input && error.file == "d.conll")
        #expect(error.description.hasPrefix("d.conll: the analysis of this file (40000 tokens, longest sentence 2) needs about "), "\(error)")
        // The ablation holds more again: enough memory for the run alone is not enough for it.
        let runOnly = UInt64(predictor.bytes + cache.bytes + 1)
        try AnalysisMemory.requireModelRun(checkpoint: checkpoint, corpus: corpus, path: "d.conll", keepProjections: false, available: runOnly)
        let ablation = try #require(throws: DissectError.self) {
            try AnalysisMemory.requireModelRun(
                checkpoint: checkpoint, corpus: corpus, path: "d.conll", keepProjections: true, ablation: .recurrent, available: runOnly)
        }
        #expect(ablation.description.hasPrefix("d.conll: the ablation on this file (40000 tokens, "), "\(ablation)")
    }
}
