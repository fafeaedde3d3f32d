import Dispatch
import Foundation
import Synchronization

/// How many threads `parallelFor` may use at once (`--threads`).
public enum Parallelism {
    /// Set once by the command line before any work starts; 0 means one thread per shard.
    nonisolated(unsafe) public static var threadLimit = 0
    /// More threads than this is a typing mistake on any machine dissect runs on.
    public static let largestThreadLimit = 1024
}

/// Runs `body(shard)` for `shard` in 0..<count on the machine's cores and
/// returns when all are done. Work is split by the caller into fixed shards,
/// so results never depend on scheduling, and the thread cap
/// (`Parallelism.threadLimit`) only changes how many shards run at once: with
/// a cap of 1 they run one after another, on the caller's thread.
///
/// The threads are the process's `SharedThreads` team, which waits for work
/// spinning for about a millisecond before it sleeps: callers here run many
/// calls of a millisecond or less one after another (a batch, a chunk of
/// sentences), and a pool that lets its threads sleep between them (Dispatch's
/// `concurrentPerform`, used before) woke them on this project's virtual
/// machine too late to take a shard. A call made while the team is busy (from
/// inside another call's body, or from a second thread) runs on Dispatch.
///
/// `body` is not `@Sendable`: callers hand it buffers that each shard writes
/// only its own part of, which the compiler cannot see. That contract is what
/// makes sharing it across threads safe, so it is stated here once
/// (`nonisolated(unsafe)`) instead of at every caller.
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    let limit = Parallelism.threadLimit
    let workers = limit > 0 ? min(count, limit) : count
    if workers <= 1 {
        for shard in 0..<max(0, count) { body(shard) }
        return
    }
    if let team = SharedThreads.claim() {
        defer { SharedThreads.release() }
        let members = min(workers, team.size)
        // Member m takes every `members`-th shard, so every shard still runs exactly once.
        team.run(members: members) { member in
            for index in stride(from: member, to: count, by: members) { body(index) }
        }
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let shard = body
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) { shard(index) }
        }
    }
}

/// The process's team for `parallelFor`: one member per core (at most 64), started on first use,
/// held by one call at a time.
enum SharedThreads {
    static let team = ThreadTeam(size: max(1, min(64, ProcessInfo.processInfo.activeProcessorCount)))
    static let busy = Atomic<Bool>(false)

    /// The team, or nil while another call holds it.
    static func claim() -> ThreadTeam? {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged ? team : nil
    }

    static func release() { busy.store(false, ordering: .releasing) }
}
