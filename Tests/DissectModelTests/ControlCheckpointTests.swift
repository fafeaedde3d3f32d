import DissectCore
import DissectCorpus
import Foundation
import Testing
@testable import DissectModel

/// `training.control_task` in model.json: checked at load, one line naming
/// the file; rebuilt into the `ControlTask` that gives an analysis the gold
/// labels the model was trained against.
@Suite struct ControlCheckpointTests {
    static let path = CheckpointValidationTests.path

    /// The validation fixture (labels O, B-PER, I-PER) as a control model of seed 4.
    static func control(_ counts: [String: Int] = ["O": 6, "B-PER": 3, "I-PER": 1]) -> (inout CheckpointMetadata) -> Void {
        { $0.training?.controlTask = ControlTaskRecord(seed: 4, labelCounts: counts) }
    }

    static func corpus() -> Corpus {
        Corpus(path: "dev.conll", sentences: [
            Sentence(words: ["John", "met", "Mary", "in", "1996"], labels: ["B-PER", "O", "B-PER", "O", "O"], line: 1),
            Sentence(words: ["Mary", "left", "2001"], labels: ["B-PER", "O", "O"], line: 7),
        ])
    }

    @Test func aControlRecordIsAcceptedAndRebuiltInVocabularyOrder() throws {
        #expect(try CheckpointValidationTests.error(Self.control()) == nil)
        var metadata = CheckpointValidationTests.metadata()
        Self.control()(&metadata)
        let decoded = try Checkpoint.decodeMetadata(try Checkpoint.encodeJSON(metadata), path: Self.path)
        #expect(decoded.training?.controlTask == ControlTaskRecord(seed: 4, labelCounts: ["O": 6, "B-PER": 3, "I-PER": 1]))
        let task = try #require(try decoded.controlTask())
        #expect(task == (try ControlTask(seed: 4, labels: ["O", "B-PER", "I-PER"], counts: [6, 3, 1], digitsToZero: true)))
        // The JSON field as documented.
        let json = try #require(try JSONSerialization.jsonObject(with: Checkpoint.encodeJSON(metadata)) as? [String: Any])
        let record = try #require((json["training"] as? [String: Any])?["control_task"] as? [String: Any])
        #expect(record["seed"] as? Int == 4)
        #expect(record["label_counts"] as? [String: Int] == ["O": 6, "B-PER": 3, "I-PER": 1])
    }

    @Test func aRealModelHasNoControlTaskAndKeepsItsGoldLabels() throws {
        let metadata = CheckpointValidationTests.metadata()
        #expect(try metadata.controlTask() == nil)
        let corpus = Self.corpus()
        #expect(try metadata.analysisCorpus(corpus).sentences == corpus.sentences)
        let json = String(decoding: try Checkpoint.encodeJSON(metadata), as: UTF8.self)
        #expect(!json.contains("control_task"), "a real model's record has no control_task")
    }

    @Test func aControlModelReadsItsControlLabels() throws {
        var metadata = CheckpointValidationTests.metadata()
        Self.control()(&metadata)
        let corpus = Self.corpus()
        let analysed = try metadata.analysisCorpus(corpus)
        let task = try ControlTask(seed: 4, labels: ["O", "B-PER", "I-PER"], counts: [6, 3, 1], digitsToZero: true)
        #expect(analysed.sentences == task.relabel(corpus).sentences)
        #expect(analysed.sentences.map(\.words) == corpus.sentences.map(\.words))
        // Digits normalised as the model does: 1996 and 2001 are one type.
        #expect(analysed.sentences[0].labels[4] == analysed.sentences[1].labels[2])
        #expect(analysed.sentences[0].labels[2] == analysed.sentences[1].labels[0], "Mary has one label")
        // Over many types the relabelling is not the identity (B-PER and I-PER have 40 % of the mass).
        let many = Corpus(path: "many", sentences: [Sentence(
            words: (0..<50).map { "w" + String(repeating: "x", count: $0) }, labels: [String](repeating: "O", count: 50), line: 1)])
        #expect(try metadata.analysisCorpus(many).sentences[0].labels.contains { $0 != "O" })
        // Checkpoint forwards to its metadata.
        let checkpoint = Checkpoint(metadata: metadata, model: TaggerModel<Float>(configuration: metadata.configuration))
        #expect(try checkpoint.analysisCorpus(corpus).sentences == analysed.sentences)
    }

    @Test func aCorruptControlRecordIsOneLineNamingModelJSON() throws {
        let fix = "dissect train --control-task"
        CheckpointValidationTests.expect(
            try CheckpointValidationTests.error(Self.control(["O": 6, "B-PER": 3])),
            #"training.control_task.label_counts has no count for the label "I-PER""#, fix: fix)
        CheckpointValidationTests.expect(
            try CheckpointValidationTests.error(Self.control(["O": 6, "B-PER": 3, "I-PER": 1, "B-ORG": 2])),
            #"training.control_task.label_counts names "B-ORG", which is not in vocabulary.labels"#, fix: fix)
        CheckpointValidationTests.expect(
            try CheckpointValidationTests.error(Self.control(["O": 6, "B-PER": -3, "I-PER": 1])),
            "training.control_task.label_counts cannot be drawn from: the count of B-PER is -3, below 0", fix: fix)
        CheckpointValidationTests.expect(
            try CheckpointValidationTests.error(Self.control(["O": 0, "B-PER": 0, "I-PER": 0])),
            "training.control_task.label_counts cannot be drawn from: the label counts sum to 0", fix: fix)
        CheckpointValidationTests.expect(
            try CheckpointValidationTests.error(Self.control(["O": Int.max, "B-PER": 1, "I-PER": 0])),
            "training.control_task.label_counts cannot be drawn from: the label counts sum to more than \(Int.max)", fix: fix)
    }

    /// Hand-written JSON: a count that is not an integer, or a seed below 0, does not decode.
    @Test(arguments: [#""label_counts": {"O": 1.5, "B-PER": 1, "I-PER": 1}"#, #""label_counts": {"O": 1e30, "B-PER": 1, "I-PER": 1}"#,
                      #""label_counts": [1, 2, 3]"#])
    func undecodableCountsAreOneLine(field: String) throws {
        func edited(_ field: String) throws -> Data {
            var text = String(decoding: try Checkpoint.encodeJSON(CheckpointValidationTests.metadata()), as: UTF8.self)
            let anchor = try #require(text.range(of: #""training" : {"#))
            text.insert(contentsOf: #" "control_task": {"seed": 1, \#(field)},"#, at: anchor.upperBound)
            return Data(text.utf8)
        }
        // The same edit with good counts decodes, so the error below is the field's.
        let good = try Checkpoint.decodeMetadata(try edited(#""label_counts": {"O": 1, "B-PER": 1, "I-PER": 2}"#), path: Self.path)
        #expect(good.training?.controlTask == ControlTaskRecord(seed: 1, labelCounts: ["O": 1, "B-PER": 1, "I-PER": 2]))
        let text = String(decoding: try edited(field), as: UTF8.self)
        let error = try #require(throws: DissectError.self) { try Checkpoint.decodeMetadata(Data(text.utf8), path: Self.path) }
        #expect(error.description.hasPrefix("\(Self.path): model.json is not a valid checkpoint description ("), "\(error)")
        #expect(!error.description.contains("\n"))
    }
}
