// A bounded frame-pointer walk. Swift code and this package's C keep frame pointers; code built
// without them leaves a broken chain, which the walk must survive: every frame must lie on the
// thread's own stack, above the previous one and aligned, or the walk stops.
#include <pthread.h>

#include "lt_internal.h"

int lt_stack_walk(uintptr_t frame_pointer, uintptr_t stack_high, uintptr_t *frames, int capacity) {
    int count = 0;
    uintptr_t low = frame_pointer;
    if (stack_high < 2 * sizeof(uintptr_t)) return 0; // stack bounds unknown: capture nothing
    while (count < capacity) {
        if (frame_pointer < low || frame_pointer > stack_high - 2 * sizeof(uintptr_t) || (frame_pointer & 7) != 0) {
            break;
        }
        const uintptr_t *frame = (const uintptr_t *)frame_pointer;
        uintptr_t return_address = frame[1];
        if (return_address < 4096) break;
        frames[count++] = return_address;
        uintptr_t caller = frame[0];
        if (caller <= frame_pointer) break;
        frame_pointer = caller;
    }
    return count;
}

// Where glibc's start-up code found the main thread's stack: argv and the environment lie above
// it, in the same mapping.
extern void *__libc_stack_end;
#define MAIN_STACK_SPAN ((uintptr_t)1 << 30)

// Called once per thread at registration, with the thread marked busy. For the main thread
// pthread_getattr_np reads and parses /proc/self/maps: 0.3 ms, a third of a short program's run
// (StartupBenchmark); the end of its stack is known without it, rounded up to the page it is in.
uintptr_t lt_current_stack_high(void) {
    // On the main thread's stack (a thread's own is mapped far from it), which the forking
    // thread of a fork's child need not be.
    uintptr_t end = (uintptr_t)__libc_stack_end, here = (uintptr_t)__builtin_frame_address(0);
    if (end != 0 && here < end && end - here < MAIN_STACK_SPAN) {
        uintptr_t page = lt_page_size();
        return (end | (page - 1)) + 1; // the end of the page it is in, mapped as it is
    }
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
    void *low = NULL;
    size_t size = 0;
    int status = pthread_attr_getstack(&attributes, &low, &size);
    pthread_attr_destroy(&attributes);
    return status == 0 ? (uintptr_t)low + size : 0;
}
