import Foundation
import Testing

/// The taggers people train: stacked layers, GRU/RNN cells and a CRF output,
/// end to end through the built binary — training, model.json format 2, the
/// tensor names, evaluation by Viterbi, and `--layer` in every analysis.
@Suite("stacked, RNN and CRF models")
struct StackedModelTests {
    /// A 2-layer bidirectional model with a CRF, trained once for the tests that read it.
    enum Shared {
        static let shared = TrainedOnce("stacked-crf") { files, out in
            ["train", "--train", files.train, "--dev", files.dev, "--test", files.test] + fastTrainingFlags
                + ["--layers", "2", "--bidirectional", "--crf", "--layer-dropout", "0.2", "--epochs", "4", "--out", out]
        }
    }

    @Test("a 2-layer BiLSTM-CRF trains, learns the task, and model.json (format 2) records every size")
    func stackedCRFTrains() async throws {
        let trained = try await Shared.shared.get()
        let model = try Files.json(trained.out + "/model.json")
        #expect(model["format_version"] as? Int == 2)
        let configuration = try #require(model["configuration"] as? [String: Any])
        #expect(configuration["layers"] as? Int == 2)
        #expect(configuration["crf"] as? Bool == true)
        #expect(configuration["layer_dropout"] as? Double == 0.2)
        #expect(configuration["hidden_size"] as? Int == 8, "--hidden is per direction")
        #expect(configuration["output_size"] as? Int == 16)
        #expect(configuration["input_size"] as? Int == 100, "50 word dimensions + 50 char filters")
        let record = try #require(model["training"] as? [String: Any])
        let devF1 = try #require(record["dev_f1"] as? Double)
        #expect(devF1 >= TrainTests.requiredDevF1, "dev F1 \(devF1)")

        let header = try safetensorsNames(trained.out + "/model.safetensors")
        for name in ["lstm.weight_ih_l0", "lstm.weight_hh_l1", "lstm.bias_ih_l1_reverse", "lstm.bias_hh_l0_reverse", "crf.transitions"] {
            #expect(header.contains(name), "\(name) in \(header.sorted())")
        }
        #expect(!header.contains { $0.hasSuffix("_l2") })
    }

    @Test("evaluate decodes a CRF with Viterbi: with every transition into B-PER forbidden, no token is tagged B-PER")
    func evaluateUsesViterbi() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        let predictions = sandbox.path("crf-predictions.txt")
        let plain = try await sandbox.run(["evaluate", "--model", trained.out, "--data", trained.files.test, "--predictions", predictions])
        #expect(plain.status == 0, "\(plain)")
        #expect(try Files.text(predictions).contains(" B-PER\n"), "the trained model tags persons")

        // The same weights with trans[i, B-PER] = −10000 for every i (START included):
        // the emissions still favour B-PER on person names, so only Viterbi avoids it.
        let edited = sandbox.path("no-b-per")
        try Files.copyDirectory(trained.out, to: edited)
        let model = try Files.json(edited + "/model.json")
        let labels = try #require((model["vocabulary"] as? [String: Any])?["labels"] as? [String])
        let target = try #require(labels.firstIndex(of: "B-PER"))
        let width = labels.count + 2
        try patchTensor(edited + "/model.safetensors", name: "crf.transitions") { values in
            for from in 0..<width { values[from * width + target] = -10000 }
        }
        let forbidden = sandbox.path("no-b-per-predictions.txt")
        let result = try await sandbox.run(["evaluate", "--model", edited, "--data", trained.files.test, "--predictions", forbidden])
        #expect(result.status == 0, "\(result)")
        let text = try Files.text(forbidden)
        #expect(!text.contains(" B-PER\n"), "a forbidden label was predicted")
        #expect(text.split(separator: "\n").count == (try Files.text(predictions)).split(separator: "\n").count)
    }

    @Test("--layer: the lower layer's sensitivity is the activation difference, named as such; --layer 3 of 2 is a usage error")
    func layerOption() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        let lower = sandbox.path("sensitivity-layer1"), top = sandbox.path("sensitivity-top")
        let lowerRun = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--layer", "1", "--out", lower])
        #expect(lowerRun.status == 0, "\(lowerRun)")
        let topRun = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--out", top])
        #expect(topRun.status == 0, "\(topRun)")
        let lowerDocument = try Files.json(lower + "/sensitivity.json"), topDocument = try Files.json(top + "/sensitivity.json")
        #expect(lowerDocument["layer"] as? Int == 1)
        #expect(lowerDocument["measure"] as? String == "activation_difference")
        #expect(topDocument["layer"] as? Int == 2)
        #expect(topDocument["measure"] as? String == "contribution")
        #expect(lowerDocument["decoding"] as? String == "viterbi" && topDocument["decoding"] as? String == "viterbi",
                "a CRF's sensitivity is conditioned on its Viterbi paths, and says so")
        #expect(lowerDocument["neurons"] as? Int == 16 && topDocument["neurons"] as? Int == 16)
        let lowerValues = try #require(lowerDocument["sensitivity"] as? [[Any]])
        let topValues = try #require(topDocument["sensitivity"] as? [[Any]])
        #expect("\(lowerValues)" != "\(topValues)", "the two layers give different matrices")

        let tooHigh = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--layer", "3", "--out", sandbox.path("x")])
        #expect(tooHigh.status == 2, "\(tooHigh)")
        #expect(tooHigh.stderr.contains("--layer 3") && tooHigh.stderr.contains("it has 2"), "\(tooHigh.stderr)")
        #expect(!Files.exists(sandbox.path("x")), "nothing written")
        let zero = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--layer", "0", "--out", sandbox.path("y")])
        #expect(zero.status == 2 && zero.stderr.contains("--layer"), "\(zero)")
    }

    @Test("prune --layer 1 of a 2-layer BiLSTM-CRF: layers of different widths, recorded, fine-tuned, and read by every analysis")
    func pruneTheLowerLayer() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("pruned-lower")
        let result = try await sandbox.run([
            "prune", "--model", trained.out, "--layer", "1", "--keep", "5", "--by", "sensitivity", "--rank-on", trained.files.dev,
            "--fine-tune", "1", "--out", out,
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("removed 6 of 16 units of layer 1 (sensitivity): hidden 8 → 5 per direction"), "\(result)")
        let model = try Files.json(out + "/model.json")
        let configuration = try #require(model["configuration"] as? [String: Any])
        #expect(configuration["layer_hidden_sizes"] as? [Int] == [5, 8], "\(configuration)")
        #expect(configuration["hidden_size"] as? Int == 8 && configuration["output_size"] as? Int == 16)
        let pruning = try #require(model["pruning"] as? [String: Any])
        #expect(pruning["layer"] as? Int == 1 && (pruning["kept"] as? [Int])?.count == 10)
        // The layer above reads 10 columns now: weight_ih_l1 is [4·8, 10].
        #expect(try safetensorsShape(out + "/model.safetensors", "lstm.weight_ih_l1") == [32, 10])
        #expect(try safetensorsShape(out + "/model.safetensors", "lstm.weight_hh_l0_reverse") == [20, 5])
        let evaluation = try await sandbox.run(["evaluate", "--model", out, "--data", trained.files.test])
        #expect(evaluation.status == 0, "\(evaluation)")
        for (layer, neurons) in [("1", 10), ("2", 16)] {
            let folder = sandbox.path("pruned-sensitivity-\(layer)")
            let run = try await sandbox.run(["sensitivity", "--model", out, "--data", trained.files.dev, "--layer", layer, "--out", folder])
            #expect(run.status == 0, "\(run)")
            #expect(try Files.json(folder + "/sensitivity.json")["neurons"] as? Int == neurons, "layer \(layer)")
        }
        let ablation = try await sandbox.run([
            "ablate", "--model", out, "--data", trained.files.test, "--rank-on", trained.files.dev, "--layer", "1", "--steps", "3",
            "--random", "2", "--out", sandbox.path("pruned-ablation"),
        ])
        #expect(ablation.status == 0, "\(ablation)")
        // The top layer pruned in turn: uniform again, so model.json has no layer_hidden_sizes.
        let even = sandbox.path("pruned-even")
        let again = try await sandbox.run(["prune", "--model", out, "--remove", "0,1,2,8,9,10", "--out", even])
        #expect(again.status == 0, "\(again)")
        let evenConfiguration = try #require(try Files.json(even + "/model.json")["configuration"] as? [String: Any])
        #expect(evenConfiguration["layer_hidden_sizes"] == nil && evenConfiguration["hidden_size"] as? Int == 5, "\(evenConfiguration)")
    }

    @Test("sizes of a 2-layer BiLSTM-CRF: every layer cut to each size; a model whose layers differ is a usage error")
    func sizesOfAStackedModel() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("stacked-sizes")
        let result = try await sandbox.run(["sizes", "--model", trained.out, "--sizes", "4", "--fine-tune", "0", "--out", out], timeout: 300)
        #expect(result.status == 0, "\(result)")
        let document = try Files.json(out + "/sizes.json")
        let points = try #require(document["points"] as? [[String: Any]])
        #expect(points.count == 4 && points.allSatisfy { $0["hidden"] as? Int == 4 }, "\(points)")
        #expect(document["full_hidden"] as? Int == 8)
        // The random route is `prune --by random` of layer 1 with --seed 1, then of layer 2 with --seed 2: the same test F1.
        let random = try #require(points.first { $0["route"] as? String == "random" }?["test_f1"] as? Double)
        let first = sandbox.path("stacked-sizes-random-1"), second = sandbox.path("stacked-sizes-random-2")
        for (layer, seed, from, to) in [("1", "1", trained.out, first), ("2", "2", first, second)] {
            let step = try await sandbox.run(["prune", "--model", from, "--layer", layer, "--keep", "4", "--by", "random", "--seed", seed, "--out", to])
            #expect(step.status == 0, "\(step)")
        }
        let evaluation = try await sandbox.run(["evaluate", "--model", second, "--data", trained.files.test, "--json"])
        let report = try #require((try JSONSerialization.jsonObject(with: Data(evaluation.stdout.utf8)) as? [String: Any])?["report"] as? [String: Any])
        #expect(abs((report["f1"] as? Double ?? -1) - random) < 1e-9, "sizes \(random), prune chain \(report["f1"] ?? "")")
        // A model pruned below its top has no one width to shrink.
        let pruned = sandbox.path("stacked-sizes-pruned")
        let prune = try await sandbox.run(["prune", "--model", trained.out, "--layer", "1", "--remove", "0,8", "--out", pruned])
        #expect(prune.status == 0, "\(prune)")
        let refused = try await sandbox.run(["sizes", "--model", pruned, "--sizes", "4", "--out", sandbox.path("refused")])
        #expect(refused.status == 2 && refused.stderr.contains("layers differ in width (7, 8)"), "\(refused)")
        #expect(!Files.exists(sandbox.path("refused")))
    }

    @Test("ablate --layer 1: recurrent by default (it reaches the top layer), and --mode readout there is a usage error")
    func lowerLayerAblation() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("ablate-layer1")
        let result = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test, "--layer", "1",
             "--labels", "B-PER", "--steps", "16", "--random", "2", "--out", out])
        #expect(result.status == 0, "\(result)")
        let document = try Files.json(out + "/ablation.json")
        #expect(document["mode"] as? String == "recurrent")
        #expect(document["layer"] as? Int == 1)
        #expect(document["measure"] as? String == "activation_difference")
        #expect(document["decoding"] as? String == "viterbi")
        let curves = try #require(document["curves"] as? [String: Any])
        let curve = try #require(curves["B-PER"] as? [String: Any])
        let accuracy = try #require((curve["accuracy"] as? [String: Any])?["all"] as? [Double])
        #expect(accuracy.count == 17)
        #expect(accuracy.first != accuracy.last, "zeroing every lower-layer neuron changes the top layer's predictions")

        let readout = try await sandbox.run(
            ["ablate", "--model", trained.out, "--rank-on", trained.files.dev, "--data", trained.files.test, "--layer", "1",
             "--mode", "readout", "--out", sandbox.path("readout")])
        #expect(readout.status == 2, "\(readout)")
        #expect(readout.stderr.contains("--mode readout") && readout.stderr.contains("layer 1 of 2"), "\(readout.stderr)")
        #expect(!Files.exists(sandbox.path("readout")))
    }

    @Test("explore reads a CRF model on either layer: Viterbi decoding, emission weights on top, activation differences below")
    func exploreEitherLayer() async throws {
        let trained = try await Shared.shared.get()
        let sandbox = trained.sandbox
        for layer in ["1", "2"] {
            let out = sandbox.path("explore-layer-\(layer)-\(UUID().uuidString)")
            let result = try await sandbox.run(["explore", "--model", trained.out, "--data", trained.files.dev, "--layer", layer, "--out", out])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("explorer for 16 neurons"), "\(result.stdout)")
            let html = try Files.text(out + "/explorer.html")
            #expect(html.contains("\"decoding\":\"viterbi\""))
            #expect(html.contains("\"layer\":\(layer)"))
            // The top layer has output (emission) weights for the contribution colouring; the first has none.
            #expect(html.contains("\"measure\":\"\(layer == "2" ? "contribution" : "activation_difference")\""), "layer \(layer)")
            #expect(html.contains("\"outputWeight\":") == (layer == "2"), "layer \(layer)")
        }
    }

    @Test("--cell rnn and --cell gru name their tensors after the cell; a bad --cell lists the three")
    func cellsNameTheirTensors() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        for cell in ["rnn", "gru"] {
            let out = sandbox.path(cell)
            let result = try await sandbox.run(
                ["train", "--train", files.train, "--dev", files.dev] + fastTrainingFlags + ["--cell", cell, "--epochs", "1", "--out", out])
            #expect(result.status == 0, "\(result)")
            let names = try safetensorsNames(out + "/model.safetensors")
            #expect(names.contains("\(cell).weight_ih_l0") && !names.contains { $0.hasPrefix("lstm.") }, "\(names.sorted())")
            let evaluated = try await sandbox.run(["evaluate", "--model", out, "--data", files.dev])
            #expect(evaluated.status == 0, "\(evaluated)")
        }
        let bad = try await sandbox.run(["train", "--train", files.train, "--dev", files.dev, "--cell", "transformer"])
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.stderr.contains("lstm") && bad.stderr.contains("gru") && bad.stderr.contains("rnn"), "\(bad.stderr)")
    }

    @Test("--layer-dropout without a second layer, and --layers 0, are usage errors before anything is read")
    func layerFlagsAreValidated() async throws {
        let sandbox = try Sandbox()
        for (flags, mention) in [(["--layer-dropout", "0.3"], "--layer-dropout"), (["--layers", "0"], "--layers"),
                                 (["--layers", "2", "--layer-dropout", "1"], "--layer-dropout")] {
            let result = try await sandbox.run(["train", "--train", "missing.txt", "--dev", "missing.txt", "--out", sandbox.path("m")] + flags)
            #expect(result.status == 2, "\(flags): \(result)")
            #expect(result.stderr.contains(mention) && !result.stderr.contains("missing.txt"), "\(flags): \(result.stderr)")
        }
    }
}

/// The tensor names in a safetensors header.
func safetensorsNames(_ path: String) throws -> Set<String> {
    Set(try safetensorsHeader(path).keys.filter { $0 != "__metadata__" })
}

/// The shape a safetensors file's header gives tensor `name`.
func safetensorsShape(_ path: String, _ name: String) throws -> [Int] {
    guard let entry = try safetensorsHeader(path)[name] as? [String: Any], let shape = entry["shape"] as? [Int] else {
        throw CLITestError("\(path) has no tensor \(name)")
    }
    return shape
}

func safetensorsHeader(_ path: String) throws -> [String: Any] {
    let data = try Files.bytes(path)
    guard data.count >= 8 else { throw CLITestError("\(path) is too short") }
    var length = 0
    for index in 0..<8 { length |= Int(data[index]) << (8 * index) }
    guard 8 + length <= data.count,
          let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any]
    else { throw CLITestError("\(path) has no readable header") }
    return header
}

/// Rewrites one float32 tensor of a safetensors file in place.
func patchTensor(_ path: String, name: String, _ edit: (inout [Float]) -> Void) throws {
    var data = try Files.bytes(path)
    var length = 0
    for index in 0..<8 { length |= Int(data[index]) << (8 * index) }
    guard let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any],
          let entry = header[name] as? [String: Any], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
    else { throw CLITestError("\(path) has no tensor \(name)") }
    let start = 8 + length + offsets[0], count = (offsets[1] - offsets[0]) / 4
    var values = (0..<count).map { index in
        Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[start + 4 * index + $1]) << (8 * UInt32($1)) })
    }
    edit(&values)
    for (index, value) in values.enumerated() {
        for byte in 0..<4 { data[start + 4 * index + byte] = UInt8((value.bitPattern >> (8 * UInt32(byte))) & 0xFF) }
    }
    try data.write(to: URL(fileURLWithPath: path))
}
