import DissectCore
import DissectKernels

/// The shards of one trainer that share each batched LSTM recurrence, one
/// thread each (`RecurrenceShare`): member m computes the hidden units
/// `RecurrenceShare.units(member: m, …)` of every shard's sentences. Each
/// shard publishes its parts in `members` before a recurrence; the kernel's
/// barriers order the reads.
public final class RecurrenceTeam<T: Scalar> {
    public let threads: ThreadTeam
    let members: UnsafeMutablePointer<RecurrenceMember<T>>

    /// - Parameter size: shards sharing each recurrence, 1 … 64 (each gets a thread).
    public init(size: Int) {
        threads = ThreadTeam(size: size)
        members = .allocate(capacity: size)
    }

    deinit { members.deallocate() }

    public var size: Int { threads.size }

    /// Whether a trainer's shards share their recurrences by default: LSTM layers of at least
    /// `sharedThreshold` units per direction (batched by `RecurrenceKernel.rule`). It depends on the
    /// configuration only, and the result is the same bits either way.
    public static func shares(cell: CellKind, hiddenSize: Int) -> Bool {
        cell == .lstm && hiddenSize >= sharedThreshold && RecurrenceKernel.rule(cell: cell, hiddenSize: hiddenSize) == .batched
    }

    /// Measured on this project's 2-core Xeon (2 MB L2 per core), one epoch of 3,000 sentences, batch 10,
    /// medians of 4–6 alternating runs, sentences/s alone → shared: LSTM 200: 1,954 → 1,518 (a step's
    /// work is too small for a barrier per step, and each core's whole W_hh, 0.64 MB, fits its L2 anyway);
    /// LSTM 400: 512 → 588 (+15 %; +20 % over the previous main's 492), where W_hh (2.56 MB) does not fit.
    public static var sharedThreshold: Int { 256 }
}
