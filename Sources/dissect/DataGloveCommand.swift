import ArgumentParser
import DissectCore
import DissectCorpus
import Foundation

/// `dissect data glove`: the corpus-restricted GloVe subset training reads.
struct DataGloveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glove",
        abstract: "Write the GloVe vectors the corpus needs, for training to read.",
        discussion: """
            Keeps, byte for byte, each GloVe line whose word some corpus word (of train.txt, valid.txt and test.txt) \
            reaches under training's lookup: as written, lower-cased, with digits as 0, or both. Every vector a corpus \
            token can get in training is then the same as with the full file. From a zip archive the member \
            glove.6B.<dimension>d.txt is read with unzip.
            """)

    @Option(help: "The glove.6B.zip archive or a GloVe text file such as glove.6B.50d.txt.")
    var from: String

    @Option(help: "The vector size: picks the zip member glove.6B.<N>d.txt (default 50) and is checked against a text file.")
    var dimension: Int?

    @Option(help: "The directory holding train.txt, valid.txt and test.txt (CoNLL format).")
    var dataDir: String

    @Option(help: "The file that receives the subset.")
    var out: String

    @Option(help: "The 1-based column that holds the label (default: the last column).")
    var tagColumn: Int?

    func validate() throws {
        if let dimension, dimension < 1 {
            throw ValidationError("--dimension must be 1 or more (GloVe 6B comes in 50, 100, 200 and 300).")
        }
        try OptionChecks.tagColumn(tagColumn)
        try OptionChecks.distinctFiles(
            input: from, output: out, message: "--out must differ from --from: the subset never overwrites the GloVe file it reads.")
    }

    func run() throws {
        guard DataSearch.isDirectory(dataDir) else {
            throw DissectError(.input, file: dataDir, problem: "the --data-dir directory does not exist", fix: DataSources.sentence)
        }
        var corpora: [Corpus] = []
        for name in ["train.txt", "valid.txt", "test.txt"] {
            let path = dataDir + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                throw DissectError(.input, file: path, problem: "the split \(name) is missing", fix: DataSources.sentence)
            }
            corpora.append(try CoNLLReader.read(path: path, tagColumn: tagColumn))
        }
        let needed = GloveSubset.neededWords(corpora)
        let filter: GloveSubset.Filter
        if from.lowercased().hasSuffix(".zip") {
            filter = try GloveSubset.subset(zip: from, member: "glove.6B.\(dimension ?? 50)d.txt", needed: needed, dimension: dimension ?? 50)
        } else {
            guard FileManager.default.fileExists(atPath: from) else {
                throw DissectError(.input, file: from, problem: "the GloVe file does not exist", fix: "check the --from path; " + DataSources.sentence)
            }
            filter = try GloveSubset.subset(textFile: from, needed: needed, dimension: dimension)
        }
        try AtomicFile.write(Data(filter.output), to: out)
        print("\(out): \(filter.keptLines) of \(filter.readLines) vectors (dimension \(filter.dimension ?? 0)) kept for \(needed.count) lookup forms")
    }
}
