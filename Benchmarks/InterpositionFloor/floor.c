// libInterpositionFloor.so: a malloc interposer that does nothing but forward, built the way
// libLeakAgentPreload.so forwards (RTLD_NEXT, frame pointers, a bootstrap arena for dlsym).
// AllocatorBenchmark preloads it to measure what interposition alone costs, the floor under any
// LD_PRELOAD tracker, next to what the tracker costs.
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);

// dlsym allocates while it resolves; those few blocks come from here and are never freed.
static _Alignas(16) char arena[16384];
static size_t arena_used;
static int resolving;

static void *arena_allocate(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof arena - arena_used) return NULL;
    void *block = arena + arena_used;
    arena_used += size;
    return block;
}

static int from_arena(const void *pointer) {
    return (const char *)pointer >= arena && (const char *)pointer < arena + sizeof arena;
}

static void resolve(void) {
    if (next_malloc != NULL || resolving) return;
    resolving = 1;
    next_calloc = dlsym(RTLD_NEXT, "calloc");
    next_realloc = dlsym(RTLD_NEXT, "realloc");
    next_free = dlsym(RTLD_NEXT, "free");
    next_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
}

void *malloc(size_t size) {
    if (__builtin_expect(next_malloc == NULL, 0)) {
        resolve();
        if (next_malloc == NULL) return arena_allocate(size);
    }
    return next_malloc(size);
}

void free(void *pointer) {
    if (__builtin_expect(from_arena(pointer), 0)) return;
    // A program may free (NULL, say) before it ever allocates: nginx does.
    if (__builtin_expect(next_free == NULL, 0)) {
        resolve();
        if (next_free == NULL) return; // on the resolving thread: only arena blocks exist yet
    }
    next_free(pointer);
}

void *calloc(size_t count, size_t size) {
    if (__builtin_expect(next_calloc == NULL, 0)) {
        resolve();
        if (next_calloc == NULL) return arena_allocate(count * size); // static memory is zeroed
    }
    return next_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    resolve();
    if (from_arena(pointer)) {
        void *moved = next_malloc(size);
        if (moved != NULL) memcpy(moved, pointer, size); // the arena outlives every copy
        return moved;
    }
    return next_realloc(pointer, size);
}
