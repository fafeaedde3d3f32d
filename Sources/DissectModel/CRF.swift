// TEMPORARY STUB until the CRF branch is merged.
import DissectCore
public enum LinearChainCRF {
    public static func scratchCount(steps: Int, labels: Int) -> Int { 0 }
    public static func negativeLogLikelihood<T: Scalar>(
        emissions: UnsafePointer<T>, steps: Int, labels: Int, gold: UnsafePointer<Int32>, transitions: UnsafePointer<T>,
        emissionGradient: UnsafeMutablePointer<T>?, transitionGradient: UnsafeMutablePointer<T>?, scratch: UnsafeMutablePointer<Double>
    ) -> Double { 0 }
    public static func viterbi<T: Scalar>(
        emissions: UnsafePointer<T>, steps: Int, labels: Int, transitions: UnsafePointer<T>, into path: UnsafeMutablePointer<Int32>,
        scratch: UnsafeMutablePointer<Double>) {}
}
extension LinearChainCRF {
    public static let tensorName = "crf.transitions"
}
extension LinearChainCRF {
    public static func initialTransitions(labels m: Int) -> [Float] {
        var t = [Float](repeating: 0, count: (m + 2) * (m + 2))
        for i in 0..<(m + 2) { t[i * (m + 2) + m] = -10000; t[(m + 1) * (m + 2) + i] = -10000 }
        return t
    }
}
