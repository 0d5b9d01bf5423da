#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
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

/* What the child needs, and where it reports why it failed (it shares the spawner's memory until exec). */
struct child_args {
    struct request *r;
    pid_t parent;
    int error;
};

static int child(void *argument) {
    struct child_args *a = argument;
    struct request *r = a->r;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto fail;
    if (getppid() != a->parent) _exit(127); /* the parent already died */
    setpgid(0, 0);
    /* The spawner thread inherited the mask of the Swift thread that started it (nearly every signal blocked), and
     * the prober ignores SIGINT, SIGTERM and SIGHUP: exec keeps both, so QEMU would never see SIGTERM. Give it
     * default dispositions (before unblocking: a handler must never run in this child, which shares the prober's
     * memory) and an empty mask. */
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
    if ((r->keep_fd >= 0 && keep < 0) || (r->stderr_fd >= 0 && err < 0)) goto fail;
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) goto fail;
    if (dup2(err >= 0 ? err : devnull, 2) < 0) goto fail;
    if (keep >= 0 && dup2(keep, 3) < 0) goto fail;
    close_fds(keep >= 0 ? 4 : 3, ~0U);
    execve(r->path, r->argv, r->envp);
fail:
    a->error = errno != 0 ? errno : EINVAL;
    _exit(127);
}

/* Starts the child the way posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a stack of its own, so the prober's
 * page tables are not copied and its pages not made copy-on-write (a fork cost ~1 ms, and the faults after it
 * more); this thread resumes once the child has exec'd or failed. Every signal is blocked around it. */
static void run(struct request *r) {
    struct child_args a = {r, getpid(), 0};
    const size_t size = 256 * 1024;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        r->result = -1;
        r->error = errno;
        return;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(child, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, size);
    if (pid < 0) {
        r->result = -1;
        r->error = clone_error;
        return;
    }
    if (a.error != 0) {
        /* exec failed: reap the child and report its errno. */
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        r->result = -1;
        r->error = a.error;
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
