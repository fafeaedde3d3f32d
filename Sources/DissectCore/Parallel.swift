import Dispatch

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
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let shard = body
        // Each worker takes every `workers`-th shard, so every shard still runs exactly once.
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) { shard(index) }
        }
    }
}
