// A Swift program linked with LeakAgentHooks. Like the C fixture, each mode checks the agent's
// numbers against a sequence whose effect is known exactly, prints what it measured, and exits 0
// only when every check held; `classleak` leaks class instances for the exit report; `overflow`
// writes past an UnsafeMutablePointer's allocation for the guarded pool to catch.
import LeakAgent
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// glibc's <malloc.h> is not part of the Glibc module.
@_silgen_name("malloc_usable_size")
func malloc_usable_size(_ pointer: UnsafeMutableRawPointer?) -> Int

nonisolated(unsafe) var failures = 0

func check(_ label: String, _ actual: UInt64, _ expected: UInt64) {
    print("\(label)=\(actual) expected=\(expected)\(actual == expected ? "" : "  MISMATCH")")
    if actual != expected { failures += 1 }
}

final class LeakyNode {
    var payload: (Int, Int, Int, Int, Int, Int) = (1, 2, 3, 4, 5, 6)
    var next: LeakyNode?
    init(next: LeakyNode? = nil) { self.next = next }
}

final class Session {
    var identifier: Int
    var scratch: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    init(identifier: Int) { self.identifier = identifier }
}

struct Delta {
    var allocated: UInt64 = 0, freed: UInt64 = 0, allocations: UInt64 = 0, frees: UInt64 = 0
}

/// The raw C allocation family from Swift, then class instances: counted with their usable size.
@inline(never)
func exactSequence(objects: UnsafeMutableBufferPointer<Unmanaged<Session>>) -> Delta {
    var delta = Delta()
    var blocks: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) = (nil, nil, nil)
    blocks.0 = malloc(100)
    blocks.1 = calloc(12, 34)
    blocks.2 = malloc(70_000)
    delta.allocated += UInt64(malloc_usable_size(blocks.0) + malloc_usable_size(blocks.1) + malloc_usable_size(blocks.2))
    delta.allocations += 3
    let before = UInt64(malloc_usable_size(blocks.0))
    blocks.0 = realloc(blocks.0, 4000)
    delta.freed += before
    delta.frees += 1
    delta.allocated += UInt64(malloc_usable_size(blocks.0))
    delta.allocations += 1
    for index in 0..<objects.count {
        let object = Unmanaged.passRetained(Session(identifier: index))
        objects[index] = object
        delta.allocated += UInt64(malloc_usable_size(object.toOpaque()))
        delta.allocations += 1
    }
    for index in stride(from: 0, to: objects.count, by: 2) {
        delta.freed += UInt64(malloc_usable_size(objects[index].toOpaque()))
        delta.frees += 1
        objects[index].release()
    }
    delta.freed += UInt64(malloc_usable_size(blocks.1))
    delta.frees += 1
    free(blocks.1)
    return delta
}

func modeExact() -> Int32 {
    let objects = UnsafeMutableBufferPointer<Unmanaged<Session>>.allocate(capacity: 1000)
    // Warm-up: the first run instantiates metadata and lazily allocated runtime state.
    _ = exactSequence(objects: objects)
    let before = LeakAgent.stats()
    let delta = exactSequence(objects: objects)
    let after = LeakAgent.stats()
    check("hooksInstalled", LeakAgent.hooksInstalled ? 1 : 0, 1)
    check("allocationCount", after.allocationCount - before.allocationCount, delta.allocations)
    check("freeCount", after.freeCount - before.freeCount, delta.frees)
    check("totalAllocatedBytes", after.totalAllocatedBytes - before.totalAllocatedBytes, delta.allocated)
    check("currentBytes", after.currentBytes - before.currentBytes, delta.allocated - delta.freed)
    check("blocksOutstanding", after.blocksOutstanding - before.blocksOutstanding, delta.allocations - delta.frees)
    check("peakErrorBound", after.peakErrorBoundBytes, 0)
    return failures == 0 ? 0 : 1
}

// --- leaks for the exit report: class instances at two functions ---
@inline(never)
func leakNodes(count: Int) {
    for _ in 0..<count { _ = Unmanaged.passRetained(LeakyNode()) }
}

@inline(never)
func openSessions(count: Int) {
    for index in 0..<count { _ = Unmanaged.passRetained(Session(identifier: index)) }
}

func modeClassLeak() -> Int32 {
    leakNodes(count: 300)
    openSessions(count: 200)
    // Sizes the test compares against: the usable size of one instance of each.
    let node = LeakyNode(), session = Session(identifier: 0)
    print("nodeUsableBytes=\(malloc_usable_size(Unmanaged.passUnretained(node).toOpaque()))")
    print("sessionUsableBytes=\(malloc_usable_size(Unmanaged.passUnretained(session).toOpaque()))")
    withExtendedLifetime((node, session)) {}
    return 0
}

@inline(never)
func allocateCounters(_ count: Int) -> UnsafeMutablePointer<Int32> {
    let counters = UnsafeMutablePointer<Int32>.allocate(capacity: count)
    counters.initialize(repeating: 0, count: count)
    return counters
}

@inline(never)
func countPastEnd(_ counters: UnsafeMutablePointer<Int32>, count: Int) {
    counters[count] = 1 // one element too far: the bug
}

/// Whether the byte at `address` cannot be read, without touching it: write(2) says EFAULT.
func unreadable(_ address: UnsafeRawPointer) -> Bool {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return false }
    defer { close(ends[0]); close(ends[1]) }
    return write(ends[1], address, 1) < 0 && errno == EFAULT
}

/// Started from the environment (LEAKWATCH_GUARD_SAMPLE=1 sends every allocation to the guarded
/// pool while it has slots), counts one Int32 past eight: the agent reports a heap-buffer-overflow
/// 0 bytes after a 32-byte block (malloc's 16-byte alignment would hide a shorter overrun of a
/// 24-byte one in the slot's padding) and, in recover mode, the program runs on. With a second
/// argument, waits first (60 s at most) for that file: the test creates it once the agent has shipped.
func modeOverflow() -> Int32 {
    LeakAgent.startFromEnvironment()
    if CommandLine.arguments.count > 2 {
        for _ in 0..<6000 where access(CommandLine.arguments[2], F_OK) != 0 { usleep(10_000) }
    }
    // The Swift runtime keeps blocks of its own in the pool: allocate until one is guarded.
    var counters = allocateCounters(8)
    var attempts = 1
    while !unreadable(UnsafeRawPointer(counters + 8)) && attempts < 1000 {
        counters = allocateCounters(8)
        attempts += 1
    }
    print("guarded=\(unreadable(UnsafeRawPointer(counters + 8)) ? 1 : 0)")
    fflush(nil)
    countPastEnd(counters, count: 8)
    counters.deallocate()
    print("survived")
    return 0
}

let mode = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
let status: Int32
switch mode {
case "exact": status = modeExact()
case "classleak": status = modeClassLeak()
case "overflow": status = modeOverflow()
default:
    print("usage: LeakFixtureSwift exact|classleak|overflow")
    exit(2)
}
print("result=\(status == 0 ? "ok" : "failed")")
exit(status)
