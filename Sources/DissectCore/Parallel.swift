import Dispatch

/// Runs `body(shard)` for `shard` in 0..<count on the machine's cores and
/// returns when all are done. Work is split by the caller into fixed shards,
/// so results never depend on scheduling.
///
/// `body` is not `@Sendable`: callers hand it buffers that each shard writes
/// only its own part of, which the compiler cannot see. That contract is what
/// makes sharing it across threads safe, so it is stated here once
/// (`nonisolated(unsafe)`) instead of at every caller.
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let shard = body
        DispatchQueue.concurrentPerform(iterations: count) { shard($0) }
    }
}
