import Foundation
import Testing
import DissectCore
@testable import DissectAnalysis

/// Intervals for label correlations: Student's t quantile, the t interval of a
/// mean across seeds, and the bootstrap over neurons.
@Suite struct CorrelationIntervalTests {
    @Test func studentTQuantileClosedForms() throws {
        // ν = 1 (Cauchy): tan(π(p − ½)); ν = 2: (2p − 1)·√(2 / (4p(1 − p))).
        for p in [0.6, 0.9, 0.975, 0.995] {
            let one = try #require(Statistics.studentTQuantile(p, degreesOfFreedom: 1))
            #expect(abs(one - tan(Double.pi * (p - 0.5))) < 1e-9 * max(1, one), "ν = 1, p = \(p)")
            let two = try #require(Statistics.studentTQuantile(p, degreesOfFreedom: 2))
            #expect(abs(two - (2 * p - 1) * (2 / (4 * p * (1 - p))).squareRoot()) < 1e-9, "ν = 2, p = \(p)")
        }
        // Tabulated t(0.975, ν), and the normal's 1.959964 as ν grows.
        for (nu, t) in [(3.0, 3.182446), (4, 2.776445), (10, 2.228139), (30, 2.042272), (1e7, 1.959964)] {
            #expect(abs(Statistics.studentTQuantile(0.975, degreesOfFreedom: nu)! - t) < 1e-6, "ν = \(nu)")
        }
        #expect(Statistics.studentTQuantile(0.5, degreesOfFreedom: 3) == 0)
        #expect(abs(Statistics.studentTQuantile(0.025, degreesOfFreedom: 4)! + 2.776445) < 1e-6)
        #expect(Statistics.studentTQuantile(1, degreesOfFreedom: 3) == nil)
        #expect(Statistics.studentTQuantile(0.9, degreesOfFreedom: 0) == nil)
        #expect(Statistics.studentTQuantile(0.9, degreesOfFreedom: .infinity) == nil)
    }

    @Test func meanIntervalHandWorked() throws {
        // 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653: 2 ± 4.302653 / √3 = 2 ± 2.484138.
        let interval = try #require(Statistics.meanInterval([1, 2, 3]))
        #expect(interval.mean == 2)
        #expect(abs(interval.lower - (2 - 2.484138)) < 1e-6 && abs(interval.upper - (2 + 2.484138)) < 1e-6)
        // A constant has no width; one value has no interval; a NaN none either.
        let constant = try #require(Statistics.meanInterval([0.4, 0.4, 0.4, 0.4]))
        #expect(constant.lower == 0.4 && constant.upper == 0.4)
        #expect(Statistics.meanInterval([0.5]) == nil)
        #expect(Statistics.meanInterval([0.5, .nan]) == nil)
    }

    /// 12 neurons × 3 labels: column 1 = 2 · column 0 + 1, column 2 = −column 0 + noise.
    static let matrix: [[Double?]] = (0..<12).map { neuron in
        let x = Double((neuron * 5) % 12) / 3
        return [x, 2 * x + 1, -x + Double((neuron * 7) % 5) / 4]
    }

    @Test func bootstrapOfAnExactLineIsOne() throws {
        let bootstrap = try #require(CorrelationAnalysis.bootstrap(Self.matrix, resamples: 300, seed: 9))
        #expect(bootstrap.resamples == 300 && bootstrap.level == 0.95)
        // r = 1 in every resample where it is defined (up to rounding).
        #expect(abs(bootstrap.lower[0][1]! - 1) < 1e-12 && abs(bootstrap.upper[0][1]! - 1) < 1e-12)
        #expect(abs(bootstrap.lower[1][0]! - 1) < 1e-12)
        #expect(abs(bootstrap.lower[0][0]! - 1) < 1e-12)
        // The noisy pair: an ordered interval around the full sample's r, inside [−1, 1].
        let r = Statistics.columnCorrelation(Self.matrix)[0][2]!
        let lower = bootstrap.lower[0][2]!, upper = bootstrap.upper[0][2]!
        #expect(-1 <= lower && lower < r && r < upper && upper <= 1, "\(lower) \(r) \(upper)")
        #expect(upper < 0, "clearly negative")
    }

    @Test func bootstrapMatchesANaiveReference() throws {
        let bootstrap = try #require(CorrelationAnalysis.bootstrap(Self.matrix, resamples: 200, seed: 3))
        // The same draws written out: resample b takes rows from SplitMix64(seed, stream: 0x424F4F54, b).
        var rs: [Double] = []
        for resample in 0..<200 {
            var rng = SplitMix64(seed: 3, stream: 0x424F_4F54, UInt64(resample))
            var a: [Double] = [], b: [Double] = []
            for _ in 0..<12 {
                let row = Self.matrix[rng.nextIndex(below: 12)]
                a.append(row[0]!)
                b.append(row[2]!)
            }
            if let r = Statistics.pearson(a, b) { rs.append(r) }
        }
        #expect(bootstrap.lower[0][2] == Statistics.percentile(rs, 2.5))
        #expect(bootstrap.upper[0][2] == Statistics.percentile(rs, 97.5))
        // Seeded: the same seed gives the same interval, another seed another.
        #expect(CorrelationAnalysis.bootstrap(Self.matrix, resamples: 200, seed: 3) == bootstrap)
        #expect(CorrelationAnalysis.bootstrap(Self.matrix, resamples: 200, seed: 4) != bootstrap)
    }

    @Test func bootstrapBounds() {
        #expect(CorrelationAnalysis.bootstrap(Self.matrix, resamples: 0, seed: 1) == nil)
        #expect(CorrelationAnalysis.bootstrap([[1, 2]], resamples: 10, seed: 1) == nil)
        #expect(CorrelationAnalysis.bootstrap([], resamples: 10, seed: 1) == nil)
        // An undefined column (a label never predicted) stays undefined.
        let withNil: [[Double?]] = Self.matrix.map { [$0[0], $0[1], nil] }
        let bootstrap = CorrelationAnalysis.bootstrap(withNil, resamples: 20, seed: 1)!
        #expect(bootstrap.lower[0][2] == nil && bootstrap.upper[2][2] == nil && bootstrap.lower[0][1] != nil)
        // Two columns each 1 at one row of ten, else 0: r is defined on the full matrix, but a resample misses
        // one of the two rows (a constant column) with probability 0.9¹⁰ + 0.9¹⁰ − 0.8¹⁰ = 0.59: more than half, so no interval.
        let sparse: [[Double?]] = (0..<10).map { [$0 == 0 ? 1 : 0, $0 == 1 ? 1 : 0] }
        #expect(Statistics.columnCorrelation(sparse)[0][1] != nil)
        #expect(CorrelationAnalysis.bootstrap(sparse, resamples: 400, seed: 1)!.lower[0][1] == nil)
        // A constant column has no r to resample.
        let constant: [[Double?]] = (0..<5).map { [Double($0), 1] }
        #expect(CorrelationAnalysis.bootstrap(constant, resamples: 20, seed: 1)!.lower[0][1] == nil)
    }

    @Test func correlationStudyAttachesABootstrapPerModel() {
        let models = [("a", ["X", "Y", "Z"], Self.matrix), ("b", ["X", "Y", "Z"], Self.matrix)]
        let without = CorrelationStudy.make(data: "dev", agreementData: nil, models: models, reference: nil, referencePath: nil, agreements: [])
        #expect(without.models.allSatisfy { $0.bootstrap == nil })
        let with = CorrelationStudy.make(
            data: "dev", agreementData: nil, models: models, reference: nil, referencePath: nil, agreements: [], bootstrap: (50, 7))
        #expect(with.models.allSatisfy { $0.bootstrap?.resamples == 50 })
        // Each model draws from its own stream.
        #expect(with.models[0].bootstrap!.seed != with.models[1].bootstrap!.seed)
        #expect(with.models[0].matrix == without.models[0].matrix)
    }
}
