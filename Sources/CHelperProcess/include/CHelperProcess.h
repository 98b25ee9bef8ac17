#ifndef CHELPERPROCESS_H
#define CHELPERPROCESS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp`, reading `input_fd` as its stdin and writing its stdout to
/// `output_fd`, stderr to /dev/null and no other descriptor open, signal handlers at their
/// defaults: a helper of the agent's that the watched program never sees. It is started by a
/// short-lived intermediate child that sends no SIGCHLD (it never execs) and is reaped here, so
/// the helper is an orphan from its first instruction: its exit goes to init (or to a subreaper
/// above the program), never to the program's SIGCHLD handler or `waitpid(-1, ...)`. A process
/// that execs always signals its parent at exit, whatever `clone` was told.
///
/// Returns a pidfd for the helper (to kill it with `lw_helper_kill`; close it when done), or -1
/// with errno set.
int lw_helper_spawn(const char *path, char *const argv[], char *const envp[], int input_fd, int output_fd);

/// Sends SIGKILL to the helper behind `pidfd`: 0, or -1 with errno set.
int lw_helper_kill(int pidfd);

/// The path of the loaded object holding `address`, as the dynamic loader has it (NULL when none
/// does; the main program's may not be absolute).
const char *lw_image_path(const void *address);

#endif
