#ifndef CSPAWN_H
#define CSPAWN_H
#include <sys/types.h>

/// Starts `path` with `argv` and `envp` from a dedicated long-lived thread, so that the child's
/// parent-death signal (SIGKILL, Linux) fires only when this process dies, never when some
/// worker thread exits. In the child: `keep_fd` becomes descriptor 3 (unless -1), `stderr_fd`
/// becomes 2 (unless -1), 0 and 1 are /dev/null, every other descriptor is closed, and the
/// child gets its own process group, default signal dispositions and an empty signal mask.
/// The child is started as posix_spawn does (clone with CLONE_VM | CLONE_VFORK: no copy of the
/// prober's page tables). Returns the pid, or -1 with errno set (also when exec fails: the child
/// reports errno in the memory it shares with the spawner until exec).
pid_t cspawn_start(const char *path, char *const argv[], char *const envp[], int keep_fd, int stderr_fd);

#endif
