// Leaks known byte counts at two functions, then exits normally.
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void leak_in_parser(void) {
    for (int i = 0; i < 5; i++) sink = malloc(12345);
}

__attribute__((noinline)) void leak_in_cache(void) {
    for (int i = 0; i < 9; i++) sink = calloc(1, 777);
}

int main(void) {
    leak_in_parser();
    leak_in_cache();
    for (int i = 0; i < 1000; i++) free(malloc(50)); // freed: must not show
    puts("two_leaks done");
    return 0;
}
