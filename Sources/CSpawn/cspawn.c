#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct request {
    const char *path;
    char *const *argv;
    char *const *envp;
    int keep_fd;
    int stderr_fd;
    pid_t result;
    int error;
    int done;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t serial = PTHREAD_MUTEX_INITIALIZER;
static struct request *pending = NULL;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int thread_error = 0;

static void close_fds(unsigned first, unsigned last) {
    if (syscall(SYS_close_range, first, last, 0) == 0) return;
    for (unsigned fd = first; fd <= last && fd < 65536; fd++) close((int)fd);
}

static void child(struct request *r, int report_fd, pid_t parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
    if (getppid() != parent) _exit(127); /* the parent already died */
    setpgid(0, 0);
    /* The spawner thread inherited the mask of the Swift thread that started it (nearly every signal blocked), and
     * the prober ignores SIGINT, SIGTERM and SIGHUP: exec keeps both, so QEMU would never see SIGTERM. Give it
     * default dispositions and an empty mask. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0) goto fail;
    /* Move the descriptors we keep above 3 first, so the dup2s below cannot clobber them. */
    int keep = r->keep_fd >= 0 ? fcntl(r->keep_fd, F_DUPFD, 10) : -1;
    int err = r->stderr_fd >= 0 ? fcntl(r->stderr_fd, F_DUPFD, 10) : -1;
    int report = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
    if ((r->keep_fd >= 0 && keep < 0) || (r->stderr_fd >= 0 && err < 0) || report < 0) goto fail;
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) goto fail;
    if (dup2(err >= 0 ? err : devnull, 2) < 0) goto fail;
    if (keep >= 0 && dup2(keep, 3) < 0) goto fail;
    /* Close everything else except the report pipe (close-on-exec). */
    int first = keep >= 0 ? 4 : 3;
    if (report > first) close_fds(first, (unsigned)report - 1);
    close_fds((unsigned)report + 1, ~0U);
    execve(r->path, r->argv, r->envp);
    report_fd = report;
fail:;
    int e = errno;
    ssize_t ignored = write(report_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

static void run(struct request *r) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        r->result = -1;
        r->error = errno;
        return;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        child(r, pipefd[1], parent);
    }
    close(pipefd[1]);
    if (pid < 0) {
        r->result = -1;
        r->error = errno;
        close(pipefd[0]);
        return;
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(pipefd[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof child_errno) {
        /* exec failed: reap the child and report its errno. */
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        r->result = -1;
        r->error = child_errno;
        return;
    }
    r->result = pid;
    r->error = 0;
}

static void *spawner(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (pending == NULL) pthread_cond_wait(&cond, &lock);
        struct request *r = pending;
        pending = NULL;
        pthread_mutex_unlock(&lock);
        run(r);
        pthread_mutex_lock(&lock);
        r->done = 1;
        pthread_cond_broadcast(&cond);
    }
    return NULL;
}

static void start_thread(void) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    thread_error = pthread_create(&thread, &attr, spawner, NULL);
    pthread_attr_destroy(&attr);
}

pid_t cspawn_start(const char *path, char *const argv[], char *const envp[], int keep_fd, int stderr_fd) {
    pthread_once(&once, start_thread);
    if (thread_error != 0) {
        errno = thread_error;
        return -1;
    }
    struct request r = {path, argv, envp, keep_fd, stderr_fd, -1, 0, 0};
    pthread_mutex_lock(&serial);
    pthread_mutex_lock(&lock);
    pending = &r;
    pthread_cond_broadcast(&cond);
    while (!r.done) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&serial);
    if (r.result < 0) errno = r.error;
    return r.result;
}
