#define _GNU_SOURCE
#include "CHelperProcess.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { stack_size = 64 * 1024, first_free_descriptor = 3 };

struct spawn {
    const char *path;
    char *const *argv;
    char *const *envp;
    int input_fd;
    int output_fd;
    char *helper_stack_top;
    // Written by the intermediate child, in this process's memory (CLONE_VM).
    int pidfd;
    int error;
};

// Both children run in this process's memory until they exec or exit (CLONE_VM | CLONE_VFORK),
// with every signal blocked, so they only make system calls: no allocation, no lock.

static int helper_main(void *argument) {
    const struct spawn *spawn = argument;
    // No handler of the program's may run here, in the program's memory; and the helper starts
    // with default dispositions whatever the program ignores.
    struct sigaction default_action = {.sa_handler = SIG_DFL};
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        (void)sigaction(signal_number, &default_action, NULL);
    }
    // Out of the way of 0 and 1 first: a program that closed its standard descriptors gets its
    // sockets there.
    int input = fcntl(spawn->input_fd, F_DUPFD_CLOEXEC, 10);
    int output = fcntl(spawn->output_fd, F_DUPFD_CLOEXEC, 10);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (input < 0 || output < 0 || null < 0) _exit(127);
    if (dup2(input, STDIN_FILENO) < 0 || dup2(output, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0) _exit(127);
    (void)syscall(SYS_close_range, first_free_descriptor, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    execve(spawn->path, spawn->argv, spawn->envp);
    _exit(127);
}

static int intermediate_main(void *argument) {
    struct spawn *spawn = argument;
    int pidfd = -1;
    pid_t pid = clone(helper_main, spawn->helper_stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, spawn, &pidfd);
    spawn->error = pid < 0 ? errno : 0;
    spawn->pidfd = pid < 0 ? -1 : pidfd;
    _exit(0);
}

int lw_helper_spawn(const char *path, char *const argv[], char *const envp[], int input_fd, int output_fd) {
    char *stacks = mmap(NULL, 2 * stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stacks == MAP_FAILED) return -1;
    struct spawn spawn = {.path = path, .argv = argv, .envp = envp, .input_fd = input_fd, .output_fd = output_fd,
                          .helper_stack_top = stacks + 2 * stack_size, .pidfd = -1, .error = 0};
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    // Exit signal 0 and no exec: no SIGCHLD, and a "clone child" only a __WALL wait sees. It shares
    // this process's descriptor table, where the kernel puts the helper's pidfd.
    pid_t intermediate = clone(intermediate_main, stacks + stack_size, CLONE_VM | CLONE_VFORK | CLONE_FILES, &spawn);
    int error = intermediate < 0 ? errno : spawn.error;
    if (intermediate > 0) {
        while (waitpid(intermediate, NULL, __WALL) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    munmap(stacks, 2 * stack_size);
    if (error != 0 || spawn.pidfd < 0) {
        errno = error != 0 ? error : ECHILD;
        return -1;
    }
    return spawn.pidfd;
}

int lw_helper_kill(int pidfd) { return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0); }

const char *lw_image_path(const void *address) {
    Dl_info info;
    return dladdr(address, &info) != 0 ? info.dli_fname : NULL;
}
