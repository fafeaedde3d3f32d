import DissectModel
import Foundation
import Testing

/// A uni-LSTM 3 tagger whose weights are set by hand (no char CNN, 2-d word vectors):
/// - neuron 0 fires on capitalised words: its word vector's first entry is 1 for a capitalised
///   word, and the neuron's g row reads it (g = tanh(10·x₀ − 5)), with i and o open and f shut,
///   so h₀ = σ(10)·tanh(σ(10)·tanh(±5)) ≈ ±0.76 on every token, whatever came before;
/// - neuron 1 fires on "The" alone (the second entry; g = tanh(10·x₁)): h₁ ≈ 0.76 there, 0 elsewhere;
/// - neuron 2 reads nothing: h₂ = 0.
/// The output predicts B-PER from 5·h₀ − 10·h₁: every capitalised word but "The".
enum PlantedModel {
    static let names = ["Anna", "Bob", "Carl", "Dora", "Emil", "Fay", "Gus", "Hanna"]
    static let verbs = ["runs", "sings", "reads", "swims"]
    static let adverbs = ["well", "today", "here", "often"]
    static let words = ["<unk>", "The", "."] + names + verbs + adverbs

    static func write(to directory: String) throws {
        var c = TaggerConfiguration()
        c.charCNN = false
        c.hiddenSize = 3
        c.wordEmbeddingDim = 2
        c.wordCount = words.count
        c.charCount = 2
        c.labelCount = 2
        var model = TaggerModel<Float>(configuration: c)
        func set(_ name: String, _ index: Int, _ value: Float) throws {
            guard let entry = model.layout.entry(name) else { throw CLITestError("no tensor \(name)") }
            model.parameters[entry.offset + index] = value
        }
        for (index, word) in words.enumerated() {
            if let first = word.first, first.isUppercase { try set("word_embedding.weight", index * 2, 1) }
            if word == "The" { try set("word_embedding.weight", index * 2 + 1, 1) }
        }
        let H = 3
        for unit in 0..<H {
            try set("lstm.bias_ih_l0", 0 * H + unit, 10)    // i open
            try set("lstm.bias_ih_l0", 1 * H + unit, -10)   // f shut
            try set("lstm.bias_ih_l0", 3 * H + unit, 10)    // o open
        }
        // g rows: weight_ih is [4H, D], row-major.
        try set("lstm.weight_ih_l0", (2 * H + 0) * 2 + 0, 10)
        try set("lstm.bias_ih_l0", 2 * H + 0, -5)
        try set("lstm.weight_ih_l0", (2 * H + 1) * 2 + 1, 10)
        // hidden2tag.weight [m, n]: B-PER (label 0) = 5·h₀ − 10·h₁; O = 0.
        try set("hidden2tag.weight", 0, 5)
        try set("hidden2tag.weight", 1, -10)
        let metadata = CheckpointMetadata(
            configuration: c,
            vocabulary: VocabularyLists(words: words, chars: ["<unk>", "a"], labels: ["B-PER", "O"]),
            unknownWordIndex: 0, unknownCharIndex: 0, digitsToZero: true, training: nil)
        try Checkpoint(metadata: metadata, model: model).save(to: directory)
    }

    /// 24 sentences: "The Name verb adverb ." and "Name verb Name adverb .", word label per line.
    static func corpus() -> String {
        var text = ""
        for index in 0..<24 {
            let name = names[index % names.count], other = names[(index + 3) % names.count]
            let verb = verbs[index % verbs.count], adverb = adverbs[(index / 2) % adverbs.count]
            let tokens = index % 2 == 0
                ? [("The", "O"), (name, "B-PER"), (verb, "O"), (adverb, "O"), (".", "O")]
                : [(name, "B-PER"), (verb, "O"), (other, "B-PER"), (adverb, "O"), (".", "O")]
            text += tokens.map { "\($0.0) \($0.1)\n" }.joined() + "\n"
        }
        return text
    }
}

@Suite struct ConceptsCommandTests {
    /// The property planted in neuron 0 is found: its best description is "capitalised = yes" with
    /// AUC 1, B-PER's top neuron is neuron 0, and none of its B-PER sensitivity is left once
    /// capitalisation is held fixed (within the capitalised words, B-PER and "The" have the same h₀).
    @Test func findsThePlantedProperty() async throws {
        let sandbox = try Sandbox()
        let model = sandbox.path("planted")
        try PlantedModel.write(to: model)
        let data = try sandbox.write("planted.txt", PlantedModel.corpus())
        let out = sandbox.path("concepts")
        let result = try await sandbox.run([
            "concepts", "--model", model, "--data", data, "--out", out, "--train", data, "--bootstrap", "200", "--top", "2",
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(result.stdout.contains("B-PER    top neuron 0: best described by capitalised = yes (AUC 1.00"), "\(result)")
        let document = try Files.json(out + "/concepts.json")
        let top = try #require(document["top_neurons"] as? [[String: Any]])
        let first = try #require(top.first { ($0["label"] as? String) == "B-PER" && ($0["rank"] as? Int) == 1 })
        #expect(first["neuron"] as? Int == 0)
        let best = try #require(first["best"] as? [String: Any])
        #expect(best["property"] as? String == "capitalised" && best["value"] as? String == "yes")
        #expect(abs((best["auc"] as? Double ?? 0) - 1) < 1e-12)
        // d = E[h₀ | capitalised] − E[h₀ | not] = 0.76 − (−0.76).
        let h = 1 / (1 + exp(-10.0)) * tanh(1 / (1 + exp(-10.0)) * tanh(5.0))
        #expect(abs((best["difference"] as? Double ?? 0) - 2 * h) < 1e-5)
        #expect(abs(first["within"] as? Double ?? 1) < 1e-5)
        #expect(abs(first["remaining"] as? Double ?? 1) < 1e-5)
        #expect(first["label_is_best"] as? Bool == false)
        // The interval of the planted cell is the constant difference itself (every resample has it).
        let properties = try #require(document["properties"] as? [[String: Any]])
        let capitalised = try #require(properties.first { ($0["name"] as? String) == "capitalised" })
        let lower = try #require(capitalised["lower"] as? [[Double]]), upper = try #require(capitalised["upper"] as? [[Double]])
        #expect(abs(lower[0][0] - 2 * h) < 1e-5 && abs(upper[0][0] - 2 * h) < 1e-5)
        // Neuron 2 carries nothing: AUC ½ for every value.
        let auc = try #require(capitalised["auc"] as? [[Double]])
        #expect(auc[2] == [0.5, 0.5])
        for name in ["concepts.json", "concepts.md", "concept-cells.csv", "concept-top.csv", "concept-shared.csv"] {
            #expect(Files.exists(out + "/" + name), "\(name) missing")
        }
        let cells = try Files.text(out + "/concept-cells.csv")
        #expect(cells.hasPrefix("neuron,property,value,tokens,difference,lower,upper,auc\n"))
        #expect(cells.contains("\n0,capitalised,yes,48,"))
    }

    /// A four-column file gets POS and chunk as properties; a trained model's report names them.
    @Test func conll2003ColumnsAreProperties() async throws {
        let trained = try await SharedModel.shared.get()
        let out = trained.sandbox.path("concepts-\(UUID().uuidString)")
        let result = try await trained.sandbox.run([
            "concepts", "--model", trained.out, "--data", trained.files.dev, "--out", out, "--bootstrap", "20",
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("properties: capitalised, all caps, has digit, punctuation, previous capitalised, entity position, entity length, sentence position, training frequency, unknown word, pos, chunk;"), "\(result)")
        let markdown = try Files.text(out + "/concepts.md")
        #expect(markdown.contains("| pos ") && markdown.contains("column 2"))
    }

    @Test(arguments: [
        (["--property-column", "1=word"], "error: The value '1=word' is invalid for '--property-column"),
        (["--property-column", "2"], "error: The value '2' is invalid for '--property-column"),
        (["--property-column", "2=capitalised"], "--property-column capitalised is the name of a computed property"),
        (["--property-column", "2=a", "--property-column", "3=a"], "--property-column names a twice"),
        (["--top", "0"], "--top must be 1 or more"),
        (["--bootstrap", "-1"], "--bootstrap must be 0 to 100000"),
    ])
    func badFlagsAreUsageErrors(flags: [String], message: String) async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["concepts", "--model", "m", "--data", "d", "--out", "o"] + flags)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test func flagsCheckedAgainstTheModelAndFile() async throws {
        let sandbox = try Sandbox()
        let model = sandbox.path("planted")
        try PlantedModel.write(to: model)
        let data = try sandbox.write("planted.txt", PlantedModel.corpus())
        for (flags, message) in [
            (["--top", "4"], "planted: --top 4 asks for more neurons than the layer has (3); pass --top 1 to 3"),
            (["--property-column", "3=pos"], "planted.txt: --property-column 3=pos names a column the file does not have (its token lines have 2); pass a column from 2 to 2"),
            (["--property-column", "2=tags"], "planted.txt: --property-column 2=tags is the label column"),
        ] {
            let out = sandbox.path("out-\(UUID().uuidString)")
            let result = try await sandbox.run(["concepts", "--model", model, "--data", data, "--out", out, "--train", data] + flags)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
            #expect(!Files.exists(out), "nothing is written on a usage error")
        }
        // Without --train, and no training file recorded: the frequency property is left out, with a warning.
        let out = sandbox.path("no-train")
        let result = try await sandbox.run(["concepts", "--model", model, "--data", data, "--out", out, "--bootstrap", "0"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("the training frequency property is left out; pass --train FILE"), "\(result)")
        #expect(!result.stdout.contains("training frequency"))
    }
}
