// A program that watches its children as nginx's master and redis do: a SIGCHLD handler, and
// `waitpid(-1, ..., WNOHANG)` until none is left. It allocates in watched_allocation, runs until
// PATH exists (or TIMEOUT seconds, default 60, then exits 3), and prints what it saw:
// "sigchld N reaped M". It starts no child, so an agent's helper process must show as 0 and 0.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t sigchld_count;
static void count_sigchld(int signal_number) {
    (void)signal_number;
    sigchld_count++;
}

void *volatile kept[64];
__attribute__((noinline)) void watched_allocation(int index) { kept[index] = malloc(100000); }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: child_watcher PATH [TIMEOUT_SECONDS]\n");
        return 2;
    }
    struct sigaction action = {.sa_handler = count_sigchld};
    sigaction(SIGCHLD, &action, NULL);
    for (int index = 0; index < 64; index++) watched_allocation(index);

    double timeout = argc > 2 ? atof(argv[2]) : 60;
    const struct timespec tick = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    double waited = 0;
    while (access(argv[1], F_OK) != 0) {
        if (waited >= timeout) return 3;
        nanosleep(&tick, NULL);
        waited += 0.02;
    }
    int reaped = 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) reaped++;
    printf("sigchld %d reaped %d\n", (int)sigchld_count, reaped);
    return 0;
}
