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

    /// Whether recurrences can be shared: batched LSTM layers (`RecurrenceKernel.rule` picks the
    /// kernel); the other cells and the per-sentence kernel run each shard alone.
    public static func shares(cell: CellKind, kernel: RecurrenceKernel) -> Bool {
        cell == .lstm && kernel == .batched
    }
}
