import CMalloc

/// glibc's allocator, tuned once as the process starts.
///
/// Why: mooring's threads (the namespace threads observing, the workers parsing manifests) each allocate from a
/// malloc arena of their own, and glibc grows a thread's arena a few pages at a time with `mprotect`: 1390 calls
/// in one no-op `plan` at N = 1000, each taking the address space's lock that the other threads' page faults
/// wait on. Growing by 16 MiB at a time: 47 calls; the no-op plan 147-164 -> 124-136 ms (`perf stat -r 20`, three
/// interleaved rounds). Peak RSS is unchanged (36.9 vs 37.3 MiB at converge; 38.9 vs 39.4 MiB for `mooring run`
/// after repairs): the room reserved is resident only once touched. 8 and 32 MiB measured the same as 16.
enum MemoryAllocator {
    static func configure() {
        _ = mallopt(M_TOP_PAD, 16 << 20)
    }
}
