// The libc allocation entry points, defined here so that linking this target (or preloading the
// library that contains it) routes every allocation in the process through the tracker. Each is
// a one-line forward; the tracker forwards in turn to the next definition in lookup order.
#include <stdlib.h>

#include "CLeakTrackEntry.h"

#define LT_EXPORT __attribute__((visibility("default")))

LT_EXPORT void *malloc(size_t size) { return lt_malloc(size); }
LT_EXPORT void free(void *pointer) { lt_free(pointer); }
LT_EXPORT void *calloc(size_t count, size_t size) { return lt_calloc(count, size); }
LT_EXPORT void *realloc(void *pointer, size_t size) { return lt_realloc(pointer, size); }
LT_EXPORT void *reallocarray(void *pointer, size_t count, size_t size) { return lt_reallocarray(pointer, count, size); }
LT_EXPORT int posix_memalign(void **out, size_t alignment, size_t size) { return lt_posix_memalign(out, alignment, size); }
LT_EXPORT void *aligned_alloc(size_t alignment, size_t size) { return lt_aligned_alloc(alignment, size); }
LT_EXPORT void *memalign(size_t alignment, size_t size) { return lt_memalign(alignment, size); }
LT_EXPORT void *valloc(size_t size) { return lt_valloc(size); }
LT_EXPORT void *pvalloc(size_t size) { return lt_pvalloc(size); }

__attribute__((constructor)) static void leakwatch_hooks_installed(void) {
    lt_install_exit_report();
}
