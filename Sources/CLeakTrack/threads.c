// Per-thread counter blocks: registration on a thread's first allocation, folding on read, and
// retirement at thread exit so that thousands of short-lived threads cost a bounded amount.
//
// Thread blocks are mapped with mmap (never malloc: we are malloc) and recycled through a free
// list. A thread past its TLS destructor points at the shared orphan block, whose counters are
// updated with atomics on the slow path.
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lt_internal.h"

static lt_thread unregistered = {.bytes_until_sample = 0, .flags = LT_THREAD_UNREGISTERED};
static lt_thread orphan = {.bytes_until_sample = 0, .flags = LT_THREAD_ORPHAN};

__thread lt_thread *lt_self LT_TLS = &unregistered;
__thread int lt_busy LT_TLS;

lt_totals lt_retired;
_Alignas(LT_CACHE_LINE) _Atomic int64_t lt_published_bytes;
_Alignas(LT_CACHE_LINE) _Atomic uint64_t lt_peak_bytes;
_Alignas(LT_CACHE_LINE) _Atomic uint64_t lt_mapped_bytes;
_Atomic int lt_hooks_seen;

// The registry lock sits on its own line: it is taken on registration, exit and read only.
static _Alignas(LT_CACHE_LINE) pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static lt_thread *registry_head;
static pthread_key_t exit_key;
static bool exit_key_ready;
static uint64_t live_threads, retired_threads;
static unsigned registrations;

lt_thread *lt_registry_first(void) { return registry_head; }

void lt_registry_lock(void) { pthread_mutex_lock(&registry_lock); }
void lt_registry_unlock(void) { pthread_mutex_unlock(&registry_lock); }
void lt_registry_reinit_after_fork(void) { pthread_mutex_init(&registry_lock, NULL); }

void *lt_map(size_t bytes) {
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return NULL;
    atomic_fetch_add_explicit(&lt_mapped_bytes, bytes, memory_order_relaxed);
    return memory;
}

static void fold_into_retired(const lt_thread *thread) {
    bool agent = thread->flags & LT_THREAD_AGENT;
    atomic_fetch_add(agent ? &lt_retired.agent_allocated_bytes : &lt_retired.allocated_bytes,
                     lt_thread_allocated_bytes(thread));
    atomic_fetch_add(agent ? &lt_retired.agent_freed_bytes : &lt_retired.freed_bytes, lt_thread_freed_bytes(thread));
    atomic_fetch_add(agent ? &lt_retired.agent_allocation_count : &lt_retired.allocation_count,
                     thread->allocation_count);
    if (!agent) atomic_fetch_add(&lt_retired.free_count, thread->free_count);
}

static void thread_exited(void *block) {
    lt_thread *thread = block;
    // Later allocations by this thread (other TLS destructors) count on the orphan block.
    lt_self = &orphan;
    if (!(thread->flags & LT_THREAD_AGENT)) lt_publish(thread);
    lt_registry_lock();
    fold_into_retired(thread);
    lt_thread *next = thread->next_in_registry;
    memset(thread, 0, sizeof *thread);
    thread->next_in_registry = next;
    live_threads--;
    retired_threads++;
    lt_registry_unlock();
}

static lt_thread *take_block(void) {
    for (lt_thread *block = registry_head; block; block = block->next_in_registry) {
        if (!block->in_use) return block;
    }
    lt_thread *block = lt_map(sizeof(lt_thread));
    if (block == NULL) return NULL;
    block->next_in_registry = registry_head;
    registry_head = block;
    return block;
}

static uint64_t seed_for_thread(const void *block) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t seed = (uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 32) ^ (uintptr_t)block ^ (uintptr_t)&now;
    return seed ? seed : 0x2545F4914F6CDD1Dull;
}

lt_thread *lt_thread_register(void) {
    lt_busy = 1; // pthread calls below may allocate; those allocations pass through untracked
    atomic_store_explicit(&lt_hooks_seen, 1, memory_order_relaxed);
    uintptr_t stack_high = lt_current_stack_high();
    lt_registry_lock();
    if (!exit_key_ready) {
        exit_key_ready = pthread_key_create(&exit_key, thread_exited) == 0;
    }
    lt_thread *block = take_block();
    if (block) {
        block->in_use = true;
        block->shard = (uint8_t)(registrations++ % LT_SHARDS);
        live_threads++;
    }
    lt_registry_unlock();
    if (block == NULL || !exit_key_ready || pthread_setspecific(exit_key, block) != 0) {
        if (block) thread_exited(block);
        lt_self = &orphan;
        lt_busy = 0;
        return &orphan;
    }
    block->stack_high = stack_high;
    if (!lt_records_in_prefix) block->flags = LT_THREAD_SLOW_FREE;
    block->random_state = seed_for_thread(block);
    block->bytes_until_sample = lt_next_sample_gap(block);
    lt_self = block;
    lt_busy = 0;
    return block;
}

void lt_thread_mark_agent(void) {
    lt_thread *self = lt_self;
    // Without the hooks nothing is counted, so there is nothing to keep apart; registering here
    // would also make the process read as hooked.
    if (!atomic_load_explicit(&lt_hooks_seen, memory_order_relaxed)) return;
    if (self->flags & LT_THREAD_UNREGISTERED) self = lt_thread_register();
    if (self->flags & (LT_THREAD_ORPHAN | LT_THREAD_AGENT)) return;
    lt_publish(self);
    // What the thread did before becoming the agent's stays the application's.
    lt_registry_lock();
    fold_into_retired(self);
    LT_STORE(self->allocation_count, 0);
    LT_STORE(self->free_count, 0);
    LT_STORE(self->published_allocated_bytes, 0);
    LT_STORE(self->published_freed_bytes, 0);
    LT_STORE(self->flags, self->flags | LT_THREAD_AGENT);
    LT_STORE(self->bytes_until_sample, INT64_MAX);
    lt_registry_unlock();
}

void lt_thread_set_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}

static void raise_peak(int64_t candidate) {
    if (candidate <= 0) return;
    uint64_t peak = atomic_load_explicit(&lt_peak_bytes, memory_order_relaxed);
    while ((uint64_t)candidate > peak &&
           !atomic_compare_exchange_weak_explicit(&lt_peak_bytes, &peak, (uint64_t)candidate, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

void lt_publish(lt_thread *self) {
    int64_t pending = lt_thread_pending_bytes(self);
    int64_t pending_peak = self->pending_peak_bytes;
    LT_STORE(self->published_allocated_bytes, self->published_allocated_bytes + (uint64_t)self->pending_allocated_bytes);
    LT_STORE(self->published_freed_bytes, self->published_freed_bytes + (uint64_t)self->pending_freed_bytes);
    LT_STORE(self->pending_allocated_bytes, 0);
    LT_STORE(self->pending_freed_bytes, 0);
    LT_STORE(self->pending_peak_bytes, 0);
    // The agent's own bytes never reach the application's current or peak.
    if (self->flags & LT_THREAD_AGENT) return;
    int64_t before = atomic_fetch_add_explicit(&lt_published_bytes, pending, memory_order_relaxed);
    raise_peak(before + pending_peak);
}

void lt_count_orphan_allocation(size_t usable, bool agent) {
    if (agent) {
        atomic_fetch_add(&lt_retired.agent_allocated_bytes, usable);
        atomic_fetch_add(&lt_retired.agent_allocation_count, 1);
        return;
    }
    atomic_fetch_add(&lt_retired.allocation_count, 1);
    atomic_fetch_add(&lt_retired.allocated_bytes, usable);
    raise_peak(atomic_fetch_add(&lt_published_bytes, (int64_t)usable) + (int64_t)usable);
}

void lt_count_orphan_free(size_t usable) {
    atomic_fetch_add(&lt_retired.free_count, 1);
    atomic_fetch_add(&lt_retired.freed_bytes, usable);
    atomic_fetch_sub(&lt_published_bytes, (int64_t)usable);
}

void lt_read_stats(lt_stats *out) {
    memset(out, 0, sizeof *out);
    uint64_t allocated = atomic_load(&lt_retired.allocated_bytes);
    uint64_t freed = atomic_load(&lt_retired.freed_bytes);
    uint64_t allocations = atomic_load(&lt_retired.allocation_count);
    uint64_t frees = atomic_load(&lt_retired.free_count);
    uint64_t agent_allocated = atomic_load(&lt_retired.agent_allocated_bytes);
    uint64_t agent_freed = atomic_load(&lt_retired.agent_freed_bytes);
    uint64_t agent_allocations = atomic_load(&lt_retired.agent_allocation_count);
    int64_t published = atomic_load(&lt_published_bytes);
    int64_t highest_pending_peak = 0;
    uint64_t application_threads = 0;

    lt_registry_lock();
    for (lt_thread *thread = registry_head; thread; thread = thread->next_in_registry) {
        if (!thread->in_use) continue;
        uint64_t thread_allocations = LT_LOAD(thread->allocation_count);
        uint64_t thread_allocated = lt_thread_allocated_bytes(thread);
        if (LT_LOAD(thread->flags) & LT_THREAD_AGENT) {
            agent_allocated += thread_allocated;
            agent_freed += lt_thread_freed_bytes(thread);
            agent_allocations += thread_allocations;
            continue;
        }
        application_threads++;
        allocated += thread_allocated;
        freed += lt_thread_freed_bytes(thread);
        allocations += thread_allocations;
        frees += LT_LOAD(thread->free_count);
        int64_t pending_peak = LT_LOAD(thread->pending_peak_bytes);
        if (pending_peak > highest_pending_peak) highest_pending_peak = pending_peak;
    }
    out->live_threads = live_threads;
    out->retired_threads = retired_threads;
    lt_registry_unlock();

    // Frees of blocks another thread allocated can briefly make one side run ahead of the other.
    out->total_allocated_bytes = allocated;
    out->current_bytes = allocated > freed ? allocated - freed : 0;
    out->allocation_count = allocations;
    out->free_count = frees;
    out->blocks_outstanding = allocations > frees ? allocations - frees : 0;
    out->agent_current_bytes = agent_allocated > agent_freed ? agent_allocated - agent_freed : 0;
    out->agent_allocation_count = agent_allocations;

    uint64_t peak = atomic_load(&lt_peak_bytes);
    int64_t unpublished_peak = published + highest_pending_peak;
    if (unpublished_peak > 0 && (uint64_t)unpublished_peak > peak) peak = (uint64_t)unpublished_peak;
    if (out->current_bytes > peak) peak = out->current_bytes;
    out->peak_bytes = peak;
    out->peak_error_bound_bytes = application_threads > 1 ? application_threads * LT_PUBLISH_BYTES : 0;

    out->tracker_mapped_bytes = atomic_load(&lt_mapped_bytes) + lt_sampled_prefix_bytes();
    out->sample_mean_bytes = lt_current_sample_mean();
    out->sampled_live_allocations = lt_sampled_live_count();
    out->hooks_active = atomic_load_explicit(&lt_hooks_seen, memory_order_relaxed);
}
