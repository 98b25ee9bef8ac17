// Every allocation entry point, used the way programs use them: each block is filled to its usable
// size, aligned blocks are checked for alignment, realloc must keep the contents, calloc must be
// zero. Under the preload with T=1 every one of these blocks is sampled (and, over glibc, starts
// past a record the tracker keeps in front of it), so this is what must hold for sampled blocks.
// At the end the tracker's current bytes must be back where they started.
// Prints key=value lines; exits 0 when everything held.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(what, condition)                                                                       \
    do {                                                                                             \
        if (!(condition)) {                                                                          \
            printf("failed=%s (line %d)\n", what, __LINE__);                                         \
            failures++;                                                                              \
        }                                                                                            \
    } while (0)

static void fill(void *block, size_t bytes, unsigned char value) { memset(block, value, bytes); }

static int holds(const void *block, size_t bytes, unsigned char value) {
    const unsigned char *bytes_of = block;
    for (size_t i = 0; i < bytes; i++) {
        if (bytes_of[i] != value) return 0;
    }
    return 1;
}

/// Fills the whole usable size (a tracker reporting too much would let this write past the block).
static void *used(void *block, size_t requested, unsigned char value) {
    if (block == NULL) return NULL;
    size_t usable = malloc_usable_size(block);
    if (usable < requested) {
        printf("failed=usable %zu < requested %zu\n", usable, requested);
        failures++;
    }
    fill(block, usable, value);
    return block;
}

/// Field `index` of the tracker's lt_stats (0 when the tracker is not in the process).
static uint64_t stat_at(int index) {
    void (*read_stats)(uint64_t *) = (void (*)(uint64_t *))dlsym(RTLD_DEFAULT, "lt_read_stats");
    if (read_stats == NULL) return 0;
    uint64_t stats[15];
    read_stats(stats);
    return stats[index];
}

enum { CURRENT_BYTES = 1, SAMPLE_MEAN_BYTES = 9, SAMPLED_LIVE_ALLOCATIONS = 12 };

/// At T = 1 a block stays sampled through every realloc, and its record goes with its free.
static void realloc_keeps_samples(void) {
    if (stat_at(SAMPLE_MEAN_BYTES) != 1) return;
    // Preloaded over glibc, records sit in front of sampled blocks: the word before has bit 3 set.
    void *marked = malloc(100);
    CHECK("a sampled block carries its record in front", (((const size_t *)marked)[-1] & 8) != 0);
    free(marked);
    uint64_t before = stat_at(SAMPLED_LIVE_ALLOCATIONS);
    char *block = used(malloc(10), 10, 14);
    block = realloc(block, 100);
    block = realloc(block, 5000);
    block = realloc(block, 40);
    CHECK("a realloc'd block stays sampled at T = 1", stat_at(SAMPLED_LIVE_ALLOCATIONS) == before + 1);
    free(block);
    CHECK("a freed block's sample goes", stat_at(SAMPLED_LIVE_ALLOCATIONS) == before);
}

/// A buffer grown step by step to 32 MiB: glibc extends it in place (or remaps it), and so must
/// the tracker when the buffer is sampled, or 8,192 steps copy about 137 GB.
static void growing_buffer_stays_cheap(void) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t length = 0;
    char *buffer = NULL;
    for (int step = 0; step < 8192; step++) {
        length += 4096;
        buffer = realloc(buffer, length);
        buffer[length - 1] = (char)step;
    }
    CHECK("a grown buffer keeps its bytes", buffer[4095] == 0 && buffer[length - 1] == (char)8191);
    free(buffer);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    CHECK("growing a buffer does not copy it at every step", seconds < 10);
}

static void exercise(size_t size) {
    long page = sysconf(_SC_PAGESIZE);
    void *plain = used(malloc(size), size, 1);
    void *zeroed = calloc(1, size);
    CHECK("calloc zeroes", zeroed && holds(zeroed, size, 0));
    used(zeroed, size, 2);

    void *aligned = NULL;
    CHECK("posix_memalign", posix_memalign(&aligned, 256, size) == 0 && (uintptr_t)aligned % 256 == 0);
    used(aligned, size, 3);
    void *aligned_c11 = used(aligned_alloc(64, (size + 63) & ~(size_t)63), size, 4);
    CHECK("aligned_alloc", aligned_c11 && (uintptr_t)aligned_c11 % 64 == 0);
    void *old_style = used(memalign(4096, size), size, 5);
    CHECK("memalign", old_style && (uintptr_t)old_style % 4096 == 0);
    void *paged = used(valloc(size), size, 6);
    CHECK("valloc", paged && (uintptr_t)paged % (uintptr_t)page == 0);
    void *paged_rounded = used(pvalloc(size), size, 7);
    CHECK("pvalloc", paged_rounded && (uintptr_t)paged_rounded % (uintptr_t)page == 0 &&
                         malloc_usable_size(paged_rounded) >= (size + (size_t)page - 1) / (size_t)page * (size_t)page);

    // realloc keeps the contents growing and shrinking, and reallocarray too.
    fill(plain, size, 8);
    char *grown = realloc(plain, size * 3 + 10);
    CHECK("realloc grows, keeping the contents", grown && holds(grown, size, 8));
    used(grown, size * 3 + 10, 9);
    char *shrunk = realloc(grown, size / 2 + 1);
    CHECK("realloc shrinks, keeping the contents", shrunk && holds(shrunk, size / 2 + 1, 9));
    char *array = reallocarray(shrunk, 4, size);
    CHECK("reallocarray keeps the contents", array && holds(array, size / 2 + 1, 9));
    used(array, 4 * size, 10);
    // realloc(p, 0) frees p; glibc returns NULL, as it must for a sampled block too.
    void *emptied = realloc(used(malloc(size), size, 13), 0);
    CHECK("realloc(p, 0) returns NULL, as glibc's does", emptied == NULL);
    if (emptied != NULL) free(emptied);
    char *fresh = realloc(NULL, size);
    used(fresh, size, 11);

    // An aligned block keeps its alignment's worth of contents through realloc.
    fill(old_style, size, 5);
    old_style = realloc(old_style, size * 2);
    CHECK("realloc of an aligned block keeps the contents", old_style && holds(old_style, size, 5));
    used(old_style, size * 2, 5);
    CHECK("contents survive other allocations", holds(zeroed, size, 2) && holds(aligned, size, 3) &&
                                                    holds(old_style, size, 5) && holds(array, 4 * size, 10));
    free(zeroed);
    free(aligned);
    free(aligned_c11);
    free(old_style);
    free(paged);
    free(paged_rounded);
    free(array);
    // C23's sized frees, where the process has them (the tracker defines both).
    void (*free_sized)(void *, size_t) = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
    void (*free_aligned_sized)(void *, size_t, size_t) =
        (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
    if (free_sized) free_sized(fresh, size); else free(fresh);
    void *aligned_again = used(aligned_alloc(64, (size + 63) & ~(size_t)63), size, 12);
    if (free_aligned_sized) free_aligned_sized(aligned_again, 64, (size + 63) & ~(size_t)63); else free(aligned_again);
}

int main(void) {
    static const size_t sizes[] = {1, 24, 100, 1000, 5000, 70000, 300000};
    exercise(64); // warm up: the tracker's own first-use state
    uint64_t before = stat_at(CURRENT_BYTES);
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) exercise(sizes[i]);
    }
    realloc_keeps_samples();
    growing_buffer_stays_cheap();
    uint64_t after = stat_at(CURRENT_BYTES);
    printf("currentBefore=%llu currentAfter=%llu\n", (unsigned long long)before, (unsigned long long)after);
    CHECK("every byte allocated is freed again", before == after);
    printf("result=%s\n", failures == 0 ? "ok" : "failed");
    return failures == 0 ? 0 : 1;
}
