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
}
