// Shared internals of the tracking allocator, by file. Nothing here crosses into Swift. What the
// hooks inline as well (the thread block, the next allocator, the fast paths) is in
// include/CLeakTrackFastPaths.h.
#ifndef LT_INTERNAL_H
#define LT_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "include/CLeakTrackFastPaths.h"

#if defined(__has_attribute) && __has_attribute(preserve_most) && defined(__clang__)
#define LT_PRESERVE_MOST __attribute__((preserve_most))
#else
#define LT_PRESERVE_MOST
#endif

/// Counters of threads that have exited, and of orphan allocations, updated under the registry
/// lock or with atomics (both rare).
typedef struct lt_totals {
    _Atomic uint64_t allocation_count;
    _Atomic uint64_t allocated_bytes;
    _Atomic uint64_t free_count;
    _Atomic uint64_t freed_bytes;
    _Atomic uint64_t agent_allocated_bytes;
    _Atomic uint64_t agent_freed_bytes;
    _Atomic uint64_t agent_allocation_count;
} lt_totals;

/// Net bytes the thread has allocated since its last publish.
static inline int64_t lt_thread_pending_bytes(const lt_thread *thread) {
    return LT_LOAD(thread->pending_allocated_bytes) - LT_LOAD(thread->pending_freed_bytes);
}

// A thread's byte totals. Exact once the owner is quiet; a reader racing a publish may be off by
// that moment's pending bytes.
static inline uint64_t lt_thread_allocated_bytes(const lt_thread *thread) {
    return LT_LOAD(thread->published_allocated_bytes) + (uint64_t)LT_LOAD(thread->pending_allocated_bytes);
}
static inline uint64_t lt_thread_freed_bytes(const lt_thread *thread) {
    return LT_LOAD(thread->published_freed_bytes) + (uint64_t)LT_LOAD(thread->pending_freed_bytes);
}

// --- forward.c: the allocator the process would have used without us ---
/// The static arena dlsym's own allocations are served from while the next allocator is resolved.
#define LT_BOOTSTRAP_ARENA_BYTES (64 * 1024)
LT_HIDDEN extern unsigned char lt_bootstrap_arena[LT_BOOTSTRAP_ARENA_BYTES];
/// Inline: every free and malloc_usable_size over a foreign allocator asks it.
static inline bool lt_is_bootstrap_pointer(const void *pointer) {
    return (uintptr_t)pointer - (uintptr_t)lt_bootstrap_arena < LT_BOOTSTRAP_ARENA_BYTES;
}
/// Bytes from `pointer`, a bootstrap block, to the end of the arena.
LT_HIDDEN size_t lt_bootstrap_bytes_after(const void *pointer);
/// Whether sampled blocks carry their record in front (see samples.c): the next allocator is
/// glibc's and this library's free() is the process's.
LT_HIDDEN extern bool lt_records_in_prefix;
/// Looks up the C++ operators the process would have used (operators.c), during resolution.
LT_HIDDEN void lt_resolve_next_operators(void);
/// Resolves the next allocator if that has not happened yet; false on the thread doing it (whose
/// allocations dlsym makes), which must not register or sample.
LT_HIDDEN bool lt_resolve_next_allocator(void);

/// Asks the next allocator. Preserves every register in its callers (where the compiler can), so
/// the counting of calloc, realloc and the aligned allocations (track_allocation) keeps nothing in
/// callee-saved registers for it.
LT_HIDDEN LT_PRESERVE_MOST size_t lt_usable_size_elsewhere(void *pointer);

static inline size_t lt_usable_size(void *pointer) {
    return LT_LIKELY(lt_next_is_glibc) ? lt_glibc_usable_size(pointer) : lt_usable_size_elsewhere(pointer);
}

/// lt_usable_size for out-of-line code, which has registers to spare: the next allocator is
/// called directly, without the wrapper's saves.
static inline size_t lt_next_usable_size(void *pointer) {
    return LT_LIKELY(lt_next_is_glibc) ? lt_glibc_usable_size(pointer) : lt_next.usable_size(pointer);
}

/// Usable sizes of a foreign allocator's blocks of up to LT_SIZE_CLASSES_MAX bytes, indexed by
/// the requested size rounded up to 8 (see forward.c); all 0 when not known.
#define LT_SIZE_CLASSES_MAX 4096
LT_HIDDEN extern uint32_t lt_size_classes[LT_SIZE_CLASSES_MAX / 8 + 1];

/// The usable size of `pointer`, just returned for a request of `requested` bytes: from the size
/// class table when it holds that size (no lookup of the block), else from the next allocator.
static inline size_t lt_allocated_size(void *pointer, size_t requested) {
    if (requested <= LT_SIZE_CLASSES_MAX) {
        size_t usable = lt_size_classes[(requested + 7) >> 3];
        if (LT_LIKELY(usable != 0)) return usable;
    }
    return lt_next_usable_size(pointer);
}

// --- map.c: the operating system's memory, for everything the tracker keeps (we are malloc) ---
/// Zeroed pages of `bytes`, counted in the tracker's mapped bytes; NULL when the system has none.
LT_HIDDEN void *lt_map(size_t bytes);
LT_HIDDEN void lt_unmap(void *memory, size_t bytes);
LT_HIDDEN uint64_t lt_mapped_bytes(void);
LT_HIDDEN size_t lt_page_size(void);

// --- threads.c: per-thread state, registry, retirement ---
LT_HIDDEN extern __thread int lt_busy LT_TLS;
LT_HIDDEN extern lt_totals lt_retired;
LT_HIDDEN extern _Atomic int64_t lt_published_bytes;
LT_HIDDEN extern _Atomic uint64_t lt_peak_bytes;
LT_HIDDEN extern _Atomic int lt_hooks_seen;
LT_HIDDEN lt_thread *lt_thread_register(void);
LT_HIDDEN void lt_publish(lt_thread *self);
LT_HIDDEN void lt_count_orphan_allocation(size_t usable, bool agent);
LT_HIDDEN void lt_count_orphan_free(size_t usable);
/// Calls `visit` with the block of every registered thread, under the registry lock, and reads the
/// live and retired thread counts under the same lock.
LT_HIDDEN void lt_visit_threads(void (*visit)(const lt_thread *thread, void *context), void *context,
                                uint64_t *live_threads, uint64_t *retired_threads);
LT_HIDDEN void lt_registry_lock(void);
LT_HIDDEN void lt_registry_unlock(void);
LT_HIDDEN void lt_registry_reinit_after_fork(void);

// --- patterns.c: allocation patterns, counted from the samples ---
#define LT_SAMPLED_SIZE_SLOTS 256
/// Requested sizes and usable-size classes, counted from samples and weighted like sites (exact at
/// T = 1): each shard of the sample table keeps one, under the shard's lock. A count per distinct
/// size on every allocation would cost the fast path a store to a line it rarely owns.
typedef struct lt_patterns {
    _Alignas(LT_CACHE_LINE) lt_size_count sizes[LT_SAMPLED_SIZE_SLOTS]; // space-saving; count in 1/65536 objects
    uint64_t class_count_q16[LT_SIZE_CLASS_COUNT]; // estimated allocations, in 1/65536 objects
    uint64_t class_bytes[LT_SIZE_CLASS_COUNT];     // estimated usable bytes
} lt_patterns;
/// Counts a sample of `size` bytes requested, `usable` held, standing for objects_q16 / 65536 allocations.
LT_HIDDEN void lt_count_patterns(lt_patterns *patterns, size_t size, size_t usable, uint64_t objects_q16);
/// The lock of the readers' merge table, taken before any shard's (fork.c).
LT_HIDDEN void lt_patterns_lock(void);
LT_HIDDEN void lt_patterns_unlock(void);
LT_HIDDEN void lt_patterns_reinit_after_fork(void);

// --- sampler.c ---
LT_HIDDEN extern _Atomic uint64_t lt_sample_mean;
/// The mean T for the core's own use (lt_sample_mean_bytes is exported and goes through the PLT).
static inline uint64_t lt_current_sample_mean(void) {
    return atomic_load_explicit(&lt_sample_mean, memory_order_relaxed);
}
/// A gap drawn from the exponential distribution of mean `mean` (> 1), in bytes.
LT_HIDDEN int64_t lt_exponential_gap(lt_thread *self, uint64_t mean);
/// The bytes and objects (x 2^16) a sample of `size` (> 0) bytes stands for at mean `mean` (> 1).
LT_HIDDEN void lt_unbiased_weight(size_t size, uint64_t mean, uint64_t *bytes, uint64_t *objects_q16);

/// The bytes the calling thread allocates before its next sample: none with T = 0, 0 (every
/// allocation) with T = 1, else an exponential gap. Inline for T = 1, where it runs per allocation.
static inline int64_t lt_next_sample_gap(lt_thread *self) {
    uint64_t mean = lt_current_sample_mean();
    if (mean <= 1) return mean == 0 ? INT64_MAX : 0;
    return lt_exponential_gap(self, mean);
}

/// What one sample of `size` bytes taken at mean `mean` stands for: itself alone at T <= 1.
static inline void lt_sample_weight(size_t size, uint64_t mean, uint64_t *bytes, uint64_t *objects_q16) {
    if (mean <= 1 || size == 0) {
        *bytes = size;
        *objects_q16 = 1u << 16;
        return;
    }
    lt_unbiased_weight(size, mean, bytes, objects_q16);
}
LT_HIDDEN void lt_sampler_configure_from_environment(void);
/// exponential.c: ln x and e^x - 1 to double precision, for the sampler, without libm.
LT_HIDDEN double lt_log(double x);
LT_HIDDEN double lt_expm1(double x);

// --- stackwalk.c ---
/// The loaded object `address` lies in (its start) and its file name; false if none.
LT_HIDDEN bool lt_find_object(void *address, const void **object, const char **name);
LT_HIDDEN int lt_stack_walk(uintptr_t frame_pointer, uintptr_t stack_high, uintptr_t *frames, int capacity);
LT_HIDDEN uintptr_t lt_current_stack_high(void);

// --- unwind.c: sampled stacks through code without frame pointers ---
//
// Whether the function at a return address keeps a frame pointer there, learnt from the unwinder:
// a direct-mapped table of (address << 1 | kept), 0 when empty. Racing writers each store a whole
// word, so a reader sees one verdict or another, never a mix; a lost verdict is learnt again.
#define LT_VERDICT_SLOTS 4096u
LT_HIDDEN extern uint64_t lt_frame_pointer_verdicts[LT_VERDICT_SLOTS];
static inline unsigned lt_verdict_slot(uintptr_t return_address) {
    return (unsigned)((return_address * 0x9E3779B97F4A7C15ull) >> 52) & (LT_VERDICT_SLOTS - 1);
}
/// Whether the walk's step above `return_address` (frames[0]) is known to be right: its function
/// keeps a frame pointer. False when that is not known yet.
static inline bool lt_frame_pointer_kept(uintptr_t return_address) {
    return LT_LOAD(lt_frame_pointer_verdicts[lt_verdict_slot(return_address)]) == (((uint64_t)return_address << 1) | 1);
}
/// Looks up the toolchain's unwinder (libgcc_s's _Unwind_Backtrace); called while the next
/// allocator is resolved, when dlsym's allocations are served from the bootstrap arena.
LT_HIDDEN void lt_resolve_unwinder(void);
/// Unwinds the stack of the entry point whose frame record is at `entry_frame` with the unwinder,
/// handing over to the walk at the first frame that keeps a frame pointer, into `frames`; the
/// verdicts learnt on the way are remembered. Returns the frame count and sets `unwound`; or
/// returns `walked` with `frames` untouched (the walk's stack) when there is no unwinder or it does
/// not reach the walk's first frame.
LT_HIDDEN int lt_unwind_stack(uintptr_t entry_frame, uintptr_t stack_high, uintptr_t *frames, int capacity, int walked,
                              bool *unwound);

// --- spin locks for the sample tables: critical sections of a few dozen instructions, where a
// futex round trip would cost more than the section itself ---
/// Tells the core it spins (the other hyperthread runs, power drops): each architecture's hint.
static inline void lt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

typedef _Atomic int lt_spin_lock;
static inline void lt_spin_acquire(lt_spin_lock *lock) {
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(lock, memory_order_relaxed) &&
            !atomic_exchange_explicit(lock, 1, memory_order_acquire)) {
            return;
        }
        if (spins < 64) {
            lt_cpu_relax();
        } else {
            sched_yield(); // the holder was descheduled
        }
    }
}
static inline void lt_spin_release(lt_spin_lock *lock) { atomic_store_explicit(lock, 0, memory_order_release); }

/// Set on the thread that holds every table lock across fork: its frees must not take them again.
LT_HIDDEN extern __thread bool lt_holding_tables LT_TLS;
/// A sample-table lock (a counter shard's, a sample-set shard's), skipped by the forking thread
/// that already holds them all.
static inline void lt_table_acquire(lt_spin_lock *lock) {
    if (!lt_holding_tables) lt_spin_acquire(lock);
}
static inline void lt_table_release(lt_spin_lock *lock) {
    if (!lt_holding_tables) lt_spin_release(lock);
}

typedef struct lt_tag {
    const char *file;
    const char *function;
    int line;
} lt_tag;

// --- sites.c: one immutable record per distinct stack, found without a lock ---
#define LT_MAX_SITES (1u << 16)
/// The site of a stack, created on first sight; site 0 stands for every stack past LT_MAX_SITES.
/// UINT32_MAX when the tracker cannot map memory.
LT_HIDDEN uint32_t lt_site_for_stack(const uintptr_t *frames, int count, const lt_tag *tag);
LT_HIDDEN uint32_t lt_site_count(void);
/// Copies a site's identity (stack id, frames, tag) into `out`; counters are left alone.
LT_HIDDEN void lt_site_describe(uint32_t site, lt_site *out);
LT_HIDDEN void lt_sites_lock(void);
LT_HIDDEN void lt_sites_unlock(void);
LT_HIDDEN void lt_sites_reinit_after_fork(void);

// --- samples.c: sampled allocations and the per-site counters they feed ---
//
// Each sampled block has a record: its site, its weight, the shard that counts it. Where the
// record lives (lt_records_in_prefix):
// * glibc, with this library's free() the process's: in front of the block. The application gets
//   a pointer `offset` bytes into the block glibc returned (LT_SAMPLE_PREFIX_BYTES, or the
//   alignment asked for if larger), and the record ends just before that pointer, its last word
//   where glibc keeps a chunk's size. That word holds
//   LT_SAMPLE_MARKER, whose bit 3 no glibc chunk size has (chunks are multiples of 16): so free()
//   tells a sampled block from the header word it reads anyway, with no lookup.
// * otherwise: in the sample set (sampleset.c), keyed by the unmoved pointer. Other allocators
//   have entry points of their own (jemalloc's sallocx, dallocx...) that must only ever see the
//   pointers they returned, and without the hooks linked (tagged allocations only) glibc's own
//   free() may be handed the block. Threads then carry LT_THREAD_SLOW_FREE.
//
// The counters sit in LT_SHARDS shards, each with its own spin lock; a thread counts its samples
// in the shard it was given at registration, and the record names the shard, so a free from any
// thread finds it.
#define LT_SHARD_BITS 4
#define LT_SHARDS (1u << LT_SHARD_BITS)
#define LT_SAMPLE_PREFIX_BYTES 32
#define LT_SAMPLE_MARKER ((size_t)0x4C570000000000A8ull) // bit 3 set; "LW" in the top bytes
_Static_assert(LT_SAMPLE_MARKER & LT_GLIBC_SIZE_UNUSED_BIT, "free() tells a sampled block by this bit");
typedef struct lt_sample_record {
    uint64_t weight_bytes;
    uint64_t weight_objects_q16;
    uint32_t site; // UINT32_MAX: not counted (the tracker could not map memory)
    uint8_t shard;
    uint8_t offset_shift; // in a prefix: log2 of the distance back to the allocator's block
    uint16_t reserved;
    size_t marker; // in a prefix: LT_SAMPLE_MARKER
} lt_sample_record;
_Static_assert(sizeof(lt_sample_record) == LT_SAMPLE_PREFIX_BYTES, "a prefix is exactly one record");

static inline lt_sample_record *lt_prefix_of(void *pointer) { return (lt_sample_record *)pointer - 1; }

/// Whether `pointer`, a glibc block the application holds (or a bootstrap one), is sampled.
static inline bool lt_glibc_block_is_sampled(const void *pointer) {
    return ((const size_t *)pointer)[-1] & LT_GLIBC_SIZE_UNUSED_BIT;
}

/// Fills in the record of a sampled allocation of `size` bytes requested, `usable` bytes held,
/// counts it, and stores it: in front of `pointer` when `offset` (the distance back to the
/// allocator's block) is not 0, else in the sample set. Returns false when the set had no room:
/// the block is then an ordinary one, not counted here.
LT_HIDDEN bool lt_record_sample(lt_thread *self, void *pointer, size_t offset, size_t size, size_t usable,
                                uintptr_t frame_pointer, const lt_tag *tag);
/// Takes a sampled block's record out of the counters.
LT_HIDDEN void lt_retire_sample(const lt_sample_record *record, size_t offset);
/// Calls `visit` with each shard's patterns, under that shard's lock.
LT_HIDDEN void lt_visit_patterns(void (*visit)(const lt_patterns *patterns, void *context), void *context);
/// All sample-table locks (sites, sample set, shards in order), for fork.
LT_HIDDEN void lt_tables_lock(void);
LT_HIDDEN void lt_tables_unlock(void);
LT_HIDDEN void lt_tables_reinit_after_fork(void);
LT_HIDDEN uint64_t lt_sampled_live_count(void);
/// Heap bytes the records in front of live sampled blocks take: the tracker's, not the application's.
LT_HIDDEN uint64_t lt_sampled_prefix_bytes(void);

// --- sampleset.c: the records of sampled blocks when they are not in front of them ---
//
// A filter with one bit per slot, set while some sampled live pointer falls there, so a free of
// an unsampled pointer mostly costs one load; behind it, the exact set of records, in shards by
// 64 MiB address region (a thread's arena heaps are its own), each with its own lock.
#define LT_FILTER_SLOT_BITS 16
LT_HIDDEN extern uint64_t lt_filter_bits[(1u << LT_FILTER_SLOT_BITS) / 64];
static inline bool lt_filter_may_contain(const void *pointer) {
    uintptr_t address = (uintptr_t)pointer;
    uint64_t word = LT_LOAD(lt_filter_bits[(address >> 10) & ((1u << (LT_FILTER_SLOT_BITS - 6)) - 1)]);
    return (word >> ((address >> 4) & 63)) & 1;
}
/// Adds `pointer`'s record; false when the set cannot grow.
LT_HIDDEN bool lt_sample_set_add(const void *pointer, const lt_sample_record *record);
/// Removes `pointer`'s record into `out`; false when it has none.
LT_HIDDEN bool lt_sample_set_remove(const void *pointer, lt_sample_record *out);
LT_HIDDEN void lt_sample_set_lock(void);
LT_HIDDEN void lt_sample_set_unlock(void);
LT_HIDDEN void lt_sample_set_reinit_after_fork(void);

// --- guard_pool.c: sampled allocations between guard pages (see the diagram there) ---
/// Maps the pool and installs the fault handler when LEAKWATCH_GUARD_SAMPLE is not 0 and the next
/// allocator is glibc's with this library's free() the process's; once, as the allocator is resolved.
/// Defined by the preload library only (weak here: a linked program has none): true when the
/// process was started with no LEAKWATCH_* variable, which then only counts (no stacks, no pool).
/// Not LT_HIDDEN: a hidden undefined weak symbol is addressed PC-relative in a PIE program and is
/// never NULL there.
bool lt_preload_unconfigured(void) __attribute__((weak));
LT_HIDDEN void lt_guard_configure_from_environment(void);
/// The thread's next guard countdown: uniform in [1, 2N-1]; UINT32_MAX while the pool is off.
LT_HIDDEN uint32_t lt_next_guard_gap(lt_thread *self);
/// A block of `size` bytes aligned to `alignment`, its end against a guard page; NULL when the pool
/// is off, full (counted), or the block would not fit one slot. Zeroed. The stack from
/// `frame_pointer` is kept for the report.
LT_HIDDEN void *lt_guard_allocate(size_t size, size_t alignment, uintptr_t frame_pointer, uintptr_t stack_high);
/// The requested size of a live pool block; SIZE_MAX for any other pointer in the pool.
LT_HIDDEN size_t lt_guard_block_size(const void *pointer);
/// Frees a pool block into quarantine; false (reported; in crash mode, never returns) for a double
/// or invalid free, which the caller then ignores.
LT_HIDDEN bool lt_guard_release(void *pointer, uintptr_t frame_pointer, uintptr_t stack_high);
/// The slot table's lock: the innermost of the tracker's (fork.c).
LT_HIDDEN void lt_guard_lock(void);
LT_HIDDEN void lt_guard_unlock(void);
LT_HIDDEN void lt_guard_reinit_after_fork(void);

// --- guard_errors.c: what the pool caught, handed to the agent's reporter (see there) ---
/// A free record of the ring, zeroed, to fill; NULL when every one waits for the reporter.
/// Async-signal-safe, as the three below.
LT_HIDDEN lt_guard_error *lt_guard_error_claim(void);
/// Numbers a filled record and makes it the reporter's; returns its sequence.
LT_HIDDEN uint64_t lt_guard_error_publish(lt_guard_error *record);
/// Wakes the reporter for error `sequence` (0: none recorded) and, when the caller is `dying` of
/// it, waits until the agent has settled it or LT_GUARD_SETTLE_MILLISECONDS pass. Does nothing
/// while no reporter runs.
LT_HIDDEN void lt_guard_error_hand_over(uint64_t sequence, bool dying);
LT_HIDDEN void lt_guard_errors_reinit_after_fork(void);

#endif
