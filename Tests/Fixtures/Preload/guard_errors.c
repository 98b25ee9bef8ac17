// A program with one memory-safety bug per mode, for the guarded pool (GuardPoolTests): run with
// LEAKWATCH_GUARD_SAMPLE=1 every allocation goes to the pool, so the bug faults (or free() catches
// it) and the agent reports it. Each function that allocates or misbehaves is its own, never
// inlined, so the report's stacks name it. Prints `survived` when it runs on after the bug.
//
//   guard_errors overflow|underflow|use-after-free-read|use-after-free-write|double-free|
//                invalid-free|own-handler|clean|pool-full|fork|threads [START-FILE]
//
// START-FILE: a file to wait for first (60 s at most): the test creates it once the preloaded
// agent has started and shipped, so the report has someone to take it over.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static char *volatile keep; // defeats the optimiser's knowledge of what malloc returned

NOINLINE static char *allocate_block(size_t size) {
    keep = malloc(size);
    return keep;
}

NOINLINE static void release_block(char *block) { free(block); }

NOINLINE static void write_past_end(char *block, size_t offset) { block[offset] = 'x'; }

NOINLINE static char read_before_start(char *block, size_t distance) { return *(volatile char *)(block - distance); }

NOINLINE static char read_after_free(char *block, size_t offset) { return *(volatile char *)(block + offset); }

NOINLINE static void write_after_free(char *block, size_t offset) { *(volatile char *)(block + offset) = 'y'; }

// Whether the byte at `address` can be read, without touching it: write(2) says EFAULT if not.
static int readable(const void *address) {
    int ends[2];
    if (pipe(ends) != 0) return -1;
    ssize_t written = write(ends[1], address, 1);
    int saved = errno;
    close(ends[0]);
    close(ends[1]);
    return written == 1 ? 1 : (saved == EFAULT ? 0 : -1);
}

/// Whether `block` of `size` bytes ends (rounded up to malloc's 16-byte alignment) against a page
/// that cannot be read: it is in the pool.
static int guarded(const void *block, size_t size) {
    uintptr_t end = ((uintptr_t)block + size + 15) & ~(uintptr_t)15;
    return (end & 4095) == 0 && readable((const void *)end) == 0;
}

typedef struct guard_stats {
    uint64_t sample, slot_count, mapped_bytes, guarded_allocations, pool_full, live_blocks, quarantined_slots,
        retired_slots, errors_reported;
} guard_stats;

static void print_guard_stats(void) {
    void (*read_stats)(guard_stats *) = (void (*)(guard_stats *))dlsym(RTLD_DEFAULT, "lt_read_guard_stats");
    if (read_stats == NULL) {
        printf("stats=absent\n");
        return;
    }
    guard_stats stats;
    read_stats(&stats);
    printf("slots=%llu\npoolFull=%llu\nguardedAllocations=%llu\nerrors=%llu\n", (unsigned long long)stats.slot_count,
           (unsigned long long)stats.pool_full, (unsigned long long)stats.guarded_allocations,
           (unsigned long long)stats.errors_reported);
}

static int failures;
#define CHECK(condition)                                                         \
    do {                                                                         \
        if (!(condition)) {                                                      \
            printf("check failed: %s (line %d)\n", #condition, __LINE__);       \
            failures++;                                                          \
        }                                                                        \
    } while (0)

// Every entry point keeps its contract whether or not the pool serves it.
static void clean(void) {
    int in_pool = 0;
    for (size_t size = 16; size <= 4096; size += size / 2 + 16) {
        char *block = allocate_block(size);
        CHECK(block != NULL && ((uintptr_t)block & 15) == 0);
        memset(block, 0xab, size);
        CHECK(malloc_usable_size(block) >= size);
        in_pool += guarded(block, size);
        release_block(block);
    }
    unsigned char *zeroed = calloc(100, 3);
    for (int i = 0; i < 300; i++) CHECK(zeroed[i] == 0);
    in_pool += guarded(zeroed, 304) || guarded(zeroed, 300);
    for (int i = 0; i < 300; i++) zeroed[i] = (unsigned char)i;
    unsigned char *grown = realloc(zeroed, 3000);
    for (int i = 0; i < 300; i++) CHECK(grown[i] == (unsigned char)i);
    unsigned char *shrunk = realloc(grown, 40);
    for (int i = 0; i < 40; i++) CHECK(shrunk[i] == (unsigned char)i);
    unsigned char *huge = realloc(shrunk, 100000); // out of any slot
    for (int i = 0; i < 40; i++) CHECK(huge[i] == (unsigned char)i);
    free(huge);
    size_t alignments[] = {16, 64, 256, 4096};
    for (size_t i = 0; i < 4; i++) {
        void *aligned = NULL;
        CHECK(posix_memalign(&aligned, alignments[i], 100) == 0 && ((uintptr_t)aligned % alignments[i]) == 0);
        memset(aligned, 1, 100);
        free(aligned);
        char *other = aligned_alloc(alignments[i], 200);
        CHECK(other != NULL && ((uintptr_t)other % alignments[i]) == 0);
        memset(other, 2, 200);
        free(other);
        other = memalign(alignments[i], 48);
        CHECK(other != NULL && ((uintptr_t)other % alignments[i]) == 0);
        memset(other, 3, 48);
        free(other);
    }
    char *page = valloc(4000);
    CHECK(page != NULL && ((uintptr_t)page & 4095) == 0);
    memset(page, 4, 4000);
    free(page);
    page = pvalloc(10);
    CHECK(page != NULL && ((uintptr_t)page & 4095) == 0);
    memset(page, 5, 4096);
    free(page);
    free(malloc(0));
    free(realloc(NULL, 24));
    printf("guarded=%d\n", in_pool);
}

static sigjmp_buf recovery;
static volatile sig_atomic_t program_handler_calls;

static void program_handler(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)context;
    program_handler_calls++;
    printf("programHandlerAddress=%p\n", info->si_addr);
    siglongjmp(recovery, 1);
}

static void *thread_churn(void *argument) {
    uintptr_t index = (uintptr_t)argument;
    for (int round = 0; round < 2000; round++) {
        char *block = allocate_block(16 + (size_t)(round % 200) * 8 + index);
        block[0] = (char)round;
        release_block(block);
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    for (int waited = 0; argc > 2 && access(argv[2], F_OK) != 0 && waited < 6000; waited++) usleep(10000);
    if (strcmp(mode, "overflow") == 0) {
        char *block = allocate_block(32);
        write_past_end(block, 32);
        release_block(block);
    } else if (strcmp(mode, "underflow") == 0) {
        char *block = allocate_block(4000);
        (void)read_before_start(block, 100);
        release_block(block);
    } else if (strcmp(mode, "use-after-free-read") == 0) {
        char *block = allocate_block(64);
        release_block(block);
        (void)read_after_free(block, 5);
    } else if (strcmp(mode, "use-after-free-write") == 0) {
        char *block = allocate_block(64);
        release_block(block);
        write_after_free(block, 7);
    } else if (strcmp(mode, "double-free") == 0) {
        char *block = allocate_block(64);
        release_block(block);
        release_block(block);
    } else if (strcmp(mode, "invalid-free") == 0) {
        char *block = allocate_block(64);
        release_block(block + 8);
        release_block(block);
    } else if (strcmp(mode, "own-handler") == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = program_handler;
        action.sa_flags = SA_SIGINFO;
        sigemptyset(&action.sa_mask);
        sigaction(SIGSEGV, &action, NULL);
        // An allocation after the program's handler is installed: the pool's handler goes in front.
        char *block = allocate_block(32);
        if (sigsetjmp(recovery, 1) == 0) *(volatile int *)(uintptr_t)16 = 1; // outside the pool
        printf("programHandlerCalls=%d\n", (int)program_handler_calls);
        write_past_end(block, 32); // in the pool: the agent's, and the program's handler is not called
        printf("programHandlerCallsAfterPoolFault=%d\n", (int)program_handler_calls);
        release_block(block);
    } else if (strcmp(mode, "clean") == 0) {
        clean();
        printf("result=%s\n", failures == 0 ? "ok" : "FAILED");
    } else if (strcmp(mode, "pool-full") == 0) {
        char *blocks[200];
        for (int i = 0; i < 200; i++) {
            blocks[i] = allocate_block(100);
            memset(blocks[i], i, 100);
        }
        for (int i = 0; i < 200; i++) {
            for (int j = 0; j < 100; j++) CHECK(blocks[i][j] == (char)i);
            release_block(blocks[i]);
        }
        print_guard_stats();
        printf("result=%s\n", failures == 0 ? "ok" : "FAILED");
    } else if (strcmp(mode, "fork") == 0) {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            char *block = allocate_block(64);
            release_block(block);
            write_after_free(block, 9);
            _exit(3);
        }
        int status = 0;
        waitpid(child, &status, 0);
        printf("childExit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        clean();
        printf("result=%s\n", failures == 0 ? "ok" : "FAILED");
    } else if (strcmp(mode, "threads") == 0) {
        pthread_t threads[8];
        for (uintptr_t i = 0; i < 8; i++) pthread_create(&threads[i], NULL, thread_churn, (void *)i);
        for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
        char *block = allocate_block(48);
        write_past_end(block, 48);
        release_block(block);
        print_guard_stats();
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("survived\n");
    return 0;
}
