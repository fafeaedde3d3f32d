import DissectAnalysis
import DissectCore
import DissectModel
import Testing
@testable import DissectStudy

/// reproduce keeps every seed's model and results: --seeds, --random and the
/// data's vocabulary and labels are bounded together before the work starts.
@Suite struct ReproduceMemoryTests {
    static func request(seeds: Int, random: Int) -> ReproduceRequest {
        var request = ReproduceRequest(trainPath: "train.txt", devPath: "valid.txt", testPath: "test.txt", outputDirectory: "out")
        request.seeds = (0..<seeds).map(UInt64.init)
        request.randomCount = random
        return request
    }

    static func configuration(words: Int = 26_000, labels: Int = 9) -> TaggerConfiguration {
        var c = TaggerConfiguration()
        c.wordCount = words
        c.charCount = 80
        c.labelCount = labels
        return c
    }

    @Test func thePapersRunFits() throws {
        try ReproducePipeline.requireMemory(
            request: Self.request(seeds: 4, random: 20), configuration: Self.configuration(), dev: nil, test: nil,
            available: 1 << 30)
    }

    @Test func tooManySeedsAreAUsageError() throws {
        let error = try #require(throws: DissectError.self) {
            try ReproducePipeline.requireMemory(
                request: Self.request(seeds: 20_000, random: 20), configuration: Self.configuration(), dev: nil, test: nil,
                available: 8 << 30)
        }
        #expect(error.kind == .usage && error.file == nil)
        #expect(error.description.hasPrefix("reproduce with 20000 seeds and --random 20 needs about "), "\(error)")
        #expect(error.description.hasSuffix("use fewer --seeds or a smaller --random"), "\(error)")
    }

    @Test func aHugeRandomControlIsAUsageError() throws {
        let error = try #require(throws: DissectError.self) {
            try ReproducePipeline.requireMemory(
                request: Self.request(seeds: 1, random: 1_000_000_000_000), configuration: Self.configuration().withSmallestVocabulary,
                dev: nil, test: nil)
        }
        #expect(error.kind == .usage)
        #expect(error.description.contains("--random 1000000000000 needs about"), "\(error)")
    }

    @Test func tooManyLabelsAreBlamedOnTheTrainingFile() throws {
        // 300,000 labels (the word column used as the label): the m × m correlations alone are terabytes.
        let error = try #require(throws: DissectError.self) {
            try ReproducePipeline.requireMemory(
                request: Self.request(seeds: 1, random: 0), configuration: Self.configuration(labels: 300_000), dev: nil, test: nil,
                available: 64 << 30)
        }
        #expect(error.kind == .input && error.file == "train.txt")
        #expect(error.description.contains("reproduce on these files (26000 words, 300000 labels) needs about"), "\(error)")
    }

    /// --all's control models, mean and resample ablations and the statistics' resamples all count.
    @Test func allCountsTheControlModelsValuesAndStatistics() throws {
        let c = Self.configuration()
        let dev = CorpusSizes(tokens: [Int](repeating: 16, count: 3_250), characters: [Int](repeating: 90, count: 3_250))
        let test = CorpusSizes(tokens: [Int](repeating: 14, count: 3_453), characters: [Int](repeating: 80, count: 3_453))
        func estimate(_ change: (inout ReproduceRequest) -> Void) -> Double {
            var request = Self.request(seeds: 4, random: 100)
            change(&request)
            return ReproducePipeline.memoryEstimate(
                request: request, configuration: c, seeds: 4, randomCount: 100, dev: dev, test: test).bytes
        }
        let plain = estimate { _ in }
        #expect(estimate { $0.controlTask = true } > plain)
        #expect(estimate { $0.values = AblationValue.allCases } > plain)
        #expect(estimate { $0.bootstrap = 10_000 } > plain)
        #expect(estimate { $0.bootstrap = 0; $0.permutations = 0; $0.bandResamples = 0 } < plain)
        #expect(plain < Double(1 << 30), "the paper's run fits in 1 GiB")
    }
}
