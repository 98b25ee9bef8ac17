// Per-thread counter blocks: registration on a thread's first allocation, and retirement at
// thread exit so that thousands of short-lived threads cost a bounded amount (stats.c folds them
// on read).
//
// Thread blocks are mapped (map.c) and recycled through a free list. A thread past its TLS
// destructor points at the shared orphan block, whose counters are updated with atomics on the
// slow path.
#include <string.h>
#include <time.h>

#include "lt_internal.h"

static lt_thread unregistered = {.bytes_until_sample = 0, .flags = LT_THREAD_UNREGISTERED};
static lt_thread orphan = {.bytes_until_sample = 0, .flags = LT_THREAD_ORPHAN};

__thread lt_thread *lt_self LT_TLS = &unregistered;
__thread int lt_busy LT_TLS;

lt_totals lt_retired;
_Alignas(LT_CACHE_LINE) _Atomic int64_t lt_published_bytes;
_Alignas(LT_CACHE_LINE) _Atomic uint64_t lt_peak_bytes;
_Atomic int lt_hooks_seen;

// The registry lock sits on its own line: it is taken on registration, exit and read only.
static _Alignas(LT_CACHE_LINE) pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static lt_thread *registry_head; // every block ever mapped, in use or not
static lt_thread *free_blocks;   // exited threads' blocks, linked by next_free
static pthread_key_t exit_key;
static bool exit_key_ready;
static uint64_t live_threads, retired_threads;
static unsigned registrations;

void lt_registry_lock(void) { pthread_mutex_lock(&registry_lock); }
void lt_registry_unlock(void) { pthread_mutex_unlock(&registry_lock); }
void lt_registry_reinit_after_fork(void) { pthread_mutex_init(&registry_lock, NULL); }

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
    thread->next_free = free_blocks;
    free_blocks = thread;
    live_threads--;
    retired_threads++;
    lt_registry_unlock();
}

static lt_thread *take_block(void) {
    lt_thread *block = free_blocks;
    if (block != NULL) {
        free_blocks = block->next_free;
        block->next_free = NULL;
        return block;
    }
    block = lt_map(sizeof(lt_thread));
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
    block->guard_random_state = block->random_state * 0x9E3779B97F4A7C15ull | 1; // a stream of its own
    block->bytes_until_sample = lt_next_sample_gap(block);
    block->allocations_until_guard = lt_next_guard_gap(block);
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

void lt_visit_threads(void (*visit)(const lt_thread *thread, void *context), void *context,
                      uint64_t *live, uint64_t *retired) {
    lt_registry_lock();
    for (const lt_thread *thread = registry_head; thread; thread = thread->next_in_registry) {
        if (thread->in_use) visit(thread, context);
    }
    *live = live_threads;
    *retired = retired_threads;
    lt_registry_unlock();
}
