import Foundation
import Testing
@testable import DissectCorpus

/// Prints how long reading the real files takes. Only a report: timings in
/// debug builds are not meaningful; check the release numbers with
/// `swift test -c release -Xswiftc -enable-testing --filter ReadTiming`.
@Suite struct ReadTimingTests {
    @Test(.enabled(if: TestSupport.sharedFile("data/conll2003/train.txt") != nil, "data not present"))
    func timeReadingRealFiles() throws {
        guard let train = TestSupport.sharedFile("data/conll2003/train.txt"),
              let glove = TestSupport.sharedFile("data/glove/glove.6B.50d.conll2003.txt") else { return }
        let clock = ContinuousClock()
        var corpus: Corpus?
        let corpusTime = try clock.measure { corpus = try CoNLLReader.read(path: train) }
        var embeddings: Embeddings?
        let embeddingsTime = try clock.measure { embeddings = try Embeddings.read(path: glove) }
        print("read \(corpus?.tokenCount ?? 0) tokens in \(corpusTime); "
              + "\(embeddings?.words.count ?? 0) vectors in \(embeddingsTime)")
    }
}
