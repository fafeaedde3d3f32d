import Foundation
import Testing

@Suite("help and version")
struct HelpTests {
    @Test("dissect --help lists the subcommands")
    func rootHelp() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["--help"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("USAGE: dissect"), "\(result.stdout)")
        for subcommand in ["train", "evaluate", "sensitivity", "ablate", "correlate", "compare", "rank", "explore", "import", "reproduce", "study", "sweep", "data", "chart"] {
            #expect(result.stdout.contains("  \(subcommand) "), "\(subcommand) is listed: \(result.stdout)")
        }
        // The commands a sweep starts on each node are not for users.
        #expect(!result.stdout.contains("sweep-run") && !result.stdout.contains("sweep-aggregate"), "\(result.stdout)")
        #expect(!result.stdout.contains("error:"))
    }

    @Test("dissect train --help lists the options")
    func trainHelp() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["train", "--help"])
        #expect(result.status == 0, "\(result)")
        for option in ["--data-dir", "--train", "--dev", "--test", "--tag-column", "--embeddings", "--no-embeddings",
                       "--cell", "--hidden", "--bidirectional", "--dropout", "--optimizer", "--lr", "--batch-size",
                       "--epochs", "--seed", "--out", "--overwrite"] {
            #expect(result.stdout.contains(option), "\(option) is listed")
        }
        #expect(Files.listing(sandbox.cwd.path).isEmpty, "--help writes nothing")
    }

    @Test("dissect evaluate --help lists the options")
    func evaluateHelp() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["evaluate", "--help"])
        #expect(result.status == 0, "\(result)")
        for option in ["--model", "--data", "--tag-column", "--json", "--predictions"] {
            #expect(result.stdout.contains(option), "\(option) is listed")
        }
    }

    @Test("dissect --version")
    func version() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["--version"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test("an unknown subcommand is a usage error")
    func unknownSubcommand() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["frobnicate"])
        ErrorTests.expectFailure(result, status: 2, mentions: ["frobnicate"])
    }
}
