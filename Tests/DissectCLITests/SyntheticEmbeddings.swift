import Foundation

/// A small word-vector file for the synthetic corpus, for commands that need
/// one (`reproduce` stops without an embeddings file).
enum SyntheticEmbeddings {
    /// The file name `Sandbox.writeEmbeddings()` uses, in the sandbox's working directory.
    static let fileName = "vectors.txt"

    /// Every word of the synthetic corpus (lower-cased, as GloVe is), one
    /// deterministic `dimension`-wide vector each, in GloVe's text format.
    static func text(dimension: Int = 10, seed: UInt64 = 7) -> String {
        var words: [String] = []
        let names = SyntheticCoNLL.persons + SyntheticCoNLL.locations + SyntheticCoNLL.organizations
            + SyntheticCoNLL.unseenPersons + SyntheticCoNLL.unseenLocations + SyntheticCoNLL.unseenOrganizations
        for word in names.flatMap({ $0 }) + SyntheticCoNLL.fillers.map(\.word) where !words.contains(word.lowercased()) {
            words.append(word.lowercased())
        }
        var rng = TestRNG(seed: seed)
        return words.map { word in
            word + (0..<dimension).map { _ in " " + String(format: "%.4f", rng.unit() - 0.5) }.joined() + "\n"
        }.joined()
    }

    /// The path `Sandbox.writeEmbeddings()` writes to, next to the corpus files of `files`.
    static func path(besides file: String) -> String {
        (file as NSString).deletingLastPathComponent + "/" + fileName
    }
}

extension Sandbox {
    /// Writes `SyntheticEmbeddings.text()` to `vectors.txt` in the working directory; returns its path.
    @discardableResult
    func writeEmbeddings(dimension: Int = 10, seed: UInt64 = 7) throws -> String {
        try write(SyntheticEmbeddings.fileName, SyntheticEmbeddings.text(dimension: dimension, seed: seed))
    }
}
