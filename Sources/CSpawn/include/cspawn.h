#ifndef CSPAWN_H
#define CSPAWN_H
#include <sys/types.h>

/// Starts `path` with `argv` and `envp` from a dedicated long-lived thread, so that the child's
/// parent-death signal (SIGKILL, Linux) fires only when this process dies, never when some
/// worker thread exits. In the child: `keep_fd` becomes descriptor 3 (unless -1), `stderr_fd`
/// becomes 2 (unless -1), 0 and 1 are /dev/null, every other descriptor is closed, and the
/// child gets its own process group, default signal dispositions and an empty signal mask.
/// Returns the pid, or -1 with errno set (also when exec fails: the child reports errno through
/// a close-on-exec pipe).
pid_t cspawn_start(const char *path, char *const argv[], char *const envp[], int keep_fd, int stderr_fd);

#endif
