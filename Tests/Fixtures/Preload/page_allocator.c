// A toy allocator that defines the malloc family but not malloc_usable_size, and puts every
// block at the start of a page right after an unreadable one. Preloaded after the agent, it
// checks that the agent never asks glibc the size of a block glibc does not own (glibc's
// malloc_usable_size reads the word before the block: here, a fault). Never frees (a toy).
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
static void *page_block(size_t size) {
    size_t total = 4096 + ((size + 4095) & ~(size_t)4095);
    char *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    mprotect(base, 4096, PROT_NONE);
    return base + 4096;
}
void *malloc(size_t size) { return page_block(size); }
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t s) { return page_block(n * s); }
void *realloc(void *p, size_t s) { void *q = page_block(s); if (p) memcpy(q, p, s < 4096 ? s : 4096); return q; }
void *memalign(size_t a, size_t s) { (void)a; return page_block(s); }
void *aligned_alloc(size_t a, size_t s) { (void)a; return page_block(s); }
int posix_memalign(void **out, size_t a, size_t s) { (void)a; *out = page_block(s); return 0; }
