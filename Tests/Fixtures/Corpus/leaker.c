// Built -no-pie, -static-pie and stripped by the corpus: allocates a few MiB at two functions and
// keeps half of it, so that sampled sites in the executable itself are symbolized at exit, and
// with a second argument keeps churning for that many seconds, so that the agent's shipper
// symbolizes them while the program runs. Prints nothing that depends on the time.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *volatile kept[4096];

__attribute__((noinline)) static void fill_table(int count) {
    for (int i = 0; i < count; i++) {
        kept[i] = malloc(1024 + i % 512);
        memset(kept[i], i & 0xff, 1024);
    }
}

__attribute__((noinline)) static unsigned long churn(int rounds) {
    unsigned long sum = 0;
    for (int i = 0; i < rounds; i++) {
        unsigned char *block = malloc(4096);
        memset(block, i & 0xff, 4096);
        sum += block[i % 4096];
        free(block);
    }
    return sum;
}

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 4096;
    fill_table(count);
    unsigned long sum = churn(2000);
    for (int i = 0; i < count; i += 2) free(kept[i]);
    if (argc > 2) {
        time_t end = time(NULL) + atoi(argv[2]);
        while (time(NULL) < end) {
            churn(200);
            usleep(20 * 1000);
        }
    }
    printf("leaker kept %d blocks, churn sum %lu\n", count / 2, sum);
    fprintf(stderr, "leaker: done\n");
    return 3;
}
