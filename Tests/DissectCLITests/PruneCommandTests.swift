import Foundation
import Testing

@Suite struct PruneCommandTests {
    /// --remove writes a smaller model that loads and evaluates, and model.json says what was removed.
    @Test func removeListWritesASmallerModel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("pruned-\(UUID().uuidString)")
        let result = try await sandbox.run(["prune", "--model", trained.out, "--out", out, "--remove", "0,5"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("removed 2 of 8 units (list): hidden 8 → 6 per direction"), "\(result)")
        let metadata = try Files.json(out + "/model.json")
        let configuration = try #require(metadata["configuration"] as? [String: Any])
        #expect(configuration["hidden_size"] as? Int == 6)
        let pruning = try #require(metadata["pruning"] as? [String: Any])
        #expect(pruning["removed"] as? [Int] == [0, 5] && pruning["kept"] as? [Int] == [1, 2, 3, 4, 6, 7])
        #expect(pruning["rule"] as? String == "list" && pruning["fine_tune_epochs"] as? Int == 0)
        #expect(try Files.bytes(out + "/model.safetensors").count < Files.bytes(trained.out + "/model.safetensors").count)
        let evaluation = try await sandbox.run(["evaluate", "--model", out, "--data", trained.files.test])
        #expect(evaluation.status == 0, "\(evaluation)")
    }

    /// --keep with --by sensitivity measures on --rank-on; --fine-tune trains the pruned weights on.
    @Test func keepBySensitivityThenFineTune() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("pruned-\(UUID().uuidString)")
        let result = try await sandbox.run([
            "prune", "--model", trained.out, "--out", out, "--keep", "5", "--by", "sensitivity", "--rank-on", trained.files.dev,
            "--fine-tune", "1",
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("removed 3 of 8 units (sensitivity): hidden 8 → 5 per direction"), "\(result)")
        #expect(result.stdout.contains("fine-tuned 1 epochs: best epoch 1"), "\(result)")
        #expect(result.stderr.contains("fine-tune epoch 1/1"), "\(result)")
        #expect(result.stderr.contains("words (vectors from the model)"), "\(result)")
        let metadata = try Files.json(out + "/model.json")
        let pruning = try #require(metadata["pruning"] as? [String: Any])
        #expect(pruning["rule"] as? String == "sensitivity" && pruning["fine_tune_epochs"] as? Int == 1)
        // The units kept are the 5 with the largest max_j |s[i, j]| that `dissect sensitivity` gives on the same file.
        let sensitivity = sandbox.path("sensitivity-\(UUID().uuidString)")
        let measured = try await sandbox.run(["sensitivity", "--model", trained.out, "--data", trained.files.dev, "--out", sensitivity])
        #expect(measured.status == 0, "\(measured)")
        let matrix = try #require(try Files.json(sensitivity + "/sensitivity.json")["sensitivity"] as? [[Any]])
        let scores = matrix.map { row in row.compactMap { ($0 as? Double).map(abs) }.max() ?? 0 }
        let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        #expect(pruning["removed"] as? [Int] == Array(ranked.dropFirst(5)).sorted(), "scores \(scores)")
        let training = try #require(metadata["training"] as? [String: Any])
        #expect(training["epochs"] as? Int == 1 && training["finished"] as? Bool == true)
        #expect(Files.exists(out + "/train-log.jsonl"))
    }

    @Test(arguments: [
        ([String](), "Pass --remove LIST or --keep K with --by."),
        (["--remove", "1", "--keep", "2", "--by", "random"], "Pass --remove or --keep, not both."),
        (["--keep", "2"], "--keep needs --by sensitivity, reverse or random."),
        (["--keep", "2", "--by", "sensitivity"], "--by sensitivity needs --rank-on FILE"),
        (["--keep", "0", "--by", "random"], "--keep must be 1 or more"),
        (["--remove", "1,x"], "--remove must be unit numbers from 0 separated by commas"),
        (["--remove", "1", "--by", "random"], "--by goes with --keep, not with --remove."),
        (["--remove", "1", "--train", "t"], "--train and --dev go with --fine-tune N."),
        (["--remove", "1", "--by", "size"], "error: The value 'size' is invalid for '--by <by>'"),
    ])
    func badFlagsAreUsageErrors(flags: [String], message: String) async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["prune", "--model", "m", "--out", "o"] + flags)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    @Test func unitsAndOutputCheckedAgainstTheModel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        for (flags, message) in [
            (["--remove", "8"], "reference-model: unit 8 is not in the layer, whose units are 0 to 7; name units from 0 to 7"),
            (["--remove", "0,1,2,3,4,5,6,7"], "removing 8 of 8 units per direction leaves none"),
            (["--keep", "9", "--by", "random"], "reference-model: --keep 9 keeps more units than a direction has (8); pass --keep 1 to 8"),
            (["--remove", "0", "--layer", "2"], "--layer 2 asks for a layer this model does not have (it has 1)"),
        ] {
            let out = sandbox.path("pruned-\(UUID().uuidString)")
            let result = try await sandbox.run(["prune", "--model", trained.out, "--out", out] + flags)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
            #expect(!Files.exists(out), "nothing is written on a usage error")
        }
        let out = sandbox.path("pruned-\(UUID().uuidString)")
        let first = try await sandbox.run(["prune", "--model", trained.out, "--out", out, "--remove", "0"])
        #expect(first.status == 0, "\(first)")
        let before = try Files.bytes(out + "/model.json")
        let second = try await sandbox.run(["prune", "--model", trained.out, "--out", out, "--remove", "1"])
        #expect(second.status == 2 && second.stderr.contains("already holds a model; pass --overwrite"), "\(second)")
        #expect(try Files.bytes(out + "/model.json") == before, "the model in --out is untouched")
    }
}

@Suite struct SizesCommandTests {
    /// Two sizes of the shared 8-unit model: every route at each size, the full model, the figure and the table.
    @Test func studyOfTwoSizes() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("sizes-\(UUID().uuidString)")
        let result = try await sandbox.run(["sizes", "--model", trained.out, "--out", out, "--sizes", "6,4", "--fine-tune", "1"], timeout: 300)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("pruned by sensitivity: smallest within 1 F1 point: "), "\(result)")
        #expect(result.stdout.contains("trained from scratch: smallest within 1 F1 point: "), "\(result)")
        #expect(result.stdout.contains("2 sizes in "), "\(result)")
        let csv = try Files.text(out + "/sizes.csv").split(separator: "\n")
        #expect(csv.first == "route,fine_tuned,hidden,test_f1,test_f1_ncrf,seconds")
        // 2 sizes × (3 pruning routes × 2 + scratch) + the full model.
        let expectedRows = 16
        #expect(csv.count == expectedRows, "\(csv)")
        #expect(csv.last?.hasPrefix("full,false,8,") == true)
        for name in ["sizes.json", "sizes.svg", "sizes.md"] { #expect(Files.exists(out + "/" + name), "\(name) missing") }
        #expect(!Files.exists(out + "/.sizes-work"), "the trainings' folders are removed")
        let document = try Files.json(out + "/sizes.json")
        let fullHidden = document["full_hidden"] as? Int
        let points = document["points"] as? [Any]
        #expect(fullHidden == 8)
        #expect(points?.count == 14)
    }

    @Test func sizesCheckedAgainstTheModel() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let out = sandbox.path("sizes-\(UUID().uuidString)")
        let result = try await sandbox.run(["sizes", "--model", trained.out, "--out", out, "--sizes", "4,8"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--sizes asks for 8 units, not below the model's 8; pass sizes from 1 to 7"), "\(result)")
        let flags = try await sandbox.run(["sizes", "--model", trained.out, "--out", out, "--sizes", "0,3"])
        #expect(flags.status == 2 && flags.stderr.contains("--sizes must be hidden sizes of 1 or more"), "\(flags)")
        #expect(!Files.exists(out))
    }
}
