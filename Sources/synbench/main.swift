import DissectCore
import DissectCorpus
import DissectModel
import Foundation
BLAS.setThreadCount(1)
func t(_ label: String, _ body: () throws -> Void) rethrows { let s = Date(); try body(); print(label, String(format: "%.4f", Date().timeIntervalSince(s))) }
var cp: Checkpoint!
var corpus: Corpus!
var enc: [EncodedSentence] = []
try t("load checkpoint") { cp = try Checkpoint.load(from: "/tmp/run10") }
try t("read corpus") { corpus = try CoNLLReader.read(path: "../shared/data/conll2003/test.txt") }
let encoder = SentenceEncoder(metadata: cp.metadata)
t("encoder init") { _ = SentenceEncoder(metadata: cp.metadata) }
t("encode") { enc = encoder.encode(corpus.sentences) }
let p = Predictor<Float>(configuration: cp.model.configuration)
var pred: [[Int32]] = []
for _ in 0..<3 { t("predict") { pred = p.predict(parameters: cp.model.parameters, sentences: enc) } }
let labels = cp.metadata.vocabulary.labels
var strs: [[String]] = []
t("to strings") { strs = pred.map { $0.map { labels[Int($0)] } } }
t("evaluate") { _ = Evaluator.evaluate(gold: corpus.sentences.map(\.labels), predicted: strs) }
