import Testing
import DissectCore
import DissectCorpus
import DissectModel
@testable import DissectAnalysis

@Suite struct ConceptTests {
    /// The rank-sum AUC of every neuron and value equals the pairwise count, ties included.
    @Test func areaUnderCurveMatchesThePairwiseCount() throws {
        var generator = SplitMix64(seed: 7, stream: 1, 0)
        let n = 3, N = 200
        // Values on a coarse grid, so many tokens tie.
        let hidden = (0..<(N * n)).map { _ in Float(generator.nextIndex(below: 9)) / 4 }
        let property = TokenProperty(
            name: "p", source: "test", values: ["a", "b", "c", "never"],
            assignments: (0..<N).map { _ in Int32(generator.nextIndex(below: 3)) })
        let areas = Concepts.areaUnderCurve(hidden: hidden, neurons: n, properties: [property])
        for neuron in 0..<n {
            let scores = (0..<N).map { Double(hidden[$0 * n + neuron]) }
            for value in 0..<3 {
                let naive = try #require(Concepts.areaUnderCurveNaive(scores: scores, positive: property.assignments.map { $0 == Int32(value) }))
                let fast = try #require(areas[0][neuron][value])
                #expect(abs(fast - naive) < 1e-12, "neuron \(neuron), value \(value): \(fast) vs \(naive)")
            }
            #expect(areas[0][neuron][3] == nil, "a value no token has has no AUC")
        }
    }

    /// Closed forms: a score that separates a value perfectly has AUC 1 (0 reversed); a constant, ½.
    @Test func areaUnderCurveClosedForms() {
        let property = TokenProperty(name: "p", source: "test", values: ["yes", "no"], assignments: [0, 0, 1, 1, 1])
        // Neuron 0 = token index (yes tokens lowest), neuron 1 = constant.
        let hidden: [Float] = [0, 3, 1, 3, 2, 3, 3, 3, 4, 3]
        let areas = Concepts.areaUnderCurve(hidden: hidden, neurons: 2, properties: [property])
        #expect(areas[0][0] == [0, 1])
        #expect(areas[0][1] == [0.5, 0.5])
        #expect(Concepts.areaUnderCurveNaive(scores: [1, 2], positive: [true, true]) == nil)
    }

    /// The sensitivity within a property's values, by hand: 2 neurons, labels A/B, property x/y.
    ///   tokens:    t0    t1    t2    t3    t4    t5
    ///   property:  x     x     x     y     y     y
    ///   predicted: A     B     B     A     A     B
    ///   h₀:        4     2     0     1     3     5      W[·, A] = (1, 2), W[·, B] = (−1, 0)
    ///   h₁:        1     1     1     2     2     2
    ///   within x, label A: s₀ = 1·(4 − 1) = 3, s₁ = 2·(1 − 1) = 0, one A token;
    ///   within y, label A: s₀ = 1·(2 − 5) = −3, s₁ = 0, two A tokens → A: s₀ = (1·3 + 2·(−3)) / 3 = −1, s₁ = 0.
    ///   label B: x: s₀ = −1·(1 − 4) = 3 (two B); y: −1·(5 − 2) = −3 (one B) → (2·3 + 1·(−3)) / 3 = 1.
    ///   Over all tokens, h₁ is fully explained by the property: s₁[A] = 2·(5/3 − 5/3) = 0 too, but
    ///   s₀[A] = 1·(8/3 − 7/3) = 1/3 while within the values it is −1.
    @Test func withinPropertyByHand() {
        let hidden: [Float] = [4, 1, 2, 1, 0, 1, 1, 2, 3, 2, 5, 2]
        let property = TokenProperty(name: "p", source: "test", values: ["x", "y"], assignments: [0, 0, 0, 1, 1, 1])
        let within = Concepts.withinProperty(
            hidden: hidden, neurons: 2, labels: ["A", "B"], predicted: [0, 1, 1, 0, 0, 1], property: property,
            outputWeight: [1, 2, -1, 0])
        #expect(abs((within[0][0] ?? .nan) - -1) < 1e-12)
        #expect(abs((within[1][0] ?? .nan) - 0) < 1e-12)
        #expect(abs((within[0][1] ?? .nan) - 1) < 1e-12)
    }

    /// The shared value of a neuron among two labels' top neurons: the value over-represented in both
    /// labels' tokens. 40 tokens; property "cap" is yes on tokens 0..<20; labels A on 0..<10 (all yes),
    /// B on 10..<15 (yes) and 30..<35 (no), O elsewhere. Shares of "yes": A 100 %, B 50 %, all 50 %:
    /// lift min(1, 0.5) − 0.5 = 0, not over-represented; "no": A 0 %. With B on 10..<20 instead, lift 0.5.
    @Test func sharedValueByHand() throws {
        let N = 40
        let property = TokenProperty(name: "cap", source: "test", values: ["yes", "no"], assignments: (0..<N).map { $0 < 20 ? 0 : 1 })
        let result = Concepts.PropertyResult(
            name: "cap", source: "test", values: ["yes", "no"], counts: property.counts, difference: [[1, -1]], lower: nil, upper: nil,
            auc: [[0.9, 0.1]])
        func predicted(_ bRange: [Range<Int>]) -> [Int32] {
            (0..<N).map { token in token < 10 ? 0 : bRange.contains { $0.contains(token) } ? 1 : 2 }
        }
        #expect(Concepts.sharedValue(neuron: 0, labels: [0, 1], predicted: predicted([10..<15, 30..<35]), properties: [property], results: [result]) == nil)
        let shared = try #require(Concepts.sharedValue(neuron: 0, labels: [0, 1], predicted: predicted([10..<20]), properties: [property], results: [result]))
        #expect(shared.description == Concepts.Description(property: "cap", value: "yes", auc: 0.9, difference: 1))
        #expect(shared.coverage == [1, 1] && shared.baseRate == 0.5)
    }
}
