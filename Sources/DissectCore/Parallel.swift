import Dispatch

/// Runs `body(shard)` for `shard` in 0..<count on the machine's cores and
/// returns when all are done. Work is split by the caller into fixed shards,
/// so results never depend on scheduling.
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}
