import DissectCore
import Foundation

/// Where the data comes from and which commands prepare it: the one sentence
/// every missing-data error ends with.
public enum DataSources {
    public static let sentence =
        "CoNLL-2003 comes from https://www.clips.uantwerpen.be/conll2003/ (the Reuters corpus needs a licence) "
        + "and GloVe from https://nlp.stanford.edu/projects/glove/ (glove.6B.zip); "
        + "prepare them with `dissect data glove --from glove.6B.zip --data-dir DIR --out FILE` "
        + "and `dissect data check --data-dir DIR`"
}

/// What `dissect data check` reports about one CoNLL file.
public struct SplitSummary: Sendable, Codable, Equatable {
    public var name: String
    public var path: String
    /// Sentences and tokens, counted without -DOCSTART- lines.
    public var sentences: Int
    public var tokens: Int
    public var docstartLines: Int
    public var labels: [String]
    public var scheme: TagScheme

    public init(name: String, path: String, sentences: Int, tokens: Int, docstartLines: Int, labels: [String], scheme: TagScheme) {
        self.name = name
        self.path = path
        self.sentences = sentences
        self.tokens = tokens
        self.docstartLines = docstartLines
        self.labels = labels
        self.scheme = scheme
    }

    /// Reads the file at `path` and summarises it.
    public static func read(name: String, path: String, tagColumn: Int?) throws -> (SplitSummary, Corpus) {
        let bytes = try FileBytes.read(path: path, what: "CoNLL data")
        let corpus = try CoNLLReader.parse(bytes, path: path, tagColumn: tagColumn)
        let summary = SplitSummary(
            name: name, path: path, sentences: corpus.sentences.count, tokens: corpus.tokenCount,
            docstartLines: DataCheck.documentStartLines(bytes), labels: corpus.labelSet,
            scheme: TagScheme.detect(corpus.sentences.lazy.map(\.labels)))
        return (summary, corpus)
    }
}

/// Coverage of the corpus vocabulary by an embeddings file.
public struct EmbeddingCoverage: Sendable, Codable, Equatable {
    public var path: String
    public var dimension: Int
    public var words: Int
    /// Distinct words of the corpus files, as written.
    public var corpusWords: Int
    public var exact: Int
    /// Not found as written but found lower-cased.
    public var lowercased: Int
    public var missing: Int
    public var missingShare: Double
    /// Up to ten missing words, most frequent first.
    public var missingExamples: [String]

    public static func measure(_ embeddings: Embeddings, path: String, corpora: [Corpus]) -> EmbeddingCoverage {
        var frequency: [String: Int] = [:]
        for corpus in corpora {
            for sentence in corpus.sentences {
                for word in sentence.words { frequency[word, default: 0] += 1 }
            }
        }
        var exact = 0, lowercased = 0
        var missing: [(String, Int)] = []
        for (word, count) in frequency {
            if embeddings.index[word] != nil { exact += 1 }
            else if embeddings.index[word.lowercased()] != nil { lowercased += 1 }
            else { missing.append((word, count)) }
        }
        missing.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return EmbeddingCoverage(
            path: path, dimension: embeddings.dimension, words: embeddings.words.count, corpusWords: frequency.count,
            exact: exact, lowercased: lowercased, missing: missing.count,
            missingShare: frequency.isEmpty ? 0 : Double(missing.count) / Double(frequency.count),
            missingExamples: missing.prefix(10).map(\.0))
    }
}

/// The whole `dissect data check` report.
public struct DataCheckReport: Sendable, Codable, Equatable {
    public var dataDir: String
    public var splits: [SplitSummary]
    /// Whether the three files have the sentence and token counts of the standard CoNLL-2003 English splits.
    public var standardCoNLL2003: Bool
    public var embeddings: EmbeddingCoverage?

    private enum CodingKeys: String, CodingKey {
        case dataDir, splits, standardCoNLL2003 = "standard_conll2003", embeddings
    }
}

public enum DataCheck {
    /// The standard CoNLL-2003 English splits, counted without -DOCSTART- lines
    /// (measured on the shared train.txt, valid.txt and test.txt).
    public static let standardSplits: [(name: String, sentences: Int, tokens: Int)] = [
        ("train.txt", 14_041, 203_621), ("valid.txt", 3_250, 51_362), ("test.txt", 3_453, 46_435),
    ]

    /// The rule: the splits are standard when each of train, valid and test has
    /// exactly the standard sentence and token counts.
    public static func isStandard(_ splits: [SplitSummary]) -> Bool {
        guard splits.count == standardSplits.count else { return false }
        return zip(splits, standardSplits).allSatisfy {
            $0.name == $1.name && $0.sentences == $1.sentences && $0.tokens == $1.tokens
        }
    }

    /// Checks train.txt, valid.txt and test.txt in `directory`, and with
    /// `embeddingsPath` the coverage of their words.
    public static func run(directory: String, tagColumn: Int?, embeddingsPath: String?) throws -> DataCheckReport {
        var splits: [SplitSummary] = []
        var corpora: [Corpus] = []
        for (name, _, _) in standardSplits {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                throw DissectError(
                    .input, file: path, problem: "the split \(name) is missing",
                    fix: "give a --data-dir holding train.txt, valid.txt and test.txt; " + DataSources.sentence)
            }
            let (summary, corpus) = try SplitSummary.read(name: name, path: path, tagColumn: tagColumn)
            splits.append(summary)
            corpora.append(corpus)
        }
        var coverage: EmbeddingCoverage?
        if let embeddingsPath {
            coverage = EmbeddingCoverage.measure(try Embeddings.read(path: embeddingsPath), path: embeddingsPath, corpora: corpora)
        }
        return DataCheckReport(dataDir: directory, splits: splits, standardCoNLL2003: isStandard(splits), embeddings: coverage)
    }

    /// Lines whose first column is -DOCSTART-.
    static func documentStartLines(_ bytes: [UInt8]) -> Int {
        var count = 0
        var index = 0
        let marker = CoNLLReader.documentStart
        while index < bytes.count {
            while index < bytes.count && (bytes[index] == ByteText.space || bytes[index] == ByteText.tab) { index += 1 }
            if index + marker.count <= bytes.count && Array(bytes[index..<(index + marker.count)]) == marker {
                let after = index + marker.count
                if after == bytes.count || ByteText.isBlank(bytes[after]) || bytes[after] == ByteText.newline { count += 1 }
            }
            while index < bytes.count && bytes[index] != ByteText.newline { index += 1 }
            index += 1
        }
        return count
    }

    /// The human-readable report.
    public static func text(_ report: DataCheckReport) -> String {
        var lines: [String] = ["data: \(report.dataDir)"]
        for split in report.splits {
            lines.append("\(split.name): \(split.sentences) sentences, \(split.tokens) tokens, \(split.docstartLines) -DOCSTART- lines")
            lines.append("  labels (\(split.labels.count)): \(split.labels.joined(separator: " "))")
            lines.append("  tag scheme: \(split.scheme.rawValue)")
            switch split.scheme {
            case .iob1:
                lines.append("  IOB1 tags: training expects IOB2 (BIO); fix: dissect data convert --to bio --data \(split.path) --out FILE")
            case .iobes:
                lines.append("  IOBES tags: to train on IOB2 (BIO), run dissect data convert --to bio --data \(split.path) --out FILE")
            case .notBIO:
                lines.append("  the labels are not BIO tags: chunk scores treat each label as its own class")
            case .bio, .outsideOnly: break
            }
        }
        let rule = DataCheck.standardSplits.map { "\($0.name) \($0.sentences)/\($0.tokens)" }.joined(separator: ", ")
        lines.append(report.standardCoNLL2003
            ? "standard CoNLL-2003 English splits: yes (sentences/tokens without -DOCSTART-: \(rule))"
            : "standard CoNLL-2003 English splits: no (those have sentences/tokens without -DOCSTART-: \(rule))")
        if let coverage = report.embeddings {
            lines.append("embeddings: \(coverage.path): \(coverage.words) words of dimension \(coverage.dimension)")
            let share = { (count: Int) in
                coverage.corpusWords == 0 ? "0.0%" : String(format: "%.1f%%", 100 * Double(count) / Double(coverage.corpusWords))
            }
            lines.append("  corpus vocabulary: \(coverage.corpusWords) distinct words")
            lines.append("  exact matches: \(coverage.exact) (\(share(coverage.exact)))")
            lines.append("  matches after lower-casing: \(coverage.lowercased) (\(share(coverage.lowercased)))")
            var missing = "  missing: \(coverage.missing) (\(share(coverage.missing)))"
            if !coverage.missingExamples.isEmpty { missing += ", e.g. " + coverage.missingExamples.joined(separator: " ") }
            lines.append(missing)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Rewrites the tag column of CoNLL text as IOB2 (BIO).
public enum TagConversion {
    /// `bytes` with every IOB1 or IOBES tag in the label column (`tagColumn`,
    /// 1-based, default the last) rewritten by `TagScheme.toBIO`; every other
    /// byte (other columns, separators, blank lines, -DOCSTART- lines, line
    /// ends) is kept. Blank lines and -DOCSTART- lines end a sentence.
    ///
    /// - Throws: the errors of `CoNLLReader.parse` (the file is parsed first).
    public static func toBIO(_ bytes: [UInt8], path: String, tagColumn: Int?) throws -> (bytes: [UInt8], changed: Int) {
        let corpus = try CoNLLReader.parse(bytes, path: path, tagColumn: tagColumn)
        var converted: [[String]] = corpus.sentences.map { TagScheme.toBIO($0.labels) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 16)
        var changed = 0
        var sentence = 0, token = 0, inSentence = false
        var index = 0
        let marker = CoNLLReader.documentStart
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != ByteText.newline { end += 1 }
            // Column ranges of this line.
            var columns: [Range<Int>] = []
            var position = index
            while position < end {
                while position < end && ByteText.isBlank(bytes[position]) { position += 1 }
                if position == end { break }
                let start = position
                while position < end && !ByteText.isBlank(bytes[position]) { position += 1 }
                columns.append(start..<position)
            }
            let isDocStart = !columns.isEmpty && Array(bytes[columns[0]]) == marker
            if columns.isEmpty || isDocStart {
                if inSentence { sentence += 1; token = 0; inSentence = false }
                output.append(contentsOf: bytes[index..<min(end + 1, bytes.count)])
            } else {
                inSentence = true
                let column = columns[(tagColumn ?? columns.count) - 1]
                let newLabel = converted[sentence][token]
                let oldLabel = corpus.sentences[sentence].labels[token]
                output.append(contentsOf: bytes[index..<column.lowerBound])
                if newLabel != oldLabel { changed += 1 }
                output.append(contentsOf: newLabel.utf8)
                output.append(contentsOf: bytes[column.upperBound..<min(end + 1, bytes.count)])
                token += 1
            }
            index = end + 1
        }
        converted.removeAll()
        return (output, changed)
    }
}
