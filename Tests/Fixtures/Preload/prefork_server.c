// A prefork server in the shape of nginx or Apache: the master forks `WORKERS` workers without
// exec; each worker leaks at its own function for `SECONDS` seconds, or until `STOP_FILE` exists
// when one is named, then exits; the master waits for them. Prints each worker's pid.
//   prefork_server [WORKERS] [SECONDS] [STOP_FILE]
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

__attribute__((noinline)) void leak_in_worker(void) {
    char *block = malloc(64 * 1024);
    memset(block, 1, 64 * 1024);
    sink = block;
}

__attribute__((noinline)) void leak_in_master(void) {
    for (int i = 0; i < 4; i++) sink = malloc(100000);
}

int main(int argc, char **argv) {
    int workers = argc > 1 ? atoi(argv[1]) : 2;
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    const char *stop_file = argc > 3 ? argv[3] : NULL;
    leak_in_master();
    fflush(stdout);
    for (int i = 0; i < workers; i++) {
        pid_t worker = fork();
        if (worker < 0) return 1;
        if (worker == 0) {
            clearenv(); // as nginx's workers do: they keep only what its `env` directives name
            for (int tick = 0; tick < seconds * 20 && !(stop_file && access(stop_file, F_OK) == 0); tick++) {
                leak_in_worker();
                usleep(50 * 1000);
            }
            _exit(0);
        }
        printf("worker=%d\n", (int)worker);
    }
    fflush(stdout);
    int status, failed = 0;
    while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    puts(failed ? "a worker failed" : "workers done");
    return failed;
}
