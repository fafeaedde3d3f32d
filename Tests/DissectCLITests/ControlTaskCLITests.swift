import DissectCorpus
import Foundation
import Testing

// `dissect train --control-task` end to end, and every command that reads a
// corpus for a control model: its gold labels are the control labels.

/// A control model of the reference run's flags (`--seed 1 --epochs 4 --control-task`), trained once.
enum ControlModel {
    static let shared = TrainedOnce("control-model") { files, out in
        referenceArguments(files: files, out: out, seed: 1) + ["--control-task"]
    }
}

enum Control {
    /// The control task a control model's model.json describes, rebuilt with the library
    /// (whose definition `ControlTaskTests` pins), as the oracle of the binary's labels.
    static func task(_ model: String) throws -> ControlTask {
        let json = try Files.json(model + "/model.json")
        let labels = try #require((json["vocabulary"] as? [String: Any])?["labels"] as? [String])
        let record = try #require((json["training"] as? [String: Any])?["control_task"] as? [String: Any])
        let counts = try #require(record["label_counts"] as? [String: Int])
        let seed = try #require(record["seed"] as? Int)
        return try ControlTask(
            seed: UInt64(seed), labels: labels, counts: labels.map { counts[$0] ?? -1 },
            digitsToZero: json["digits_to_zero"] as? Bool ?? true)
    }

    /// The (word, gold) tokens of a CoNLL text (last column), sentences in order.
    static func tokens(_ text: String) -> [(word: String, label: String)] {
        text.split(separator: "\n").filter { !$0.hasPrefix("-DOCSTART-") }.map { line in
            let columns = line.split(separator: " ")
            return (String(columns.first ?? ""), String(columns.last ?? ""))
        }
    }

    /// `JSONSerialization`'s object of an `evaluate --json` run.
    static func report(_ result: RunResult) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        return try #require(object["report"] as? [String: Any])
    }
}

@Suite("dissect train --control-task")
struct ControlTaskCLITests {
    @Test("records control_task (seed, training label counts), keeps the real label vocabulary, and says it is a control model")
    func record() async throws {
        let control = try await ControlModel.shared.get()
        let reference = try await SharedModel.shared.get()
        let result = control.result
        #expect(Files.listing(control.out) == ["model.json", "model.safetensors", "train-log.jsonl"])

        let model = try Files.json(control.out + "/model.json")
        let record = try #require(model["training"] as? [String: Any])
        let controlRecord = try #require(record["control_task"] as? [String: Any], "\(record)")
        #expect(controlRecord["seed"] as? Int == 1)
        #expect(controlRecord["label_counts"] as? [String: Int] == Analysis.goldCounts(SyntheticCoNLL.train),
                "the training file's token count of each real label")
        #expect(Set(controlRecord.keys) == ["seed", "label_counts"])
        let labels = (model["vocabulary"] as? [String: Any])?["labels"] as? [String]
        let referenceLabels = (try Files.json(reference.out + "/model.json")["vocabulary"] as? [String: Any])?["labels"] as? [String]
        #expect(labels != nil && labels == referenceLabels, "the label vocabulary is the real one, in the real order")
        #expect(record["selection_metric"] as? String == "accuracy", "control labels form no chunks: chosen by accuracy")
        let referenceRecord = try #require(try Files.json(reference.out + "/model.json")["training"] as? [String: Any])
        #expect(referenceRecord["control_task"] == nil, "a real model has no control_task")

        // Trained on other labels: the same seed shuffles and initialises alike, so the
        // first epoch's loss equals the real model's only if the training labels were the real ones.
        func firstLoss(_ directory: String) throws -> Double? {
            let line = try Files.text(directory + "/train-log.jsonl").split(separator: "\n").first.map(String.init) ?? ""
            return (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
        }
        let controlLoss = try #require(try firstLoss(control.out)), realLoss = try #require(try firstLoss(reference.out))
        #expect(controlLoss != realLoss, "epoch 1 loss \(controlLoss) on the control labels vs \(realLoss) on the real ones")
        #expect(try Files.bytes(control.out + "/model.safetensors") != Files.bytes(reference.out + "/model.safetensors"))

        // The progress says it is a control model.
        #expect(result.stderr.contains("control task (Hewitt & Liang 2019), seed 1: every word type gets one label"), "\(result.stderr)")
        for epoch in 1...4 { #expect(result.stderr.contains("control epoch \(epoch)/4:"), "\(result.stderr)") }
        let bestEpoch = try #require(record["best_epoch"] as? Int)
        let devF1 = try #require(record["dev_f1"] as? Double)
        let lastLine = try #require(result.stdoutLines.last { !$0.isEmpty })
        #expect(lastLine.hasPrefix("best epoch \(bestEpoch) (control task, seed 1): dev F1 \(twoDecimals(devF1))"), "\(lastLine)")
    }

    @Test("evaluate scores a control model against its control labels: the --predictions gold column and the recorded dev and test scores")
    func evaluate() async throws {
        let control = try await ControlModel.shared.get()
        let sandbox = control.sandbox
        let task = try Control.task(control.out)
        let predictions = sandbox.path("control-dev-predictions.txt")
        async let devRun = sandbox.run(
            ["evaluate", "--model", control.out, "--data", control.files.dev, "--json", "--predictions", predictions])
        async let testRun = sandbox.run(["evaluate", "--model", control.out, "--data", control.files.test, "--json"])
        let (dev, test) = try await (devRun, testRun)
        #expect(dev.status == 0, "\(dev)")
        #expect(test.status == 0, "\(test)")
        #expect(dev.stderr.contains("a control-task model (seed 1); the gold labels of \(control.files.dev) are its control labels"),
                "\(dev.stderr)")
        #expect(!dev.stderr.contains("warning:"), "the control labels are all known labels: \(dev.stderr)")

        // Every gold label written is the word's control label, not the file's.
        let written = try Files.text(predictions).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let real = Control.tokens(SyntheticCoNLL.dev)
        #expect(written.count == real.count)
        var changed = 0
        for (line, token) in zip(written, real) {
            #expect(line.count == 3 && line[0] == token.word, "\(line)")
            guard line.count == 3 else { continue }
            #expect(line[1] == task.label(for: token.word), "\(token.word): gold \(line[1]), control label \(task.label(for: token.word))")
            if line[1] != token.label { changed += 1 }
        }
        #expect(changed > 0, "the control labels differ from the real ones on some tokens")

        // The scores are those training recorded for the best epoch (selected on the relabelled dev file).
        let record = try #require(try Files.json(control.out + "/model.json")["training"] as? [String: Any])
        let devReport = try Control.report(dev), testReport = try Control.report(test)
        #expect(Analysis.close(Analysis.number(devReport["accuracy"]), Analysis.number(record["dev_accuracy"])), "\(devReport) vs \(record)")
        #expect(Analysis.close(Analysis.number(devReport["f1"]), Analysis.number(record["dev_f1"])))
        #expect(Analysis.close(Analysis.number(testReport["accuracy"]), Analysis.number(record["test_accuracy"])))
        #expect(Analysis.close(Analysis.number(testReport["f1"]), Analysis.number(record["test_f1"])))
    }

    @Test("sensitivity and ablate read a control model's control labels")
    func analyses() async throws {
        let control = try await ControlModel.shared.get()
        let sandbox = try Sandbox()
        let task = try Control.task(control.out)
        let devGold = task.relabel(try CoNLLReader.read(path: control.files.dev))
        var expectedCounts: [String: Int] = [:]
        for label in devGold.sentences.flatMap(\.labels) { expectedCounts[label, default: 0] += 1 }

        let sensitivity = try await Analysis.sensitivity(
            sandbox, model: control.out, data: control.files.dev, out: sandbox.path("sens"), extra: ["--condition", "gold"])
        let conditionCounts = try #require(sensitivity.json["condition_counts"] as? [String: Int])
        #expect(conditionCounts.filter { $0.value > 0 } == expectedCounts, "gold counts are the control labels' counts on dev")

        // ablate at k = 0 is the unablated control model: evaluate's accuracy and F1 on the control labels.
        let out = sandbox.path("ablation")
        async let ablateRun = sandbox.run(
            ["ablate", "--model", control.out, "--rank-on", control.files.dev, "--data", control.files.test, "--condition", "gold",
             "--labels", "O", "--steps", "1", "--random", "1", "--out", out])
        async let evaluateRun = sandbox.run(["evaluate", "--model", control.out, "--data", control.files.test, "--json"])
        let (ablation, evaluation) = try await (ablateRun, evaluateRun)
        #expect(ablation.status == 0, "\(ablation)")
        let report = try Control.report(evaluation)
        let curves = try #require(try Files.json(out + "/ablation.json")["curves"] as? [String: [String: Any]])
        let zero = AblateCommandTests.point(try #require(curves["O"]), 0)
        #expect(Analysis.close(zero["accuracy:all"], Analysis.number(report["accuracy"]).map { $0 / 100 }), "\(zero) vs \(report)")
        #expect(Analysis.close(zero["f1"], Analysis.number(report["f1"])))
    }

    @Test("a corrupt control_task in model.json is one error line naming the file, exit 1", arguments: [
        "negative", "missing label", "unknown label", "zero sum", "not a number",
    ])
    func corruptRecord(_ case_: String) async throws {
        let control = try await ControlModel.shared.get()
        let sandbox = try Sandbox()
        let model = sandbox.path("edited")
        try Files.copyDirectory(control.out, to: model)
        var object = try Files.json(model + "/model.json")
        var training = try #require(object["training"] as? [String: Any])
        var record = try #require(training["control_task"] as? [String: Any])
        var counts = try #require(record["label_counts"] as? [String: Any])
        let expected: String
        switch case_ {
        case "negative":
            counts["B-PER"] = -2
            expected = "training.control_task.label_counts cannot be drawn from: the count of B-PER is -2, below 0"
        case "missing label":
            counts["I-ORG"] = nil
            expected = #"training.control_task.label_counts has no count for the label "I-ORG""#
        case "unknown label":
            counts["B-MISC"] = 4
            expected = #"training.control_task.label_counts names "B-MISC", which is not in vocabulary.labels"#
        case "zero sum":
            for key in counts.keys { counts[key] = 0 }
            expected = "training.control_task.label_counts cannot be drawn from: the label counts sum to 0"
        default:
            counts["O"] = "many"
            expected = "model.json is not a valid checkpoint description (training.control_task.label_counts.O has the wrong type)"
        }
        record["label_counts"] = counts
        training["control_task"] = record
        object["training"] = training
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: model + "/model.json"))

        async let evaluateRun = sandbox.run(["evaluate", "--model", model, "--data", control.files.test])
        async let sensitivityRun = sandbox.run(
            ["sensitivity", "--model", model, "--data", control.files.dev, "--out", sandbox.path("sens")])
        let (evaluation, sensitivity) = try await (evaluateRun, sensitivityRun)
        expectOneError(evaluation, status: 1, mentions: ["error: \(model)/model.json: \(expected)"])
        expectOneError(sensitivity, status: 1, mentions: ["error: \(model)/model.json: \(expected)"], out: sandbox.path("sens"))
    }
}
