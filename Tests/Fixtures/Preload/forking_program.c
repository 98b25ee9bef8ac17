// The parent leaks at one function and forks a child that leaks at another and exits (running the
// atexit handlers it inherited) once the parent has exited, report written. Prints the child's pid.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

__attribute__((noinline)) void leak_in_parent(void) {
    for (int i = 0; i < 3; i++) sink = malloc(4321);
}

__attribute__((noinline)) void leak_in_child(void) {
    for (int i = 0; i < 7; i++) sink = malloc(1234);
}

int main(void) {
    leak_in_parent();
    fflush(stdout);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        leak_in_child();
        while (getppid() == parent) usleep(10 * 1000); // outlive the parent and its exit report
        exit(0);
    }
    printf("child=%d\n", (int)child);
    return 0;
}
