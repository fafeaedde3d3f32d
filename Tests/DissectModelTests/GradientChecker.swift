// Shared by DissectModelTests (every backward pass) and DissectAnalysisTests (the probe):
// Tests/DissectAnalysisTests/GradientChecker.swift is a link to this file.

/// Central finite differences over every parameter, compared element by
/// element with an analytic gradient.
struct GradientChecker {
    var step = 1e-5
    var relativeTolerance = 1e-5
    var absoluteTolerance = 1e-8

    struct Mismatch: CustomStringConvertible {
        var index: Int
        var analytic: Double
        var numeric: Double
        var description: String { "parameter \(index): analytic \(analytic), numeric \(numeric)" }
    }

    /// Returns the elements whose analytic and numeric derivatives disagree.
    func mismatches(
        parameters: [Double], analytic: [Double], loss: ([Double]) -> Double
    ) -> [Mismatch] {
        var found: [Mismatch] = []
        var probe = parameters
        for index in 0..<parameters.count {
            probe[index] = parameters[index] + step
            let plus = loss(probe)
            probe[index] = parameters[index] - step
            let minus = loss(probe)
            probe[index] = parameters[index]
            let numeric = (plus - minus) / (2 * step)
            let difference = abs(numeric - analytic[index])
            let scale = max(abs(numeric), abs(analytic[index]))
            if difference > absoluteTolerance && difference > relativeTolerance * scale {
                found.append(Mismatch(index: index, analytic: analytic[index], numeric: numeric))
            }
        }
        return found
    }
}
