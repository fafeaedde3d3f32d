import Foundation
import Testing

/// Variables the user set are never passed over in silence.
@Suite("environment variables")
struct EnvironmentTests {
    @Test("$DISSECT_EMBEDDINGS naming a missing file: train and reproduce stop with one error line (exit 2) and write nothing",
          arguments: ["train", "reproduce"])
    func missingEmbeddingsVariable(_ command: String) async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let missing = sandbox.path("no-such-vectors.txt")
        let out = sandbox.path("out")
        var arguments = [command, "--train", files.train, "--dev", files.dev, "--test", files.test, "--epochs", "1", "--out", out]
        if command == "train" { arguments += ["--hidden", "8"] } else { arguments += ["--seeds", "1"] }
        let result = try await sandbox.run(arguments, environment: ["DISSECT_EMBEDDINGS": missing])
        ErrorTests.expectFailure(result, status: 2, mentions: ["error: \(missing): ", "$DISSECT_EMBEDDINGS", "does not exist"], out: out)
    }

    @Test("$DISSECT_VECTOR_BITS other than 256 or 512: one error line (exit 2), nothing written; 256 trains as usual")
    func vectorBitsVariable() async throws {
        let sandbox = try Sandbox()
        let files = try sandbox.writeCorpus()
        let arguments = ["train", "--train", files.train, "--dev", files.dev, "--test", files.test, "--epochs", "1", "--hidden", "8"]
        for bad in ["128", "avx512", "256 "] {
            let out = sandbox.path("out-\(bad.count)")
            let result = try await sandbox.run(arguments + ["--out", out], environment: ["DISSECT_VECTOR_BITS": bad])
            ErrorTests.expectFailure(result, status: 2, mentions: ["error: $DISSECT_VECTOR_BITS is '\(bad)'", "set it to 256"], out: out)
        }
        let out = sandbox.path("out-256")
        let result = try await sandbox.run(arguments + ["--out", out], environment: ["DISSECT_VECTOR_BITS": "256"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.json"))
    }
}
