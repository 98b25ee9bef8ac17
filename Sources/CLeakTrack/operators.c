// C++'s allocating operators: new and new[], each plain, nothrow, aligned and aligned nothrow.
// LeakAgentHooks defines them under their mangled names as jumps to these.
//
// Why: libstdc++'s operator new keeps no frame pointer, so a stack sampled in malloc below it
// skips the C++ function that called new. Served here, from the tracker's malloc with this
// function's frame as the start of the stack, the stack's first frame is that caller with no
// unwinding at all, and a `new` costs one call less than through libstdc++ (docs/PERFORMANCE.md).
//
// Only when the operators the process would have used are libstdc++'s or libc++'s: they take their
// memory from malloc (aligned_alloc for the aligned forms) and operator delete gives it back to
// free(), so serving them from the tracker's malloc changes nothing. A failed allocation goes to
// them, for what the standard asks then (the new-handler loop, std::bad_alloc or NULL): they call
// malloc once more and throw through no frame of ours. Any other definition (tcmalloc's, one in a
// library loaded after this one) is called as it is, since its blocks need not reach free(). With
// none in the global scope at all (a C or Rust program, whose agent runtime brings libstdc++ in
// with RTLD_LOCAL, so its calls land here), they are served here too.
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

#define FRAME() ((uintptr_t)__builtin_frame_address(0))

typedef void *(*plain_new)(size_t);
typedef void *(*nothrow_new)(size_t, const void *);
typedef void *(*aligned_new)(size_t, size_t);
typedef void *(*aligned_nothrow_new)(size_t, size_t, const void *);

// The next definitions in lookup order, by mangled name.
static struct {
    plain_new new_object, new_array;
    nothrow_new new_object_nothrow, new_array_nothrow;
    aligned_new new_object_aligned, new_array_aligned;
    aligned_nothrow_new new_object_aligned_nothrow, new_array_aligned_nothrow;
} next;

#define NEW_OBJECT "_Znwm"
#define NEW_ARRAY "_Znam"
#define NEW_OBJECT_NOTHROW "_ZnwmRKSt9nothrow_t"
#define NEW_ARRAY_NOTHROW "_ZnamRKSt9nothrow_t"
#define NEW_OBJECT_ALIGNED "_ZnwmSt11align_val_t"
#define NEW_ARRAY_ALIGNED "_ZnamSt11align_val_t"
#define NEW_OBJECT_ALIGNED_NOTHROW "_ZnwmSt11align_val_tRKSt9nothrow_t"
#define NEW_ARRAY_ALIGNED_NOTHROW "_ZnamSt11align_val_tRKSt9nothrow_t"

/// Whether the next operators are the C++ runtime's malloc-based ones, served here.
static bool served_here;

static bool from_malloc_based_runtime(void *function) {
    const void *object;
    const char *name;
    if (function == NULL || !lt_find_object(function, &object, &name) || name == NULL) return false;
    return strstr(name, "libstdc++.so") != NULL || strstr(name, "libc++.so") != NULL;
}

void lt_resolve_next_operators(void) {
    next.new_object = (plain_new)dlsym(RTLD_NEXT, NEW_OBJECT);
    next.new_array = (plain_new)dlsym(RTLD_NEXT, NEW_ARRAY);
    next.new_object_nothrow = (nothrow_new)dlsym(RTLD_NEXT, NEW_OBJECT_NOTHROW);
    next.new_array_nothrow = (nothrow_new)dlsym(RTLD_NEXT, NEW_ARRAY_NOTHROW);
    next.new_object_aligned = (aligned_new)dlsym(RTLD_NEXT, NEW_OBJECT_ALIGNED);
    next.new_array_aligned = (aligned_new)dlsym(RTLD_NEXT, NEW_ARRAY_ALIGNED);
    next.new_object_aligned_nothrow = (aligned_nothrow_new)dlsym(RTLD_NEXT, NEW_OBJECT_ALIGNED_NOTHROW);
    next.new_array_aligned_nothrow = (aligned_nothrow_new)dlsym(RTLD_NEXT, NEW_ARRAY_ALIGNED_NOTHROW);
    // Every form must come from the runtime: one whose operator new is elsewhere (a replacement
    // for the plain forms only) keeps its own.
    void *forms[] = {
        (void *)next.new_object, (void *)next.new_array, (void *)next.new_object_nothrow,
        (void *)next.new_array_nothrow, (void *)next.new_object_aligned, (void *)next.new_array_aligned,
        (void *)next.new_object_aligned_nothrow, (void *)next.new_array_aligned_nothrow,
    };
    size_t count = sizeof forms / sizeof forms[0], from_runtime = 0, absent = 0;
    for (size_t i = 0; i < count; i++) {
        if (forms[i] == NULL) absent++;
        else if (from_malloc_based_runtime(forms[i])) from_runtime++;
    }
    // None at all: no C++ runtime in the global scope yet, so whatever calls these later (a library
    // loaded with its own, the agent's Swift runtime) would have had a malloc-based one.
    served_here = from_runtime == count || absent == count;
}

/// The next definition of `name`, or NULL. Looked up again when it is needed and was missing: a
/// C++ runtime loaded since (the agent's own, by dlopen with RTLD_LOCAL, is in no global scope, so
/// it is asked for by its soname).
static void *next_definition(void **slot, const char *name) {
    lt_resolve_next_allocator();
    void *function = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (function != NULL) return function;
    function = dlsym(RTLD_NEXT, name);
    if (function == NULL) {
        void *runtime = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
        if (runtime != NULL) function = dlsym(runtime, name);
    }
    __atomic_store_n(slot, function, __ATOMIC_RELAXED);
    return function;
}

/// For a throwing form with nothing to forward to: std::bad_alloc cannot be thrown from C.
static void *out_of_memory(size_t size) {
    static const char message[] = "leakwatch: operator new failed and no C++ runtime is there to throw std::bad_alloc\n";
    (void)size;
    (void)!write(STDERR_FILENO, message, sizeof message - 1);
    abort();
}

#define NEXT(field, name) next_definition((void **)&next.field, (name))

// The standard's forms: new(0) allocates; libstdc++ rounds an aligned size up to the alignment
// (aligned_alloc's contract) and leaves an alignment that is not a power of two to the failure
// path, which throws.
static inline size_t object_size(size_t size) { return size ? size : 1; }

static inline void *aligned_from_malloc(size_t size, size_t alignment, uintptr_t frame_pointer) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) return NULL;
    size_t rounded = (object_size(size) + alignment - 1) & ~(alignment - 1);
    if (rounded < size) return NULL;
    return lt_aligned_alloc_from(alignment, rounded, frame_pointer);
}

void *lt_operator_new(size_t size) {
    if (LT_LIKELY(served_here)) {
        void *pointer = lt_malloc_fast(object_size(size), FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    plain_new forward = (plain_new)NEXT(new_object, NEW_OBJECT);
    return forward ? forward(size) : out_of_memory(size);
}

void *lt_operator_new_array(size_t size) {
    if (LT_LIKELY(served_here)) {
        void *pointer = lt_malloc_fast(object_size(size), FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    plain_new forward = (plain_new)NEXT(new_array, NEW_ARRAY);
    return forward ? forward(size) : out_of_memory(size);
}

void *lt_operator_new_nothrow(size_t size, const void *nothrow) {
    if (LT_LIKELY(served_here)) {
        void *pointer = lt_malloc_fast(object_size(size), FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    nothrow_new forward = (nothrow_new)NEXT(new_object_nothrow, NEW_OBJECT_NOTHROW);
    return forward ? forward(size, nothrow) : NULL;
}

void *lt_operator_new_array_nothrow(size_t size, const void *nothrow) {
    if (LT_LIKELY(served_here)) {
        void *pointer = lt_malloc_fast(object_size(size), FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    nothrow_new forward = (nothrow_new)NEXT(new_array_nothrow, NEW_ARRAY_NOTHROW);
    return forward ? forward(size, nothrow) : NULL;
}

void *lt_operator_new_aligned(size_t size, size_t alignment) {
    if (LT_LIKELY(served_here)) {
        void *pointer = aligned_from_malloc(size, alignment, FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    aligned_new forward = (aligned_new)NEXT(new_object_aligned, NEW_OBJECT_ALIGNED);
    return forward ? forward(size, alignment) : out_of_memory(size);
}

void *lt_operator_new_array_aligned(size_t size, size_t alignment) {
    if (LT_LIKELY(served_here)) {
        void *pointer = aligned_from_malloc(size, alignment, FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    aligned_new forward = (aligned_new)NEXT(new_array_aligned, NEW_ARRAY_ALIGNED);
    return forward ? forward(size, alignment) : out_of_memory(size);
}

void *lt_operator_new_aligned_nothrow(size_t size, size_t alignment, const void *nothrow) {
    if (LT_LIKELY(served_here)) {
        void *pointer = aligned_from_malloc(size, alignment, FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    aligned_nothrow_new forward = (aligned_nothrow_new)NEXT(new_object_aligned_nothrow, NEW_OBJECT_ALIGNED_NOTHROW);
    return forward ? forward(size, alignment, nothrow) : NULL;
}

void *lt_operator_new_array_aligned_nothrow(size_t size, size_t alignment, const void *nothrow) {
    if (LT_LIKELY(served_here)) {
        void *pointer = aligned_from_malloc(size, alignment, FRAME());
        if (LT_LIKELY(pointer != NULL)) return pointer;
    }
    aligned_nothrow_new forward = (aligned_nothrow_new)NEXT(new_array_aligned_nothrow, NEW_ARRAY_ALIGNED_NOTHROW);
    return forward ? forward(size, alignment, nothrow) : NULL;
}
