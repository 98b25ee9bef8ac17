// CLeakTrack: the agent's tracking allocator core.
//
// This header is the only part of the core that Swift (and C code linked in the same process)
// sees. Every read function here is safe to call from any thread at any time; none of them is
// meant for a hot path. The interposed libc entry points live in the LeakAgentHooks target.
#ifndef CLEAKTRACK_H
#define CLEAKTRACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LT_MAX_FRAMES 48
#define LT_SIZE_CLASS_COUNT 48

// Process-wide counters, folded from every thread's own counters on read.
// Bytes are the allocator's usable size of each block (malloc_usable_size of the allocator the
// process would have used), the memory a block really holds. Crosses into Swift by value.
typedef struct lt_stats {
    uint64_t total_allocated_bytes;
    uint64_t current_bytes;
    uint64_t peak_bytes;
    uint64_t allocation_count;
    uint64_t free_count;
    uint64_t blocks_outstanding;
    /// The agent's own threads' heap use (shipper, symbolizer), kept out of the numbers above.
    uint64_t agent_current_bytes;
    uint64_t agent_allocation_count;
    /// Memory the core holds for itself: what it maps (thread states, sample tables), never seen by
    /// malloc, and the records in front of live sampled blocks (32 bytes, or the alignment asked for).
    uint64_t tracker_mapped_bytes;
    uint64_t sample_mean_bytes;
    uint64_t live_threads;
    uint64_t retired_threads;
    uint64_t sampled_live_allocations;
    /// Upper bound on |peak_bytes - true peak| at this moment (see docs/AGENT.md).
    uint64_t peak_error_bound_bytes;
    /// Non-zero once an interposed malloc-family call has been seen.
    int32_t hooks_active;
    int32_t reserved;
} lt_stats;
_Static_assert(sizeof(lt_stats) == 15 * 8, "lt_stats layout is read by Swift");

/// One log-spaced size class: sizes in [lower_bound, upper_bound].
typedef struct lt_size_class {
    uint64_t lower_bound_bytes;
    uint64_t upper_bound_bytes;
    uint64_t count;
    uint64_t bytes;
} lt_size_class;
_Static_assert(sizeof(lt_size_class) == 32, "lt_size_class layout is read by Swift");

typedef struct lt_size_count {
    uint64_t size;
    uint64_t count;
} lt_size_count;
_Static_assert(sizeof(lt_size_count) == 16, "lt_size_count layout is read by Swift");

/// One allocation site (a distinct stack) with its sampled estimates.
/// Estimates are unbiased: a sampled block of s bytes at mean interval T stands for
/// s / (1 - exp(-s/T)) bytes; with T = 1 every allocation is recorded and they are exact.
typedef struct lt_site {
    uint64_t stack_id;
    uint64_t live_bytes;
    uint64_t live_objects;
    uint64_t allocated_bytes;
    uint64_t allocated_objects;
    /// For a tagged allocation (lt_tagged_malloc): where it was made; NULL otherwise.
    const char *tag_file;
    const char *tag_function;
    int64_t tag_line;
    int32_t frame_count;
    int32_t reserved;
    /// Return addresses, innermost first (the caller of malloc is frames[0]).
    uintptr_t frames[LT_MAX_FRAMES];
} lt_site;
_Static_assert(sizeof(lt_site) == 72 + 8 * LT_MAX_FRAMES, "lt_site layout is read by Swift");

#define LT_BUILD_ID_MAX 32

/// One loaded ELF object with code (the main program, shared libraries, the loader).
typedef struct lt_image {
    /// Added to a file's virtual addresses where the object is loaded: an address minus the bias
    /// is what addr2line and the object's symbol table take. 0 for an ET_EXEC program.
    uint64_t load_bias;
    /// Where the object's first loaded segment is (its ELF header, for any ordinary object),
    /// and the end of its last executable segment, as loaded.
    uint64_t mapped_start;
    uint64_t text_end;
    /// The loader's own string ("" for the main program, a soname for the vDSO): valid while the
    /// object stays loaded (an unloaded one's, until 16 more are), so copy it at once.
    const char *path;
    uint8_t build_id[LT_BUILD_ID_MAX];
    uint32_t build_id_size;
    int32_t reserved;
} lt_image;

/// Fills `out` with up to `capacity` loaded objects, then the last ones the program unloaded
/// (dlclose) whose addresses no loaded object has taken since, and returns how many there are
/// (more than `capacity` means call again with more room). Takes the loader's lock: not for a hook.
int lt_read_images(lt_image *out, int capacity);

void lt_read_stats(lt_stats *out);
/// Size classes and top sizes are estimated from the sampled allocations (exact when T = 1).
/// Fills up to `capacity` classes (LT_SIZE_CLASS_COUNT covers all); returns how many were written.
int lt_read_size_classes(lt_size_class *out, int capacity);
/// The most frequent exact allocation sizes, most frequent first; returns how many were written.
int lt_read_top_sizes(lt_size_count *out, int capacity);
/// Every site with live sampled allocations or sampled history; returns the number of sites that
/// exist (which may exceed `capacity`: call again with a larger buffer).
int lt_read_sites(lt_site *out, int capacity);

/// Sample mean interval T in bytes: 0 records no stacks, 1 records every allocation.
/// Takes effect for each thread at its next sampling decision.
void lt_set_sample_mean_bytes(uint64_t bytes);
uint64_t lt_sample_mean_bytes(void);

/// Marks the calling thread as one of the agent's own: its allocations are counted apart
/// (agent_current_bytes) and never sampled, so the agent never shows as the application's growth.
void lt_thread_mark_agent(void);

/// Suspends sampling on the calling thread while the agent reads or reports on that thread, so
/// its own transient buffers never appear as sites. Counting goes on. Calls nest.
void lt_thread_pause_sampling(void);
void lt_thread_resume_sampling(void);

/// Names the calling thread (at most 15 characters show in ps and /proc).
void lt_thread_set_name(const char *name);

/// Tagged allocations (the seed's DEBUG_MALLOC): always recorded, reported as a site of their own
/// named by file, line and function. Free them with free() (hooks installed) or lt_tagged_free.
void *lt_tagged_malloc(size_t size, const char *file, int line, const char *function);
void *lt_tagged_calloc(size_t count, size_t size, const char *file, int line, const char *function);
void lt_tagged_free(void *pointer);

#define LT_MALLOC(size) lt_tagged_malloc((size), __FILE__, __LINE__, __func__)
#define LT_CALLOC(count, size) lt_tagged_calloc((count), (size), __FILE__, __LINE__, __func__)
#define LT_FREE(pointer) lt_tagged_free(pointer)

/// The guarded pool (LEAKWATCH_GUARD_SAMPLE): what it holds and what it caught. Crosses into Swift
/// by value, for the agent's events and the benchmark.
typedef struct lt_guard_stats {
    uint64_t sample;              // one allocation in `sample` goes to the pool; 0: off
    uint64_t slot_count;          // 0 while the pool is off
    uint64_t mapped_bytes;        // the pool's mapping, guard pages included
    uint64_t guarded_allocations; // placed in the pool since start
    uint64_t pool_full;           // due a slot but none was free: served by the allocator instead
    uint64_t live_blocks;
    uint64_t quarantined_slots;
    uint64_t retired_slots;       // an error was reported on them: never used again
    uint64_t errors_reported;
} lt_guard_stats;
_Static_assert(sizeof(lt_guard_stats) == 9 * 8, "lt_guard_stats layout is read by Swift");

void lt_read_guard_stats(lt_guard_stats *out);

#define LT_GUARD_FRAMES 32

/// What the guarded pool caught (LT_GUARD_ERROR_*): the kinds of AddressSanitizer's reports.
enum lt_guard_error_kind {
    LT_GUARD_ERROR_WILD_ACCESS = 0, // into the pool, near no block
    LT_GUARD_ERROR_OVERFLOW = 1,
    LT_GUARD_ERROR_UNDERFLOW = 2,
    LT_GUARD_ERROR_USE_AFTER_FREE = 3,
    LT_GUARD_ERROR_DOUBLE_FREE = 4,
    LT_GUARD_ERROR_INVALID_FREE = 5,
};
enum lt_guard_access { LT_GUARD_ACCESS_UNKNOWN = 0, LT_GUARD_ACCESS_READ = 1, LT_GUARD_ACCESS_WRITE = 2, LT_GUARD_ACCESS_FREE = 3 };

/// One error as the fault handler (or free) recorded it, with raw return addresses, for the
/// agent's reporter thread to name, print and ship. Crosses into Swift by value.
typedef struct lt_guard_error {
    uint64_t sequence;      // 1, 2, ... in the order caught
    uint64_t address;       // the faulting address (the pointer freed, for a bad free)
    int64_t offset;         // from the block's first byte; negative before it
    uint64_t block_address; // 0 when no block is near
    uint64_t block_size;    // as requested
    int32_t kind;           // lt_guard_error_kind
    int32_t access;         // lt_guard_access
    int32_t thread;         // the faulting (or freeing) thread's id
    int32_t crash;          // 1: the process dies once the error is settled (LEAKWATCH_GUARD_MODE=crash)
    int32_t access_frame_count, allocation_frame_count, free_frame_count, allocation_thread;
    int32_t free_thread, reserved;
    uint64_t access_frames[LT_GUARD_FRAMES];     // innermost first; frame 0 of a fault is its pc
    uint64_t allocation_frames[LT_GUARD_FRAMES]; // return addresses, the caller of malloc first
    uint64_t free_frames[LT_GUARD_FRAMES];       // when the block was freed
} lt_guard_error;
_Static_assert(sizeof(lt_guard_error) == 80 + 3 * 8 * LT_GUARD_FRAMES, "lt_guard_error layout is read by Swift");

/// The descriptor the agent's reporter thread polls: after recording an error the fault handler
/// (async-signal-safe) writes one byte to it. -1, the default and a forked child's until its agent
/// starts again, means nobody reports: the handler's raw report on stderr is all, and nothing waits.
void lt_guard_set_reporter(int wake_descriptor);
/// Moves the oldest recorded error into `out`; 0 when there is none.
int lt_guard_take_error(lt_guard_error *out);
/// The error of `sequence` has reached the collector, or cannot: a thread dying of it
/// (crash mode) stops waiting. Without this call it waits at most LT_GUARD_SETTLE_MILLISECONDS.
void lt_guard_error_settled(uint64_t sequence);
#define LT_GUARD_SETTLE_MILLISECONDS 2000

/// Brackets the shipper thread's work between waits: a fork waits until it is done (see fork.c).
void lt_agent_work_begin(void);
void lt_agent_work_end(void);
/// Whether the child of a fork starts the agent again (set while the agent ships).
void lt_set_restart_after_fork(int enabled);
/// What writes the report at exit when LEAKWATCH_REPORT is set, and what starts the agent again
/// on a thread of its own in the child of a fork: LeakAgent's `leakwatch_write_exit_report` and
/// `leakwatch_after_fork_in_child`, set by the hooks where the agent is linked in and by the
/// preload library's loader where it is loaded later.
void lt_set_exit_report_writer(void (*write)(void));
void lt_set_fork_restarter(void (*restart)(void));

#ifdef __cplusplus
}
#endif
#endif
