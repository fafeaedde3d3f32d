import ArgumentParser
import DissectCore
import DissectCorpus
import Foundation

/// Where the CoNLL files and embeddings come from; shared by every command
/// that reads a corpus.
struct CorpusOptions: ParsableArguments {
    @Option(help: "A directory holding train.txt, valid.txt and test.txt (CoNLL format).")
    var dataDir: String?

    @Option(help: "The training file; overrides --data-dir.")
    var train: String?

    @Option(help: "The development file used to pick the best epoch; overrides --data-dir.")
    var dev: String?

    @Option(help: "The test file, scored after every epoch; overrides --data-dir.")
    var test: String?

    @Option(help: "The 1-based column that holds the label (default: the last column).")
    var tagColumn: Int?

    func validate() throws {
        try OptionChecks.tagColumn(tagColumn)
    }

    /// Resolves the three files: explicit flags, then --data-dir, then
    /// $DISSECT_DATA, data/conll2003 and ../shared/data/conll2003.
    func resolve() throws -> (train: String, dev: String, test: String?) {
        var directory = dataDir
        if directory == nil && train != nil && dev == nil && DataSearch.conllDirectory() == nil {
            throw DissectError(.usage, problem: "--train was given without --dev", fix: "pass --dev FILE (the development file that picks the best epoch)")
        }
        if directory == nil && (train == nil || dev == nil) {
            directory = DataSearch.conllDirectory()
            if directory == nil {
                throw DissectError(
                    .usage, problem: "no CoNLL data found in $DISSECT_DATA, data/conll2003 or ../shared/data/conll2003",
                    fix: "pass --data-dir DIR (with train.txt, valid.txt, test.txt) or --train and --dev; " + DataSources.sentence)
            }
        }
        if let dataDir, !DataSearch.isDirectory(dataDir) {
            throw DissectError(.usage, file: dataDir, problem: "the --data-dir directory does not exist", fix: "pass a directory holding train.txt, valid.txt and test.txt")
        }
        let trainPath = train ?? directory.map { $0 + "/train.txt" } ?? ""
        let devPath = dev ?? directory.map { $0 + "/valid.txt" } ?? ""
        var testPath = test
        if testPath == nil, let directory, FileManager.default.fileExists(atPath: directory + "/test.txt") {
            testPath = directory + "/test.txt"
        }
        return (trainPath, devPath, testPath)
    }
}

enum DataSearch {
    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    static func conllDirectory() -> String? {
        var candidates: [String] = []
        if let environment = ProcessInfo.processInfo.environment["DISSECT_DATA"], !environment.isEmpty {
            candidates.append(environment)
            candidates.append(environment + "/conll2003")
        }
        candidates += ["data/conll2003", "../shared/data/conll2003"]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/train.txt") }
    }

    /// $DISSECT_EMBEDDINGS, then the 50-d GloVe subset under data/ or ../shared/data.
    ///
    /// - Throws: `DissectError` (.usage) when $DISSECT_EMBEDDINGS names a file
    ///   that does not exist: a variable the user set is never passed over in silence.
    static func embeddingsFile() throws -> String? {
        var candidates: [String] = []
        if let environment = ProcessInfo.processInfo.environment["DISSECT_EMBEDDINGS"], !environment.isEmpty {
            guard FileManager.default.fileExists(atPath: environment) else {
                throw DissectError(
                    .usage, file: environment, problem: "$DISSECT_EMBEDDINGS names this embeddings file, which does not exist",
                    fix: "set $DISSECT_EMBEDDINGS to a GloVe or word2vec text file, or unset it")
            }
            return environment
        }
        if let environment = ProcessInfo.processInfo.environment["DISSECT_DATA"], !environment.isEmpty {
            candidates.append(environment + "/glove/glove.6B.50d.conll2003.txt")
        }
        candidates += ["data/glove/glove.6B.50d.conll2003.txt", "../shared/data/glove/glove.6B.50d.conll2003.txt"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
