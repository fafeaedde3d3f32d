import Testing
import DissectCore

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
