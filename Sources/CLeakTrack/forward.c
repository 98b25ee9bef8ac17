// Resolution of the allocator the process would have used without the tracker: the next
// definition of each function in symbol lookup order (glibc, jemalloc, tcmalloc...).
//
// Hazard: dlsym itself allocates. Until resolution finishes, the resolving thread is served from
// a small static arena; those pointers are never passed to the next allocator (free ignores them).
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

static void *bootstrap_malloc(size_t size);
static void bootstrap_free(void *pointer);
static void *bootstrap_calloc(size_t count, size_t size);
static void *bootstrap_realloc(void *pointer, size_t size);
static int bootstrap_posix_memalign(void **out, size_t alignment, size_t size);
static void *bootstrap_aligned_alloc(size_t alignment, size_t size);
static void *bootstrap_memalign(size_t alignment, size_t size);
static void *bootstrap_valloc(size_t size);
static void *bootstrap_pvalloc(size_t size);
static size_t bootstrap_usable_size(void *pointer);

lt_next_allocator lt_next = {
    .malloc = bootstrap_malloc,
    .free = bootstrap_free,
    .calloc = bootstrap_calloc,
    .realloc = bootstrap_realloc,
    .posix_memalign = bootstrap_posix_memalign,
    .aligned_alloc = bootstrap_aligned_alloc,
    .memalign = bootstrap_memalign,
    .valloc = bootstrap_valloc,
    .pvalloc = bootstrap_pvalloc,
    .usable_size = bootstrap_usable_size,
};

_Alignas(64) unsigned char lt_bootstrap_arena[LT_BOOTSTRAP_ARENA_BYTES];
static size_t arena_used;

enum { UNRESOLVED, RESOLVING, RESOLVED };
static _Atomic int resolution = UNRESOLVED;
bool lt_next_is_glibc;
bool lt_records_in_prefix;
static __thread bool resolving_here LT_TLS;

size_t lt_bootstrap_bytes_after(const void *pointer) {
    return (size_t)(lt_bootstrap_arena + LT_BOOTSTRAP_ARENA_BYTES - (const unsigned char *)pointer);
}

static void *arena_allocate(size_t size, size_t alignment) {
    if (alignment < 16) alignment = 16;
    size_t start = (arena_used + sizeof(size_t) + alignment - 1) & ~(alignment - 1);
    if (size > LT_BOOTSTRAP_ARENA_BYTES || start > LT_BOOTSTRAP_ARENA_BYTES - size) {
        errno = ENOMEM;
        return NULL;
    }
    arena_used = start + size;
    // Where glibc keeps a chunk's size, a sampled block's marker: free() of an arena pointer then
    // takes the slow path, which recognises and ignores it.
    size_t marker = LT_SAMPLE_MARKER;
    __builtin_memcpy(lt_bootstrap_arena + start - sizeof marker, &marker, sizeof marker);
    return lt_bootstrap_arena + start;
}

LT_NOINLINE size_t lt_usable_size_elsewhere(void *pointer) { return lt_next.usable_size(pointer); }

// An allocator that cannot tell a block's size: blocks then count as zero bytes, counts stay exact.
static size_t no_usable_size(void *pointer) {
    (void)pointer;
    return 0;
}

static void *resolve(const char *name) {
    void *symbol = dlsym(RTLD_NEXT, name);
    return symbol;
}

// The loaded object an address lies in, and its file name. glibc 2.35's _dl_find_object looks it up
// in a sorted table; dladdr also searches the object's symbols for the nearest one, which made the
// nine calls here 536,000 instructions, 60 % of a preloaded /bin/true (callgrind).
bool lt_find_object(void *address, const void **object, const char **name) {
#ifdef DLFO_STRUCT_HAS_EH_DBASE
    struct dl_find_object found;
    if (_dl_find_object(address, &found) != 0) return false;
    *object = found.dlfo_map_start;
    *name = found.dlfo_link_map != NULL ? found.dlfo_link_map->l_name : NULL;
#else
    Dl_info info;
    if (!dladdr(address, &info)) return false;
    *object = info.dli_fbase;
    *name = info.dli_fname;
#endif
    return true;
}

// The inline chunk-size read is used only when the next allocator is glibc's and agrees with
// malloc_usable_size on blocks of every kind (small, large, mmapped, aligned).
static bool same_object(void *function, void *other) {
    const void *first, *second;
    const char *name;
    return lt_find_object(function, &first, &name) && lt_find_object(other, &second, &name) && first == second;
}

static bool from_libc(void *function) {
    const void *object;
    const char *name;
    return lt_find_object(function, &object, &name) && name != NULL && strstr(name, "libc.so") != NULL;
}

static bool glibc_layout_confirmed(void) {
    // All of them: a library that defines malloc/free but not malloc_usable_size (lookup then finds
    // glibc's for the latter alone) must not have glibc's header read before its blocks.
    if (!from_libc((void *)lt_next.usable_size) || !from_libc((void *)lt_next.malloc) ||
        !from_libc((void *)lt_next.free) || !from_libc((void *)lt_next.memalign)) {
        return false;
    }
    static const size_t sizes[] = {0, 1, 24, 100, 1000, 70000, 300000, 4u << 20};
    bool agrees = true;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && agrees; i++) {
        void *block = lt_next.malloc(sizes[i]);
        void *aligned = lt_next.memalign(4096, sizes[i] + 1);
        agrees = block && aligned && lt_glibc_usable_size(block) == lt_next.usable_size(block) &&
                 lt_glibc_usable_size(aligned) == lt_next.usable_size(aligned);
        lt_next.free(block);
        lt_next.free(aligned);
    }
    return agrees;
}

// jemalloc and tcmalloc answer malloc_usable_size from their page maps (about 40 instructions in
// jemalloc 5.3), which counting made twice per malloc/free pair. A block's usable size there is
// its size class, a function of the requested size that nallocx() computes without a block: the
// table keeps it for small requests, filled only if, for every entry, nallocx agrees with
// malloc_usable_size of a real block and the requests that round up to the entry share its class.
uint32_t lt_size_classes[LT_SIZE_CLASSES_MAX / 8 + 1];

static void learn_size_classes(void) {
    size_t (*nallocx)(size_t, int) = (size_t (*)(size_t, int))resolve("nallocx");
    if (nallocx == NULL || !same_object((void *)nallocx, (void *)lt_next.malloc)) return;
    static uint32_t learned[sizeof lt_size_classes / sizeof lt_size_classes[0]];
    for (size_t entry = 0; entry < sizeof learned / sizeof learned[0]; entry++) {
        size_t requested = entry * 8;
        void *block = lt_next.malloc(requested);
        if (block == NULL) return;
        size_t usable = lt_next.usable_size(block);
        lt_next.free(block);
        if (usable == 0 || usable > UINT32_MAX) return;
        // nallocx(0) is undefined: malloc(0)'s own answer is the entry.
        if (entry > 0 && (nallocx(requested, 0) != usable || nallocx(requested - 7, 0) != usable)) return;
        learned[entry] = (uint32_t)usable;
    }
    memcpy(lt_size_classes, learned, sizeof learned);
}

static void resolve_all(void) {
    int expected = UNRESOLVED;
    if (!atomic_compare_exchange_strong(&resolution, &expected, RESOLVING)) {
        while (atomic_load(&resolution) != RESOLVED) sched_yield();
        return;
    }
    resolving_here = true;
    lt_next_allocator found = {
        .malloc = resolve("malloc"),
        .free = resolve("free"),
        .calloc = resolve("calloc"),
        .realloc = resolve("realloc"),
        .posix_memalign = resolve("posix_memalign"),
        .aligned_alloc = resolve("aligned_alloc"),
        .memalign = resolve("memalign"),
        .valloc = resolve("valloc"),
        .pvalloc = resolve("pvalloc"),
        .usable_size = resolve("malloc_usable_size"),
    };
    // The block sizes must come from the allocator that owns the blocks: one that defines malloc
    // but not malloc_usable_size would otherwise get glibc's, which reads a header its blocks do
    // not have (and can fault on it).
    if (found.usable_size && !same_object((void *)found.usable_size, (void *)found.malloc)) found.usable_size = NULL;
    if (!found.usable_size) found.usable_size = no_usable_size;
    // An allocator without the legacy entry points still gets them served from its modern ones.
    if (!found.aligned_alloc) found.aligned_alloc = found.memalign;
    if (!found.memalign) found.memalign = found.aligned_alloc;
    // While the arena still serves this thread: a dlsym that finds nothing allocates its error.
    lt_resolve_unwinder();
    lt_resolve_next_operators();
    lt_next = found;
    lt_next_is_glibc = glibc_layout_confirmed();
    if (!lt_next_is_glibc) learn_size_classes();
    // A sampled block may start past the block glibc returned only if every free in the process
    // comes here: this library's free must be the one the process calls (the hooks are linked).
    lt_records_in_prefix = lt_next_is_glibc && same_object(dlsym(RTLD_DEFAULT, "free"), (void *)lt_free);
    resolving_here = false;
    lt_sampler_configure_from_environment();
    lt_guard_configure_from_environment();
    atomic_store(&resolution, RESOLVED);
}

bool lt_resolve_next_allocator(void) {
    if (resolving_here) return false;
    if (atomic_load(&resolution) != RESOLVED) resolve_all();
    return true;
}

// Each bootstrap function runs at most once per thread before resolution completes: the first
// call anywhere resolves, calls made by dlsym on the resolving thread get the arena.
static void *bootstrap_malloc(size_t size) {
    if (resolving_here) return arena_allocate(size, 16);
    resolve_all();
    return lt_next.malloc(size);
}

static void bootstrap_free(void *pointer) {
    if (pointer == NULL || lt_is_bootstrap_pointer(pointer)) return;
    resolve_all();
    lt_next.free(pointer);
}

static void *bootstrap_calloc(size_t count, size_t size) {
    if (resolving_here) {
        size_t total;
        if (__builtin_mul_overflow(count, size, &total)) return NULL;
        return arena_allocate(total, 16); // static storage is already zeroed
    }
    resolve_all();
    return lt_next.calloc(count, size);
}

static void *bootstrap_realloc(void *pointer, size_t size) {
    if (resolving_here) {
        void *moved = arena_allocate(size, 16);
        if (moved && pointer) memmove(moved, pointer, size); // arena blocks only grow upwards
        return moved;
    }
    resolve_all();
    return lt_next.realloc(pointer, size);
}

static int bootstrap_posix_memalign(void **out, size_t alignment, size_t size) {
    if (resolving_here) {
        *out = arena_allocate(size, alignment);
        return *out ? 0 : ENOMEM;
    }
    resolve_all();
    return lt_next.posix_memalign(out, alignment, size);
}

static void *bootstrap_aligned_alloc(size_t alignment, size_t size) {
    if (resolving_here) return arena_allocate(size, alignment);
    resolve_all();
    return lt_next.aligned_alloc(alignment, size);
}

static void *bootstrap_memalign(size_t alignment, size_t size) {
    if (resolving_here) return arena_allocate(size, alignment);
    resolve_all();
    return lt_next.memalign(alignment, size);
}

static void *bootstrap_valloc(size_t size) {
    if (resolving_here) return arena_allocate(size, lt_page_size());
    resolve_all();
    return lt_next.valloc(size);
}

static void *bootstrap_pvalloc(size_t size) {
    if (resolving_here) {
        size_t page = lt_page_size();
        return arena_allocate((size + page - 1) & ~(page - 1), page);
    }
    resolve_all();
    return lt_next.pvalloc(size);
}

static size_t bootstrap_usable_size(void *pointer) {
    if (pointer == NULL || lt_is_bootstrap_pointer(pointer)) return 0;
    resolve_all();
    return lt_next.usable_size ? lt_next.usable_size(pointer) : 0;
}
