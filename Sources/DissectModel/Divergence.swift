import DissectKernels

/// Why training had to stop: a loss, gradient or weight that is no longer a
/// finite number. Training stops at the batch where it is found, before that
/// batch's optimizer step when the loss or the gradient is at fault.
public struct Divergence: Sendable, Equatable, CustomStringConvertible {
    public enum Quantity: Sendable, Equatable {
        /// The batch's summed loss.
        case loss
        /// The batch's gradient (the summed dense gradient or a touched word-embedding row).
        case gradient
        /// A weight after the optimizer step (a finite gradient times a huge learning rate).
        case weights
    }

    /// NaN or infinite (the kernels' `NonFiniteValue`, which finds it).
    public typealias Value = NonFiniteValue

    /// The epoch, counted from 1.
    public var epoch: Int
    /// The batch within the epoch, counted from 1.
    public var batch: Int
    public var quantity: Quantity
    public var value: Value

    public init(epoch: Int, batch: Int, quantity: Quantity, value: Value) {
        self.epoch = epoch
        self.batch = batch
        self.quantity = quantity
        self.value = value
    }

    /// "loss is NaN", "gradient is infinite", "weights are NaN", ...
    public var what: String {
        let noun: String, verb: String
        switch quantity {
        case .loss: (noun, verb) = ("loss", "is")
        case .gradient: (noun, verb) = ("gradient", "is")
        case .weights: (noun, verb) = ("weights", "are")
        }
        return "\(noun) \(verb) \(value == .nan ? "NaN" : "infinite")"
    }

    /// "training diverged in epoch E, batch B (loss is NaN)", the problem half of the error line.
    public var description: String { "training diverged in epoch \(epoch), batch \(batch) (\(what))" }
}

