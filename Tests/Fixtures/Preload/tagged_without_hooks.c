// Loads the preload library with dlopen instead of LD_PRELOAD: its malloc and free then interpose
// nothing, as for a program that links the agent without its hooks. Blocks from the tagged API
// (LT_MALLOC) must still be ordinary blocks that glibc's own realloc and free accept.
// Usage: tagged_without_hooks LIBRARY. Prints key=value lines; exits 0 when everything held.
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        printf("error=%s\n", dlerror());
        return 2;
    }
    void *(*tagged_malloc)(size_t, const char *, int, const char *) =
        (void *(*)(size_t, const char *, int, const char *))dlsym(library, "lt_tagged_malloc");
    void (*read_stats)(uint64_t *) = (void (*)(uint64_t *))dlsym(library, "lt_read_stats");
    if (tagged_malloc == NULL || read_stats == NULL) return 2;
    int failures = 0;
    for (int i = 0; i < 100; i++) {
        char *block = tagged_malloc(100 + (size_t)i, __FILE__, __LINE__, __func__);
        memset(block, 7, 100 + (size_t)i);
        block = realloc(block, 10000); // glibc's own: the tracker's are not the process's
        failures += block == NULL || block[99] != 7;
        free(block);
    }
    uint64_t stats[15];
    read_stats(stats);
    printf("taggedAllocations=%llu\n", (unsigned long long)stats[3]);
    failures += stats[3] < 100;
    printf("result=%s\n", failures == 0 ? "ok" : "failed");
    return failures == 0 ? 0 : 1;
}
