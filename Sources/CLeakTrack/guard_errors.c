// Errors the guarded pool caught, handed from the fault handler to the agent's reporter thread.
//
// The handler runs on whatever thread faulted, inside whatever it was doing, so it may not
// allocate, lock or call anything that is not async-signal-safe. It claims a record of a fixed
// ring (a compare-and-swap on the record's state), fills it, writes one byte to the reporter's
// descriptor and goes on; the reporter thread takes the record, names its stacks, prints the
// symbolized report and ships the error as an event at once. In crash mode the handler then waits,
// at most LT_GUARD_SETTLE_MILLISECONDS, until the agent says the collector has the event (or cannot
// have it), so that a process dying of its bug is still on the collector's books. A program that
// runs on and exits soon after (recover mode) waits as long at exit for the errors not settled yet.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lt_internal.h"

// Errors waiting for the reporter. Recover mode retires a slot per error, so more than a few at
// once means a burst; one that finds the ring full keeps its raw report on stderr only.
#define RING 8

enum record_state { RECORD_FREE, RECORD_WRITING, RECORD_READY };

static struct {
    lt_guard_error records[RING];
    _Atomic uint32_t states[RING];
    _Atomic uint64_t last_sequence;
    _Atomic uint64_t settled_through;
    _Atomic int wake; // the reporter's descriptor; -1 when no reporter runs
} ring = {.wake = -1};

lt_guard_error *lt_guard_error_claim(void) {
    for (int i = 0; i < RING; i++) {
        uint32_t expected = RECORD_FREE;
        if (atomic_compare_exchange_strong_explicit(&ring.states[i], &expected, RECORD_WRITING, memory_order_acquire,
                                                    memory_order_relaxed)) {
            memset(&ring.records[i], 0, sizeof ring.records[i]);
            return &ring.records[i];
        }
    }
    return NULL;
}

uint64_t lt_guard_error_publish(lt_guard_error *record) {
    record->sequence = atomic_fetch_add_explicit(&ring.last_sequence, 1, memory_order_relaxed) + 1;
    atomic_store_explicit(&ring.states[record - ring.records], RECORD_READY, memory_order_release);
    return record->sequence;
}

/// Waits until the errors through `sequence` are settled, the reporter goes, or the bound passes.
static void await_settled(uint64_t sequence) {
    for (int waited = 0; waited < LT_GUARD_SETTLE_MILLISECONDS; waited++) {
        if (atomic_load_explicit(&ring.settled_through, memory_order_acquire) >= sequence) return;
        if (atomic_load_explicit(&ring.wake, memory_order_acquire) < 0) return;
        struct timespec millisecond = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&millisecond, NULL);
    }
}

void lt_guard_error_hand_over(uint64_t sequence, bool dying) {
    int wake = atomic_load_explicit(&ring.wake, memory_order_acquire);
    if (wake < 0 || sequence == 0) return;
    char byte = 1;
    while (write(wake, &byte, 1) < 0 && errno == EINTR) {
    }
    // Not on a thread of the agent's (the reporter would wait for itself) nor one inside the
    // tracker (the reporter's snapshot may need the lock it holds).
    if (dying && !lt_busy && !(lt_self->flags & LT_THREAD_AGENT)) await_settled(sequence);
}

static void settle_at_exit(void) {
    if (lt_self->flags & LT_THREAD_AGENT) return;
    await_settled(atomic_load_explicit(&ring.last_sequence, memory_order_acquire));
}

void lt_guard_set_reporter(int wake_descriptor) {
    static atomic_flag exit_hook_registered = ATOMIC_FLAG_INIT;
    atomic_store_explicit(&ring.wake, wake_descriptor, memory_order_release);
    // Here, on the agent's thread, not where the pool is set up: atexit may allocate, and the pool
    // is set up while the allocator itself is being resolved.
    if (wake_descriptor >= 0 && !atomic_flag_test_and_set(&exit_hook_registered)) atexit(settle_at_exit);
}

int lt_guard_take_error(lt_guard_error *out) {
    int oldest = -1;
    for (int i = 0; i < RING; i++) {
        if (atomic_load_explicit(&ring.states[i], memory_order_acquire) != RECORD_READY) continue;
        if (oldest < 0 || ring.records[i].sequence < ring.records[oldest].sequence) oldest = i;
    }
    if (oldest < 0) return 0;
    *out = ring.records[oldest];
    atomic_store_explicit(&ring.states[oldest], RECORD_FREE, memory_order_release);
    return 1;
}

void lt_guard_error_settled(uint64_t sequence) {
    uint64_t settled = atomic_load_explicit(&ring.settled_through, memory_order_relaxed);
    while (settled < sequence && !atomic_compare_exchange_weak_explicit(&ring.settled_through, &settled, sequence,
                                                                        memory_order_release, memory_order_relaxed)) {
    }
}

void lt_guard_errors_reinit_after_fork(void) {
    // The parent's reporter and the errors it has still to take are the parent's.
    atomic_store_explicit(&ring.wake, -1, memory_order_relaxed);
    for (int i = 0; i < RING; i++) atomic_store_explicit(&ring.states[i], RECORD_FREE, memory_order_relaxed);
}
