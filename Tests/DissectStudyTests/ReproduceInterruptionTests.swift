import DissectCore
import DissectModel
import Foundation
import Testing
@testable import DissectStudy

/// The message `reproduce` gives when it is stopped between steps. (The
/// signal itself is process-wide, so the check is replaced here rather than
/// raising SIGINT inside the test process.)
@Suite struct ReproduceInterruptionTests {
    @Test func stoppedBetweenStepsSaysToRerunTheSameCommand() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dissect-reproduce-stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = "-DOCSTART- -X- -X- O\n\nParis NNP B-NP B-LOC\nsaid VBD B-VP O\n\n"
        var paths: [String] = []
        for name in ["train", "dev", "test"] {
            let path = directory.appendingPathComponent(name + ".txt").path
            try corpus.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let embeddings = directory.appendingPathComponent("vectors.txt").path
        try "paris 0.1 0.2\nsaid 0.3 0.4\n".write(toFile: embeddings, atomically: true, encoding: .utf8)
        var request = ReproduceRequest(
            trainPath: paths[0], devPath: paths[1], testPath: paths[2], outputDirectory: directory.appendingPathComponent("out").path)
        request.embeddingsPath = embeddings
        request.seeds = [1, 2]
        // It stops before the first step, so no analysis files are drawn.
        let renderers = AnalysisRenderers(
            sensitivity: { _ in [] }, ablation: { _ in [] }, correlation: { _ in [] }, comparison: { _ in [] }, ranking: { _ in [] })
        let pipeline = ReproducePipeline(request: request, renderers: renderers) { _ in }
        pipeline.interruptionRequested = { true }
        do {
            _ = try pipeline.run()
            Issue.record("the pipeline should have stopped")
        } catch let error as DissectError {
            #expect(error.kind == .interrupted)
            let text = error.description
            #expect(text.contains("stopped by SIGINT before: seed 1: training"), "\(text)")
            #expect(text.hasSuffix("; rerun the same command: finished seeds are kept and an interrupted seed is trained again from its start"),
                    "\(text)")
            #expect(!text.contains("--overwrite") && !text.contains("continue where it stopped"), "\(text)")
        }
    }
}
