import DissectCore
import DissectModel
import Foundation
BLAS.setThreadCount(1)
var c = TaggerConfiguration()
c.wordCount = 30000; c.charCount = 80; c.labelCount = 9
var rng = SplitMix64(seed: 1)
let data: [EncodedSentence] = (0..<14041).map { _ in
  let n = 1 + rng.nextIndex(below: 28)
  let words = (0..<n).map { _ in Int32(rng.nextIndex(below: 30000)) }
  let chars = (0..<n).map { _ in (0..<(1+rng.nextIndex(below: 11))).map { _ in Int32(rng.nextIndex(below: 80)) } }
  return EncodedSentence(words: words, characters: chars, labels: (0..<n).map { _ in Int32(rng.nextIndex(below: 9)) })
}
let vectors = (0..<(30000*50)).map { _ in Float(rng.uniform(-0.1, 0.1)) }
let model = TaggerModel<Float>.initialized(configuration: c, wordVectors: vectors, rng: &rng)
let trainer = Trainer(model: model, options: TrainingOptions())
for e in 0..<1 { let r = trainer.runEpoch(e, sentences: data); print("epoch", e, r.seconds, "s", Double(r.sentences)/r.seconds, "sent/s tokens", r.tokens) }
let p = Predictor<Float>(configuration: c)
let t0 = Date(); _ = p.predict(parameters: trainer.model.parameters, sentences: Array(data.prefix(3453))); print("eval", Date().timeIntervalSince(t0))
for cs in [32, 128, 512, 2048] { p.chunkSize = cs; let t1 = Date(); _ = p.predict(parameters: trainer.model.parameters, sentences: Array(data.prefix(3453))); print("eval chunk", cs, Date().timeIntervalSince(t1)) }
let p1 = Predictor<Float>(configuration: c, shardCount: 1)
let t2 = Date(); _ = p1.predict(parameters: trainer.model.parameters, sentences: Array(data.prefix(3453))); print("eval 1 shard", Date().timeIntervalSince(t2))
