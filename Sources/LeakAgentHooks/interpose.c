// The libc allocation entry points (and malloc_usable_size, since a sampled block starts past
// the one the next allocator knows), defined here so that linking this target (or preloading the
// library that contains it) routes every allocation in the process through the tracker, which
// forwards in turn to the next definition in lookup order.
//
// malloc, free and malloc_usable_size are the tracker's inline fast paths themselves: a jump to an
// entry point elsewhere costs measurably on calls this frequent (see CLeakTrackFastPaths.h). Each of the
// others is a bare jump to the tracker's entry point; on x86-64 and arm64 a naked function, since a
// C wrapper, compiled with frame pointers as SwiftPM compiles C, would push and pop a frame around
// its tail call.
#include <stdlib.h>

#include "CLeakTrackEntry.h"
#include "CLeakTrackFastPaths.h"

#define LT_EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__)
#define LT_FORWARD(result, name, parameters, arguments, target) \
    LT_EXPORT __attribute__((naked)) result name parameters { __asm__("jmp " #target); }
#elif defined(__aarch64__)
#define LT_FORWARD(result, name, parameters, arguments, target) \
    LT_EXPORT __attribute__((naked)) result name parameters { __asm__("b " #target); }
#else
#define LT_FORWARD(result, name, parameters, arguments, target) \
    LT_EXPORT result name parameters { return target arguments; }
#endif

LT_EXPORT void *malloc(size_t size) {
    return lt_malloc_fast(size, (uintptr_t)__builtin_frame_address(0));
}

LT_EXPORT void free(void *pointer) {
    lt_free_fast(pointer);
}

LT_EXPORT size_t malloc_usable_size(void *pointer) {
    return lt_malloc_usable_size_fast(pointer);
}

LT_FORWARD(void *, calloc, (size_t count, size_t size), (count, size), lt_calloc)
LT_FORWARD(void *, realloc, (void *pointer, size_t size), (pointer, size), lt_realloc)
LT_FORWARD(void *, reallocarray, (void *pointer, size_t count, size_t size), (pointer, count, size), lt_reallocarray)
LT_FORWARD(int, posix_memalign, (void **out, size_t alignment, size_t size), (out, alignment, size), lt_posix_memalign)
LT_FORWARD(void *, aligned_alloc, (size_t alignment, size_t size), (alignment, size), lt_aligned_alloc)
LT_FORWARD(void *, memalign, (size_t alignment, size_t size), (alignment, size), lt_memalign)
LT_FORWARD(void *, valloc, (size_t size), (size), lt_valloc)
LT_FORWARD(void *, pvalloc, (size_t size), (size), lt_pvalloc)
// Not an allocation, but what unloading a library does to its addresses (images.c).
LT_FORWARD(int, dlclose, (void *handle), (handle), lt_dlclose)
// C23's sized frees (glibc 2.36 has none yet): a sampled block must never reach a later glibc's.
LT_FORWARD(void, free_sized, (void *pointer, size_t size), (pointer), lt_free)
LT_FORWARD(void, free_aligned_sized, (void *pointer, size_t alignment, size_t size), (pointer), lt_free)

// LeakAgent's entry points where it is linked in with the hooks; absent in the preload library,
// whose loader sets its own (Sources/LeakAgentPreload/preload.c).
void leakwatch_write_exit_report(void) __attribute__((weak));
void leakwatch_after_fork_in_child(void) __attribute__((weak));

// C++'s allocating operators (the Itanium ABI's names, size_t being unsigned long): served from
// the tracker so that a sampled stack starts at their caller (see operators.c). The deleting
// operators are left alone: the runtime's hand the blocks to free().
LT_FORWARD(void *, _Znwm, (size_t size), (size), lt_operator_new)
LT_FORWARD(void *, _Znam, (size_t size), (size), lt_operator_new_array)
LT_FORWARD(void *, _ZnwmRKSt9nothrow_t, (size_t size, const void *nothrow), (size, nothrow), lt_operator_new_nothrow)
LT_FORWARD(void *, _ZnamRKSt9nothrow_t, (size_t size, const void *nothrow), (size, nothrow), lt_operator_new_array_nothrow)
LT_FORWARD(void *, _ZnwmSt11align_val_t, (size_t size, size_t alignment), (size, alignment), lt_operator_new_aligned)
LT_FORWARD(void *, _ZnamSt11align_val_t, (size_t size, size_t alignment), (size, alignment), lt_operator_new_array_aligned)
LT_FORWARD(void *, _ZnwmSt11align_val_tRKSt9nothrow_t, (size_t size, size_t alignment, const void *nothrow),
           (size, alignment, nothrow), lt_operator_new_aligned_nothrow)
LT_FORWARD(void *, _ZnamSt11align_val_tRKSt9nothrow_t, (size_t size, size_t alignment, const void *nothrow),
           (size, alignment, nothrow), lt_operator_new_array_aligned_nothrow)

__attribute__((constructor)) static void leakwatch_hooks_installed(void) {
    if (leakwatch_write_exit_report) lt_set_exit_report_writer(leakwatch_write_exit_report);
    if (leakwatch_after_fork_in_child) lt_set_fork_restarter(leakwatch_after_fork_in_child);
    lt_install_exit_report();
}
