// Writes through a null pointer after 300 ms (time for a configured agent to load its runtime):
// it must die of SIGSEGV exactly as it does without the agent, with nothing else on stderr.
#include <stdio.h>
#include <unistd.h>

int main(void) {
    usleep(300 * 1000);
    fputs("about to crash\n", stderr);
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return 0;
}
