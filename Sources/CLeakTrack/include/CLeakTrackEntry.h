// The tracker's allocation entry points, one per libc function. LeakAgentHooks defines the libc
// names as one-line forwards to these, except malloc and free, whose fast paths it inlines
// (CLeakTrackFastPaths.h, as for malloc_usable_size). Besides the hooks, only the core's own test driver
// calls them (Tests/Fixtures/CoreDriver, built without the hooks under AddressSanitizer).
#ifndef CLEAKTRACK_ENTRY_H
#define CLEAKTRACK_ENTRY_H

#include <stddef.h>

// Hidden: the interposer and the tracker always end up in the same executable or shared library,
// so the forwards are direct jumps, never calls through the PLT.
#pragma GCC visibility push(hidden)
void *lt_malloc(size_t size);
void lt_free(void *pointer);
void *lt_calloc(size_t count, size_t size);
void *lt_realloc(void *pointer, size_t size);
void *lt_reallocarray(void *pointer, size_t count, size_t size);
int lt_posix_memalign(void **out, size_t alignment, size_t size);
void *lt_aligned_alloc(size_t alignment, size_t size);
void *lt_memalign(size_t alignment, size_t size);
void *lt_valloc(size_t size);
void *lt_pvalloc(size_t size);

// C++'s allocating operators (operators.c), defined under their mangled names by the hooks. The
// alignment is std::align_val_t's value; `nothrow` the std::nothrow_t argument, unused.
void *lt_operator_new(size_t size);
void *lt_operator_new_array(size_t size);
void *lt_operator_new_nothrow(size_t size, const void *nothrow);
void *lt_operator_new_array_nothrow(size_t size, const void *nothrow);
void *lt_operator_new_aligned(size_t size, size_t alignment);
void *lt_operator_new_array_aligned(size_t size, size_t alignment);
void *lt_operator_new_aligned_nothrow(size_t size, size_t alignment, const void *nothrow);
void *lt_operator_new_array_aligned_nothrow(size_t size, size_t alignment, const void *nothrow);

/// dlclose, remembering where the object was if it leaves (images.c): its addresses stay nameable.
int lt_dlclose(void *handle);

/// Registers the exit report when LEAKWATCH_REPORT is set; called from the hooks' constructor.
void lt_install_exit_report(void);
/// Runs `body` (given NULL) on a detached thread of the agent's, every signal blocked there so
/// that the program's signals go to the program's threads.
void lt_start_agent_thread(void *(*body)(void *));
#pragma GCC visibility pop

#endif
