import Testing
import DissectCore
import DissectModel
@testable import DissectAnalysis

/// Sensitivity and both ablation modes against `tools/make_analysis_fixtures.py`
/// (PyTorch, float64; every prediction there wins by at least 1e-3, so Float
/// arithmetic here cannot flip one).
@Suite struct FixtureTests {
    @Test(arguments: ["lstm", "bilstm", "gru"])
    func hiddenStatesAndSensitivityMatchPyTorch(variant: String) throws {
        let fixture = try AnalysisFixture.load(variant)
        let run = try fixture.run()
        #expect(fixture.hidden.shape == [run.tokenCount, run.neuronCount])
        for index in run.hidden.indices { #expect(abs(Double(run.hidden[index]) - fixture.hidden.data[index]) < 1e-5) }
        #expect(run.predicted == fixture.predicted)
        for (condition, expected) in [(Condition.predicted, fixture.sensitivity_predicted), (.gold, fixture.sensitivity_gold)] {
            let sensitivity = Sensitivity(run: run, condition: condition)
            #expect(sensitivity.values.count == expected.count)
            for neuron in expected.indices {
                for label in expected[neuron].indices {
                    let ours = sensitivity.values[neuron][label], theirs = expected[neuron][label]
                    #expect((ours == nil) == (theirs == nil), "\(variant) \(condition) s[\(neuron)][\(label)] null-ness")
                    if let ours, let theirs { #expect(abs(ours - theirs) < 1e-4, "\(variant) s[\(neuron)][\(label)]") }
                }
            }
        }
    }

    @Test(arguments: ["lstm", "bilstm", "gru"], AblationMode.allCases)
    func ablationPredictionsMatchPyTorch(variant: String, mode: AblationMode) throws {
        let fixture = try AnalysisFixture.load(variant)
        let run = try fixture.run()
        let engine = AblationEngine(run: run, focusLabels: ["L0"], steps: fixture.order.count)
        let expected = mode == .readout ? fixture.ablation_readout : fixture.ablation_recurrent
        #expect(expected.count == fixture.order.count + 1)
        let predictions = engine.predictions(order: fixture.order, mode: mode)
        #expect(predictions.count == expected.count)
        for k in expected.indices where k < predictions.count {
            #expect(predictions[k] == expected[k], "\(variant) \(mode) k=\(k)")
        }
    }
}
