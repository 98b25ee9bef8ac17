// Runs until PATH exists, then exits 0; exits 3 after TIMEOUT seconds (default 60) without it.
// A test that must see something happen inside a preloaded process (a snapshot acknowledged)
// creates PATH once it has, instead of guessing how long a loaded machine needs.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: run_until_file PATH [TIMEOUT_SECONDS]\n");
        return 2;
    }
    double timeout = argc > 2 ? atof(argv[2]) : 60;
    const struct timespec tick = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    for (double waited = 0; waited < timeout; waited += 0.02) {
        if (access(argv[1], F_OK) == 0) return 0;
        nanosleep(&tick, NULL);
    }
    return 3;
}
