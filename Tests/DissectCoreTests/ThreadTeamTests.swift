import Testing
import DissectCore
import Foundation

/// `ThreadTeam`: every member runs, each on its own thread, and a barrier makes what one
/// member wrote before it visible to the others after it.
@Suite struct ThreadTeamTests {
    @Test(arguments: [1, 2])
    func membersMeetAtEveryBarrier(size: Int) {
        let team = ThreadTeam(size: size)
        let rounds = 1_000
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: size)
        slots.initialize(repeating: -1, count: size)
        defer { slots.deallocate() }
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: size)
        seen.initialize(repeating: 0, count: size)
        defer { seen.deallocate() }
        nonisolated(unsafe) let shared = slots, agreed = seen
        for _ in 0..<2 {
            team.run { member in
                for round in 0..<rounds {
                    shared[member] = round
                    team.barrier(member: member)
                    // Every member has written this round, and none can write the next before the second barrier.
                    var all = true
                    for other in 0..<size where shared[other] != round { all = false }
                    if all { agreed[member] += 1 }
                    team.barrier(member: member)
                }
            }
        }
        for member in 0..<size { #expect(seen[member] == 2 * rounds, "member \(member)") }
    }
}

/// The hand-off between a run and its workers: jobs posted while a worker spins and while it
/// sleeps (after `ThreadTeam.spinsBeforeSleep`) all run, exactly once each, and `run(members:)`
/// leaves the other members out.
@Suite struct ThreadTeamHandOffTests {
    @Test func everyJobRunsOnceWhetherTheWorkerSpinsOrSleeps() {
        let team = ThreadTeam(size: 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        counts.initialize(repeating: 0, count: 2)
        defer { counts.deallocate() }
        nonisolated(unsafe) let shared = counts
        var expected = 0
        for round in 0..<400 {
            // Every 50th round waits long enough (20 ms) for the worker to have gone to sleep.
            if round % 50 == 0 { usleep(20_000) }
            team.run { member in shared[member] += 1 }
            expected += 1
            #expect(counts[0] == expected && counts[1] == expected, "round \(round)")
        }
    }

    @Test func runWithFewerMembersLeavesTheOthersOut() {
        let team = ThreadTeam(size: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        counts.initialize(repeating: 0, count: 3)
        defer { counts.deallocate() }
        nonisolated(unsafe) let shared = counts
        for _ in 0..<10 { team.run(members: 2) { member in shared[member] += 1 } }
        team.run(members: 1) { member in shared[member] += 1 }
        #expect(counts[0] == 11 && counts[1] == 10 && counts[2] == 0)
    }

    /// `parallelFor` runs every shard exactly once, also when called from inside another call's
    /// body (the shared team is busy then, and the inner call goes to Dispatch).
    @Test func parallelForRunsEveryShardOnceAlsoNested() {
        let outer = 7, inner = 5
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        hits.initialize(repeating: 0, count: outer * inner)
        defer { hits.deallocate() }
        nonisolated(unsafe) let shared = hits
        parallelFor(outer) { i in
            parallelFor(inner) { j in shared[i * inner + j] += 1 }
        }
        for index in 0..<(outer * inner) { #expect(hits[index] == 1, "shard \(index)") }
    }
}
