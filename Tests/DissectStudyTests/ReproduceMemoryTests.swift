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
}
