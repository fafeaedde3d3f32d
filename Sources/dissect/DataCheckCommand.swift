import ArgumentParser
import DissectCore
import DissectCorpus
import Foundation

/// `dissect data check`: what is in train.txt, valid.txt and test.txt.
struct DataCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Count the sentences, tokens and labels of the three splits and name their tag scheme.",
        discussion: """
            Reads train.txt, valid.txt and test.txt in --data-dir. Sentences and tokens are counted without -DOCSTART- lines; \
            the splits are the standard CoNLL-2003 English ones when their counts are exactly train 14041/203621, \
            valid 3250/51362 and test 3453/46435 (sentences/tokens). With --embeddings, also the share of the \
            corpus's distinct words found in the embeddings as written, after lower-casing, or not at all.
            """)

    @Option(help: "The directory holding train.txt, valid.txt and test.txt (CoNLL format).")
    var dataDir: String

    @Option(help: "A GloVe or word2vec text file whose coverage of the corpus vocabulary is reported.")
    var embeddings: String?

    @Option(help: "The 1-based column that holds the label (default: the last column).")
    var tagColumn: Int?

    @Flag(help: "Print the report as JSON instead of text.")
    var json = false

    func validate() throws {
        try OptionChecks.tagColumn(tagColumn)
    }

    func run() throws {
        guard DataSearch.isDirectory(dataDir) else {
            throw DissectError(.input, file: dataDir, problem: "the --data-dir directory does not exist", fix: DataSources.sentence)
        }
        let report = try DataCheck.run(directory: dataDir, tagColumn: tagColumn, embeddingsPath: embeddings)
        if json {
            FileHandle.standardOutput.write(try JSONOutput.encode(report, snakeCaseKeys: true))
        } else {
            FileHandle.standardOutput.write(Data(DataCheck.text(report).utf8))
        }
    }
}
