import Foundation
import Testing

// End-to-end tests of `dissect compare` on the shared reference model.

@Suite struct CompareCommandTests {
    /// A model against a copy of itself: CKA and SVCCA 1, every neuron matched to itself with r = 1,
    /// and every label's top 10 recurring in full.
    @Test func aModelAgainstItsCopyMatchesNeuronForNeuron() async throws {
        let trained = try await SharedModel.shared.get()
        let sandbox = trained.sandbox
        let copy = sandbox.path("compare-copy-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: trained.out, toPath: copy)
        let out = sandbox.path("compare-\(UUID().uuidString)")
        let result = try await sandbox.run(["compare", "--models", trained.out, copy, "--data", trained.files.dev, "--out", out])
        #expect(result.status == 0, "\(result)")
        for name in ["compare.json", "cka.csv", "svcca.csv", "matches.csv", "recurrence.csv", "cka.svg", "matches.svg"] {
            #expect(Files.exists(out + "/" + name), "\(name) missing")
        }
        let json = try Files.json(out + "/compare.json")
        let pairs = try #require(json["pairs"] as? [[String: Any]])
        #expect(pairs.count == 1)
        let pair = try #require(pairs.first)
        #expect(abs((pair["cka"] as? Double ?? 0) - 1) < 1e-6, "\(pair["cka"] ?? "nil")")
        #expect(abs((pair["svcca"] as? Double ?? 0) - 1) < 1e-6, "\(pair["svcca"] ?? "nil")")
        let constant = Set((pair["constant_neurons_a"] as? [Int]) ?? [])
        let matches = try #require(pair["matches"] as? [[String: Any]])
        #expect(!matches.isEmpty)
        for match in matches {
            let a = try #require(match["neuron_a"] as? Int), b = try #require(match["neuron_b"] as? Int)
            if constant.contains(a) { continue }
            #expect(a == b, "neuron \(a) matched to \(b)")
            #expect(abs((match["correlation"] as? Double ?? 0) - 1) < 1e-6)
        }
        let recurrence = try Files.text(out + "/recurrence.csv")
        #expect(recurrence.hasPrefix("# recurrence = "))
    }

    @Test func oneModelIsAUsageError() async throws {
        let trained = try await SharedModel.shared.get()
        let out = trained.sandbox.path("compare-one-\(UUID().uuidString)")
        let result = try await trained.sandbox.run(["compare", "--models", trained.out, "--data", trained.files.dev, "--out", out])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--models"), "\(result.stderr)")
        #expect(!Files.exists(out))
    }

    @Test func aMissingModelIsNamed() async throws {
        let trained = try await SharedModel.shared.get()
        let missing = trained.sandbox.path("no-such-model")
        let out = trained.sandbox.path("compare-missing-\(UUID().uuidString)")
        let result = try await trained.sandbox.run(["compare", "--models", trained.out, missing, "--data", trained.files.dev, "--out", out])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(missing), "\(result.stderr)")
        // The fix names the flag this command takes.
        #expect(result.stderr.contains("pass --models a directory written by `dissect train`"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("error:") }.count == 1)
        #expect(!Files.exists(out))
    }
}
