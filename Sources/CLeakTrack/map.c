// The operating system's memory: every mapping the tracker makes for itself (thread blocks, sample
// tables, the site index) and the page size. Never malloc: we are malloc.
#include <sys/mman.h>
#include <unistd.h>

#include "lt_internal.h"

static _Alignas(LT_CACHE_LINE) _Atomic uint64_t mapped_bytes;

void *lt_map(size_t bytes) {
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return NULL;
    atomic_fetch_add_explicit(&mapped_bytes, bytes, memory_order_relaxed);
    return memory;
}

void lt_unmap(void *memory, size_t bytes) {
    munmap(memory, bytes);
    atomic_fetch_sub_explicit(&mapped_bytes, bytes, memory_order_relaxed);
}

uint64_t lt_mapped_bytes(void) { return atomic_load(&mapped_bytes); }

size_t lt_page_size(void) { return (size_t)getpagesize(); }
