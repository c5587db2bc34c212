/*
 * runner.c - the referee's side of a policy worker (runner.h).
 *
 * RUNNER_SANDBOX: the object is read and checked (elfcheck) on every load
 * and handed to the worker as a sealed memfd, so what the worker loads is
 * exactly what was checked, whatever happens to the cache afterwards.
 * posix_spawn of fmsp-worker with an empty environment and exactly fds 0-5.
 * Every wait on the worker is a poll() in slices; a slice with no answer
 * reads the worker's CPU clock (the kernel's accounting) against the budget
 * of the request in flight and its scheduler state (/proc/PID/stat) for a
 * hang. A round trip costs the referee a write, a poll, a read and a clock
 * read; the worker a read and a write. A dead worker is reaped and
 * classified from its wait status and rusage alone.
 *
 * RUNNER_INPROC: the object is dlopen()ed here and called directly.
 */
#include "runner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/util.h"
#include "elfcheck.h"
#include "fdio.h"
#include "protocol.h"

typedef void *(*CreateFn)(const FmspParams *, FmspRng *);
typedef void (*ActFn)(void *, const FmspObs *, FmspControl *);
typedef void (*FreeFn)(void *);

struct Runner {
    RunnerMode mode;
    RunnerLimits limits;
    int side;
    char domain[16];               /* "cartag" (lockstep) or "gandalf" (calls) */
    int n;                         /* episodes of the current batch */
    int dead;
    /* sandbox */
    pid_t pid;
    int cmd_fd, reply_fd, out_fd, stat_fd;
    clockid_t cpu_clock;           /* the worker's CPU clock (kernel) */
    double cpu_mark;               /* worker CPU seconds at the last answer */
    double batch_cpu;              /* worker CPU seconds since the batch began */
    double cpu_rlimit;             /* the worker's RLIMIT_CPU */
    double cpu_final;              /* CPU of the reaped worker (rusage) */
    double last_answer_s;          /* wall time the last answer took */
    char engine_error[160];        /* set when the worker died of something
                                      not its own (killed from outside) */
    int killed;                    /* we sent the SIGKILL */
    /* the request in flight (pend_type 0: none) */
    int pend_type, pend_expect, pend_write_failed;
    uint8_t pend_call[RUNNER_MAX_BATCH];
    double pend_budget;
    const char *pend_what;
    FmspControl *pend_out;
    Fault *pend_faults;
    ProtoReply replies[RUNNER_MAX_BATCH + 1];
    char msg[sizeof(ProtoHeader) + RUNNER_MAX_BATCH + sizeof(FmspState) * RUNNER_MAX_BATCH];
    char *output;                  /* first output_bytes of stdout+stderr */
    size_t output_len, output_total;
    /* in-process */
    void *handle;
    CreateFn create;
    ActFn act;
    FreeFn free_fn;
    void *states[RUNNER_MAX_BATCH];
    FmspRng rngs[RUNNER_MAX_BATCH];
};

const char *fault_name(FaultKind kind)
{
    static const char *const names[FAULT__COUNT] = {
        "none", "load", "crash", "timeout", "memory", "exit",
        "syscall", "nonfinite", "output", "protocol", "lost",
    };
    return (unsigned)kind < FAULT__COUNT ? names[kind] : "?";
}

void runner_limits_default(RunnerLimits *l)
{
    l->create_cpu_s = 1.0;
    l->step_cpu_s = 0.05;
    l->episode_cpu_s = 10.0;
    l->match_cpu_s = 120.0;
    l->mem_bytes = (size_t)512 << 20;
    l->output_bytes = 64 << 10;
    l->unchecked_objects = 0;
}

char *runner_worker_path(void)
{
    const char *env = getenv("FMSP_WORKER");
    if (env && *env)
        return xstrdup(env);
    char *dir = util_exe_dir();
    char *path = xasprintf("%s/fmsp-worker", dir);
    free(dir);
    return path;
}

static void set_fault(Fault *f, FaultKind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_fault(Fault *f, FaultKind kind, const char *fmt, ...)
{
    f->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ sandbox */

static double worker_cpu(const Runner *r)
{
    struct timespec ts;
    if (clock_gettime(r->cpu_clock, &ts) != 0)
        return r->cpu_mark;
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The worker's scheduler state from /proc/PID/stat ('R' running or
 * runnable, 'S'/'D' asleep...), or 'R' when it cannot be read. */
static char worker_state(const Runner *r)
{
    char buf[512];
    if (r->stat_fd < 0)
        return 'R';
    ssize_t got = pread(r->stat_fd, buf, sizeof buf - 1, 0);
    if (got <= 0)
        return 'R';
    buf[got] = 0;
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] ? paren[2] : 'R';
}

/* Reads whatever output is waiting (non-blocking); 1 if the flood cap hit. */
static int drain_output(Runner *r)
{
    char buf[8192];
    for (;;) {
        ssize_t got = read(r->out_fd, buf, sizeof buf);
        if (got <= 0)
            break;
        size_t room = r->limits.output_bytes - r->output_len;
        size_t take = (size_t)got < room ? (size_t)got : room;
        memcpy(r->output + r->output_len, buf, take);
        r->output_len += take;
        r->output_total += (size_t)got;
    }
    return r->output_total > 16 * r->limits.output_bytes + 4096;
}

static void kill_worker(Runner *r)
{
    if (r->pid > 0)
        kill(r->pid, SIGKILL);
}

/* Reaps the worker and writes why it died into f, from the kernel's word
 * alone: the wait status and the resource usage. */
static void classify_death(Runner *r, Fault *f)
{
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t got;
    double until = util_now() + 2.0;
    while ((got = wait4(r->pid, &status, WNOHANG, &ru)) == 0 && util_now() < until)
        usleep(1000);
    if (got == 0) {
        kill(r->pid, SIGKILL);
        got = wait4(r->pid, &status, 0, &ru);
    }
    r->pid = -1;
    r->dead = 1;
    double peak_mb = ru.ru_maxrss / 1024.0, limit_mb = r->limits.mem_bytes / 1048576.0;
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    r->cpu_final = cpu;
    if (got < 0) {
        set_fault(f, FAULT_CRASH, "worker vanished");
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGSYS) {
            set_fault(f, FAULT_SYSCALL, "forbidden system call (the sandbox's seccomp filter killed "
                                        "the worker: no files, network, processes, sleeping or "
                                        "signals)");
        } else if (sig == SIGXCPU || (sig == SIGKILL && !r->killed && cpu >= r->cpu_rlimit)) {
            set_fault(f, FAULT_TIMEOUT, "exceeded the worker's CPU time limit (%.0f s)", r->cpu_rlimit);
        } else if (peak_mb >= 0.8 * limit_mb && (sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT ||
                                                 sig == SIGKILL)) {
            set_fault(f, FAULT_MEMORY, "out of memory: peak %.0f MiB, limit %.0f MiB (%s)", peak_mb,
                      limit_mb, strsignal(sig));
        } else if (sig == SIGKILL && !r->killed) {
            /* not us, not its limits, and a policy cannot send itself
             * SIGKILL: the machine did it (the OOM killer, an operator) */
            set_fault(f, FAULT_CRASH, "killed by signal %d (%s) from outside the engine", sig,
                      strsignal(sig));
            snprintf(r->engine_error, sizeof r->engine_error,
                     "a policy worker was killed from outside the engine (SIGKILL: the OOM killer "
                     "or an operator)");
        } else {
            set_fault(f, FAULT_CRASH, "killed by signal %d (%s)", sig, strsignal(sig));
        }
    } else if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        if (code == 5)
            set_fault(f, FAULT_PROTOCOL, "the worker found its command stream corrupted (exit status 5)");
        else
            set_fault(f, FAULT_EXIT, "the policy ended its process (exit status %d)", code);
    }
}

/* Kills the worker for a fault the referee saw (time, output, protocol),
 * reaps it, and keeps the referee's reason. */
static void kill_for(Runner *r, Fault *cause, FaultKind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void kill_for(Runner *r, Fault *cause, FaultKind kind, const char *fmt, ...)
{
    r->killed = 1;
    kill_worker(r);
    classify_death(r, cause);
    cause->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause->detail, sizeof cause->detail, fmt, ap);
    va_end(ap);
}

/*
 * Waits until `need` bytes arrive in buf. budget: CPU seconds the worker
 * may use from the last reply until this one arrives (kernel accounting).
 * Returns 0, or -1 with *cause set (the worker is then dead).
 */
static int await_reply(Runner *r, void *buf, size_t need, double budget, const char *what,
                       Fault *cause)
{
    size_t have = 0;
    double cpu0 = r->cpu_mark, t0 = util_now(), asleep_since = 0;
    double wall_limit = 20.0 + 100 * budget;
    int slice_ms = (int)(budget * 1000 / 4);
    slice_ms = slice_ms < 1 ? 1 : slice_ms > 100 ? 100 : slice_ms;
    /* Fast policies answer within microseconds: then a short spin on the
     * (non-blocking) reply pipe costs less CPU than sleeping in poll() and
     * being woken. Only when the last answer came that fast, so slow
     * policies never pay for it. */
    if (r->last_answer_s < 50e-6) {
        double spin_until = t0 + 2 * r->last_answer_s + 5e-6;
        while (have < need && util_now() < spin_until) {
            ssize_t got = read(r->reply_fd, (char *)buf + have, need - have);
            if (got > 0)
                have += (size_t)got;
            else if (got == 0 || errno != EAGAIN)
                break;
        }
    }
    while (have < need) {
        struct pollfd p[2] = {{r->reply_fd, POLLIN, 0}, {r->out_fd, POLLIN, 0}};
        int rc = poll(p, 2, slice_ms);
        if (rc < 0 && errno != EINTR) {
            kill_for(r, cause, FAULT_CRASH, "cannot wait for the worker: %s", strerror(errno));
            return -1;
        }
        if (rc > 0 && (p[1].revents & (POLLIN | POLLHUP)) && drain_output(r)) {
            kill_for(r, cause, FAULT_OUTPUT, "wrote more than %zu bytes of output",
                     16 * r->limits.output_bytes);
            return -1;
        }
        if (rc > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(r->reply_fd, (char *)buf + have, need - have);
            if (got > 0) {
                have += (size_t)got;
                continue;
            }
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            drain_output(r);
            classify_death(r, cause);
            return -1;
        }
        if (rc != 0)
            continue;
        /* a slice went by with no answer: check the kernel's accounting */
        double cpu = worker_cpu(r), now = util_now();
        if (cpu - cpu0 > budget) {
            kill_for(r, cause, FAULT_TIMEOUT, "%s used more than %g s of CPU time", what, budget);
            return -1;
        }
        char state = worker_state(r);
        if (state == 'R') {
            asleep_since = 0;
        } else if (asleep_since == 0) {
            asleep_since = now;
        } else if (now - asleep_since > 1.0) {
            kill_for(r, cause, FAULT_TIMEOUT,
                     "hung: blocked for %.1f s without answering (waiting for input that never "
                     "comes)", now - asleep_since);
            return -1;
        }
        if (now - t0 > wall_limit) {
            kill_for(r, cause, FAULT_TIMEOUT,
                     "no answer after %.0f s of wall-clock time (%.3f s of CPU used; the machine "
                     "may be overloaded)", now - t0, cpu - cpu0);
            return -1;
        }
    }
    r->last_answer_s = util_now() - t0;
    double cpu = worker_cpu(r);
    r->cpu_mark = cpu;
    r->batch_cpu += cpu - cpu0;
    if (cpu - cpu0 > budget) {
        kill_for(r, cause, FAULT_TIMEOUT, "%s used more than %g s of CPU time", what, budget);
        return -1;
    }
    return 0;
}

static const char *step_name(int step)
{
    static const char *const names[] = {"?", "arguments", "namespaces", "mounts", "object",
                                        "pivot_root", "privileges", "resource limits",
                                        "seccomp filter"};
    return step > 0 && step < (int)(sizeof names / sizeof names[0]) ? names[step] : "?";
}

/* Reads the object, checks it (unless told not to), and returns a sealed
 * memfd holding exactly the checked bytes, or -1 with err set. */
static int object_fd(const Runner *r, const char *object_path, FmspErr *e, char *err, size_t errlen)
{
    char *data;
    size_t len;
    *e = util_read_file(object_path, PROTO_MAX_OBJECT, &data, &len, err, errlen);
    if (*e)
        return -1;
    char why[256];
    if (!r->limits.unchecked_objects && elfcheck_policy_linked(data, len, why, sizeof why) != FMSP_OK) {
        fmsp_errf(err, errlen, "refused: %s", why);
        free(data);
        *e = FMSP_ERR_REFUSED;
        return -1;
    }
    /* a policy whose static data cannot fit its memory limit would only fail
     * inside the loader, where no reason can be trusted: say so here */
    size_t image = elfcheck_image_bytes(data, len);
    if (image > r->limits.mem_bytes / 2) {
        fmsp_errf(err, errlen, "refused: the policy's static data and code need %zu MiB, more than "
                               "half its %zu MiB memory limit", image >> 20, r->limits.mem_bytes >> 20);
        free(data);
        *e = FMSP_ERR_REFUSED;
        return -1;
    }
    int fd = memfd_create("fmsp-policy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || fdio_write_full(fd, data, len) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        fmsp_errf(err, errlen, "sandbox: cannot pass the policy object to its worker: %s",
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        free(data);
        *e = FMSP_ERR_SANDBOX;
        return -1;
    }
    free(data);
    return fd;
}

static int shared_netns = -1;

/* Makes, once, an empty network namespace for every worker to join: a
 * child enters a new one and we keep a descriptor of it. Only root can let
 * workers join it; otherwise each worker makes its own (fd stays -1). */
static void netns_make(void)
{
    if (geteuid() != 0)
        return;
    int go[2];
    if (pipe2(go, O_CLOEXEC) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
        ssize_t w = write(go[1], &c, 1);
        (void)w;
        for (;;)
            pause(); /* until the parent has opened the namespace and kills us */
    }
    close(go[1]);
    char c = 'n';
    if (pid > 0 && read(go[0], &c, 1) == 1 && c == 'y') {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        /* above 0-6, so the worker's dup2 shuffle cannot overwrite it */
        shared_netns = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (fd >= 0)
            close(fd);
    }
    close(go[0]);
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
}

static FmspErr sandbox_start(Runner *r, const char *object_path, char *err, size_t errlen)
{
    static pthread_once_t netns_once = PTHREAD_ONCE_INIT;
    pthread_once(&netns_once, netns_make);
    FmspErr e = FMSP_OK;
    int objfd = object_fd(r, object_path, &e, err, errlen);
    if (objfd < 0)
        return e;
    char *worker = runner_worker_path();
    int cmd[2] = {-1, -1}, rep[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe2(cmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
        fmsp_errf(err, errlen, "sandbox: cannot create pipes: %s", strerror(errno));
        e = FMSP_ERR_SANDBOX;
    }
    /* Move every fd the worker gets above the target numbers 0-5, so that
     * the dup2 shuffle below can never overwrite one source with another. */
    int *moves[] = {&objfd, &cmd[0], &rep[1], &out[1]};
    for (int i = 0; i < 4 && !e; i++) {
        int hi = fcntl(*moves[i], F_DUPFD_CLOEXEC, 10);
        if (hi < 0) {
            fmsp_errf(err, errlen, "sandbox: cannot move a descriptor: %s", strerror(errno));
            e = FMSP_ERR_SANDBOX;
            break;
        }
        close(*moves[i]);
        *moves[i] = hi;
    }
    if (!e) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, out[1], 2);
        posix_spawn_file_actions_adddup2(&fa, cmd[0], PROTO_CMD_FD);
        posix_spawn_file_actions_adddup2(&fa, rep[1], PROTO_REPLY_FD);
        posix_spawn_file_actions_adddup2(&fa, objfd, PROTO_OBJECT_FD);
        if (shared_netns >= 0)
            posix_spawn_file_actions_adddup2(&fa, shared_netns, PROTO_NETNS_FD);
        posix_spawn_file_actions_addclosefrom_np(&fa, PROTO_NETNS_FD + 1);
        char side[16], mem[32], cpu[32];
        snprintf(side, sizeof side, "%d", r->side);
        snprintf(mem, sizeof mem, "%zu", r->limits.mem_bytes);
        /* kernel backstop on the whole worker: a batch's worth of episodes */
        r->cpu_rlimit = RUNNER_MAX_BATCH * (r->limits.episode_cpu_s + r->limits.create_cpu_s) + 5;
        snprintf(cpu, sizeof cpu, "%.0f", r->cpu_rlimit);
        char *argv[] = {worker, side, mem, cpu, r->domain, NULL};
        char *envp[] = {NULL};
        int rc = posix_spawn(&r->pid, worker, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            fmsp_errf(err, errlen, "sandbox: cannot start the policy worker '%s': %s (set "
                                   "FMSP_WORKER)",
                      worker, strerror(rc));
            r->pid = -1;
            e = FMSP_ERR_SANDBOX;
        }
    }
    if (objfd >= 0)
        close(objfd);
    if (cmd[0] >= 0)
        close(cmd[0]);
    if (rep[1] >= 0)
        close(rep[1]);
    if (out[1] >= 0)
        close(out[1]);
    r->cmd_fd = cmd[1];
    r->reply_fd = rep[0];
    r->out_fd = out[0];
    if (r->out_fd >= 0)
        fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
    if (r->reply_fd >= 0)
        fcntl(r->reply_fd, F_SETFL, O_NONBLOCK);
    free(worker);
    if (e)
        return e;
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)r->pid);
    r->stat_fd = open(stat_path, O_RDONLY | O_CLOEXEC);
    if (clock_getcpuclockid(r->pid, &r->cpu_clock) != 0)
        r->cpu_clock = CLOCK_MONOTONIC; /* cannot happen for our own child */
    r->cpu_mark = worker_cpu(r);
    signal(SIGPIPE, SIG_IGN);

    /* The first greeting comes before any policy code: believed. */
    ProtoHello h;
    Fault cause = {0};
    if (await_reply(r, &h, sizeof h, 5.0, "setting up the jail", &cause) != 0) {
        fmsp_errf(err, errlen, "sandbox: the policy worker died while setting up its jail: %s",
                  cause.detail);
        return FMSP_ERR_SANDBOX;
    }
    if (h.magic != PROTO_MAGIC || (h.status != PROTO_JAILED && h.status != PROTO_JAIL_FAILED)) {
        fmsp_errf(err, errlen, "sandbox: the policy worker sent a bad greeting");
        return FMSP_ERR_SANDBOX;
    }
    if (h.status == PROTO_JAIL_FAILED) {
        fmsp_errf(err, errlen, "sandbox: cannot set up the policy worker's jail (%s): %s%s",
                  step_name(h.detail), strerror(h.err),
                  h.detail == PROTO_STEP_NAMESPACES ? " (fmsp needs root or unprivileged user "
                                                      "namespaces)" : "");
        return FMSP_ERR_SANDBOX;
    }
    /* The second comes after the loader ran: codes only, all the policy's. */
    r->batch_cpu = 0;
    if (await_reply(r, &h, sizeof h, r->limits.create_cpu_s + 0.5, "loading the policy", &cause) != 0) {
        fmsp_errf(err, errlen, "the policy's worker died while loading it: %s", cause.detail);
        return FMSP_ERR_REFUSED;
    }
    static const char *const entry[] = PROTO_ENTRY_NAMES;
    if (h.magic != PROTO_MAGIC) {
        fmsp_errf(err, errlen, "the policy corrupted its worker's greeting while loading");
        return FMSP_ERR_REFUSED;
    }
    switch (h.status) {
    case PROTO_READY:
        return FMSP_OK;
    case PROTO_LOAD_FAILED:
        fmsp_errf(err, errlen, "the dynamic loader could not load the policy (an undefined symbol, "
                               "a malformed object, or not enough memory)");
        return FMSP_ERR_REFUSED;
    case PROTO_NO_ENTRY:
        fmsp_errf(err, errlen, "policy does not define %s",
                  h.detail >= 0 && h.detail < PROTO_ENTRY__COUNT ? entry[h.detail]
                                                                 : "an entry point");
        return FMSP_ERR_REFUSED;
    case PROTO_WRONG_SIDE:
    {
        int g = strcmp(r->domain, "gandalf") == 0;
        static const char *const macro[2][3] = {{"", "FMSP_PURSUER", "FMSP_EVADER"},
                                                {"", "FMSP_ATTACKER", "FMSP_DEFENDER"}};
        static const char *const name[2][3] = {{"", "pursuer", "evader"},
                                               {"", "attacker", "defender"}};
        fmsp_errf(err, errlen, "policy declares FMSP_SIDE(%s) but plays the %s",
                  macro[g][3 - r->side], name[g][r->side]);
    }
        return FMSP_ERR_REFUSED;
    default:
        fmsp_errf(err, errlen, "the policy corrupted its worker's greeting while loading");
        return FMSP_ERR_REFUSED;
    }
}

/* ------------------------------------------------------------ in-process */

static FmspErr inproc_start(Runner *r, const char *object_path, char *err, size_t errlen)
{
    r->handle = dlopen(object_path, RTLD_NOW | RTLD_LOCAL);
    if (!r->handle) {
        fmsp_errf(err, errlen, "cannot load the policy: %s", dlerror());
        return FMSP_ERR_REFUSED;
    }
    r->create = (CreateFn)dlsym(r->handle, "fmsp_create");
    r->act = (ActFn)dlsym(r->handle, "fmsp_act");
    r->free_fn = (FreeFn)dlsym(r->handle, "fmsp_free");
    const int *side = dlsym(r->handle, "fmsp_policy_side");
    if (!r->create || !r->act || !r->free_fn || !side) {
        fmsp_errf(err, errlen, "policy does not define fmsp_create, fmsp_act, fmsp_free and "
                               "FMSP_SIDE");
        return FMSP_ERR_REFUSED;
    }
    if (*side != r->side) {
        fmsp_errf(err, errlen, "policy declares the other side");
        return FMSP_ERR_REFUSED;
    }
    return FMSP_OK;
}

/* ---------------------------------------------------------------- API */

FmspErr runner_new(RunnerMode mode, const char *object_path, int side, const RunnerLimits *limits,
                   Runner **out, char *err, size_t errlen)
{
    return runner_new_for("cartag", mode, object_path, side, limits, out, err, errlen);
}

FmspErr runner_new_for(const char *domain, RunnerMode mode, const char *object_path, int side,
                       const RunnerLimits *limits, Runner **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(domain, "cartag") != 0 && strcmp(domain, "gandalf") != 0) {
        fmsp_errf(err, errlen, "no policy worker for the domain '%s'", domain);
        return FMSP_ERR_ARG;
    }
    if (mode == RUNNER_INPROC && strcmp(domain, "cartag") != 0) {
        fmsp_errf(err, errlen, "%s policies run only in the sandbox", domain);
        return FMSP_ERR_ARG;
    }
    Runner *r = xcalloc(1, sizeof *r);
    r->mode = mode;
    r->side = side;
    snprintf(r->domain, sizeof r->domain, "%s", domain);
    if (limits)
        r->limits = *limits;
    else
        runner_limits_default(&r->limits);
    if (r->limits.output_bytes < 64)
        r->limits.output_bytes = 64;
    r->output = xmalloc(r->limits.output_bytes + 1);
    r->pid = -1;
    r->cmd_fd = r->reply_fd = r->out_fd = r->stat_fd = -1;
    FmspErr e = mode == RUNNER_INPROC ? inproc_start(r, object_path, err, errlen)
                                      : sandbox_start(r, object_path, err, errlen);
    if (e) {
        runner_free(r);
        return e;
    }
    *out = r;
    return FMSP_OK;
}

void runner_free(Runner *r)
{
    if (!r)
        return;
    if (r->mode == RUNNER_INPROC) {
        if (r->n && r->free_fn)
            for (int i = 0; i < r->n; i++)
                r->free_fn(r->states[i]);
        if (r->handle)
            dlclose(r->handle);
    } else {
        if (r->pid > 0) {
            kill(r->pid, SIGKILL);
            while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        int fds[] = {r->cmd_fd, r->reply_fd, r->out_fd, r->stat_fd};
        for (int i = 0; i < 4; i++)
            if (fds[i] >= 0)
                close(fds[i]);
    }
    free(r->output);
    free(r);
}

double runner_cpu(const Runner *r)
{
    if (r->mode == RUNNER_INPROC)
        return 0;
    return r->pid > 0 ? worker_cpu(r) : r->cpu_final;
}

int runner_dead(const Runner *r)
{
    return r->dead;
}

const char *runner_output(const Runner *r)
{
    r->output[r->output_len] = 0;
    return r->output;
}

static void mark_lost(const Runner *r, const uint8_t *active, Fault *faults)
{
    for (int i = 0; i < r->n; i++)
        if (!active || active[i])
            set_fault(&faults[i], FAULT_LOST, "the worker had died before this episode's call");
}

/* Records the request in flight: which episodes answer, where answers go. */
static void pend(Runner *r, int type, const uint8_t *call, double budget, const char *what,
                 FmspControl *out, Fault *faults)
{
    r->pend_type = type;
    r->pend_expect = 0;
    for (int i = 0; i < r->n; i++) {
        r->pend_call[i] = call ? call[i] : 1;
        r->pend_expect += r->pend_call[i];
    }
    r->pend_budget = budget * (type == PROTO_END ? 1 : (r->pend_expect ? r->pend_expect : 1));
    r->pend_what = what;
    r->pend_out = out;
    r->pend_faults = faults;
}

/* The worker died or was killed with a request in flight: one episode in
 * flight is to blame; several are suspects, to be replayed alone. */
static void fault_in_flight(Runner *r, const Fault *cause)
{
    for (int i = 0; i < r->n; i++) {
        if (!r->pend_call[i])
            continue;
        if (r->pend_expect == 1)
            r->pend_faults[i] = *cause;
        else
            set_fault(&r->pend_faults[i], FAULT_LOST,
                      "suspect: the worker died serving %d episodes (%.100s); replayed alone",
                      r->pend_expect, cause->detail);
    }
}

FmspErr runner_begin_send(Runner *r, int n, const FmspParams *params, const uint64_t *rng_seeds,
                          Fault *faults)
{
    if (n < 1 || n > RUNNER_MAX_BATCH)
        return FMSP_ERR_ARG;
    r->n = n;
    r->pend_type = 0;
    for (int i = 0; i < n; i++)
        memset(&faults[i], 0, sizeof faults[i]);
    if (r->mode == RUNNER_INPROC) {
        for (int i = 0; i < n; i++) {
            fmsp_rng_seed(&r->rngs[i], rng_seeds[i]);
            r->states[i] = r->create(params, &r->rngs[i]);
        }
        return FMSP_OK;
    }
    if (r->dead) {
        mark_lost(r, NULL, faults);
        return FMSP_OK;
    }
    r->batch_cpu = 0;
    ProtoHeader h = {PROTO_MAGIC, PROTO_BEGIN, (uint32_t)n, 0};
    char msg[sizeof h + sizeof *params + sizeof(uint64_t) * RUNNER_MAX_BATCH];
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, params, sizeof *params);
    memcpy(msg + sizeof h + sizeof *params, rng_seeds, sizeof(uint64_t) * (size_t)n);
    pend(r, PROTO_BEGIN, NULL, r->limits.create_cpu_s, "fmsp_create", NULL, faults);
    if (fdio_write_full(r->cmd_fd, msg, sizeof h + sizeof *params + sizeof(uint64_t) * (size_t)n) != 0)
        r->pend_write_failed = 1;
    return FMSP_OK;
}

FmspErr runner_act_send(Runner *r, const FmspObs *obs, const uint8_t *active, FmspControl *out,
                        Fault *faults)
{
    int n = r->n;
    uint8_t call[RUNNER_MAX_BATCH];
    int expect = 0;
    r->pend_type = 0;
    for (int i = 0; i < n; i++) {
        call[i] = active[i];
        if (active[i])
            memset(&out[i], 0, sizeof out[i]);
        expect += call[i];
    }
    if (r->mode == RUNNER_INPROC) {
        for (int i = 0; i < n; i++)
            if (call[i])
                r->act(r->states[i], &obs[i], &out[i]);
        return FMSP_OK;
    }
    if (r->dead) {
        mark_lost(r, call, faults);
        return FMSP_OK;
    }
    if (expect == 0)
        return FMSP_OK;
    ProtoHeader h = {PROTO_MAGIC, PROTO_ACT, (uint32_t)n, 0};
    memcpy(r->msg, &h, sizeof h);
    memset(r->msg + sizeof h, 0, RUNNER_MAX_BATCH);
    memcpy(r->msg + sizeof h, call, (size_t)n);
    /* states only: the parameters went with BEGIN and do not change */
    for (int i = 0; i < n; i++)
        memcpy(r->msg + sizeof h + RUNNER_MAX_BATCH + sizeof(FmspState) * (size_t)i, &obs[i].state,
               sizeof(FmspState));
    pend(r, PROTO_ACT, call, r->limits.step_cpu_s, "fmsp_act", out, faults);
    if (fdio_write_full(r->cmd_fd, r->msg, sizeof h + RUNNER_MAX_BATCH + sizeof(FmspState) * (size_t)n) != 0)
        r->pend_write_failed = 1;
    return FMSP_OK;
}

const char *runner_engine_error(const Runner *r)
{
    return r->engine_error[0] ? r->engine_error : NULL;
}

FmspErr runner_wait(Runner *r)
{
    if (r->mode == RUNNER_INPROC || r->pend_type == 0)
        return FMSP_OK;
    int type = r->pend_type;
    r->pend_type = 0;
    Fault cause = {0};
    size_t need = sizeof(ProtoReply) * (size_t)(type == PROTO_END ? 1 : r->pend_expect);
    int write_failed = r->pend_write_failed;
    r->pend_write_failed = 0;
    if (write_failed || await_reply(r, r->replies, need, r->pend_budget, r->pend_what, &cause) != 0) {
        if (!r->dead)
            classify_death(r, &cause);
        if (r->engine_error[0])
            return FMSP_ERR_SANDBOX; /* not the policy's doing: stop, do not blame */
        if (type != PROTO_END)
            fault_in_flight(r, &cause);
        return FMSP_OK;
    }
    if (type == PROTO_END) {
        if (r->replies[0].magic != PROTO_MAGIC || r->replies[0].episode != (uint32_t)r->n)
            kill_for(r, &cause, FAULT_PROTOCOL, "corrupted the worker protocol");
        return FMSP_OK;
    }
    int k = 0;
    for (int i = 0; i < r->n; i++) {
        if (!r->pend_call[i])
            continue;
        const ProtoReply *p = &r->replies[k++];
        if (p->magic != PROTO_MAGIC || p->episode != (uint32_t)i) {
            kill_for(r, &cause, FAULT_PROTOCOL, "corrupted the worker protocol");
            fault_in_flight(r, &cause);
            return FMSP_OK;
        }
    }
    double episode_budget = r->n * r->limits.episode_cpu_s;
    if (r->batch_cpu > episode_budget) {
        kill_for(r, &cause, FAULT_TIMEOUT, "used more than %g s of CPU time in the episode",
                 r->limits.episode_cpu_s);
        if (r->n > 1)
            set_fault(&cause, FAULT_LOST, "the batch's episodes used more than %g s of CPU time",
                      episode_budget);
        fault_in_flight(r, &cause);
        return FMSP_OK;
    }
    if (type == PROTO_ACT) {
        k = 0;
        for (int i = 0; i < r->n; i++)
            if (r->pend_call[i])
                r->pend_out[i] = r->replies[k++].control;
    }
    return FMSP_OK;
}

FmspErr runner_begin(Runner *r, int n, const FmspParams *params, const uint64_t *rng_seeds,
                     Fault *faults)
{
    FmspErr e = runner_begin_send(r, n, params, rng_seeds, faults);
    return e ? e : runner_wait(r);
}

FmspErr runner_act(Runner *r, const FmspObs *obs, const uint8_t *active, FmspControl *out,
                   Fault *faults)
{
    FmspErr e = runner_act_send(r, obs, active, out, faults);
    return e ? e : runner_wait(r);
}

FmspErr runner_end(Runner *r)
{
    if (r->mode == RUNNER_INPROC) {
        for (int i = 0; i < r->n; i++)
            r->free_fn(r->states[i]);
        r->n = 0;
        return FMSP_OK;
    }
    if (r->dead || r->n == 0)
        return FMSP_OK;
    /* a crash in fmsp_free: the episodes are over, results stand */
    ProtoHeader h = {PROTO_MAGIC, PROTO_END, (uint32_t)r->n, 0};
    pend(r, PROTO_END, NULL, r->limits.create_cpu_s * r->n, "fmsp_free", NULL, NULL);
    if (fdio_write_full(r->cmd_fd, &h, sizeof h) != 0)
        r->pend_write_failed = 1;
    runner_wait(r);
    r->n = 0;
    return FMSP_OK;
}

/* ------------------------------------------------------------ calls */

/* Reads one ProtoMsg and its text within the call's remaining CPU budget.
 * 0, or -1 with *fault set (the worker is then dead). */
static int read_msg(Runner *r, ProtoMsg *m, char *text, double budget, double *used,
                    const char *what, Fault *fault)
{
    double cpu0 = r->cpu_mark;
    if (await_reply(r, m, sizeof *m, budget - *used, what, fault) != 0)
        return -1;
    if (m->magic != PROTO_MAGIC || (m->kind != PROTO_MSG_DONE && m->kind != PROTO_MSG_ASK) ||
        m->len > PROTO_MAX_CALL) {
        kill_for(r, fault, FAULT_PROTOCOL, "corrupted the worker protocol");
        return -1;
    }
    if (m->len && await_reply(r, text, m->len, budget - *used, what, fault) != 0)
        return -1;
    *used += r->cpu_mark - cpu0;
    return 0;
}

FmspErr runner_call(Runner *r, uint32_t op, const void *payload, size_t len, double cpu_s,
                    const char *what, RunnerAskFn ask, void *ctx, RunnerCallResult *res)
{
    memset(res, 0, sizeof *res);
    if (r->mode != RUNNER_SANDBOX || len > PROTO_MAX_CALL)
        return FMSP_ERR_ARG;
    if (r->dead) {
        set_fault(&res->fault, FAULT_LOST, "the worker had died before this call");
        return FMSP_OK;
    }
    ProtoHeader h = {PROTO_MAGIC, PROTO_CALL, (uint32_t)len, op};
    if (fdio_write_full(r->cmd_fd, &h, sizeof h) != 0 ||
        (len && fdio_write_full(r->cmd_fd, payload, len) != 0)) {
        classify_death(r, &res->fault);
        return r->engine_error[0] ? FMSP_ERR_SANDBOX : FMSP_OK;
    }
    static _Thread_local char text[PROTO_MAX_CALL + 1];
    double used = 0;
    for (int asks = 0;; asks++) {
        ProtoMsg m;
        if (read_msg(r, &m, text, cpu_s, &used, what, &res->fault) != 0)
            return r->engine_error[0] ? FMSP_ERR_SANDBOX : FMSP_OK;
        text[m.len] = 0;
        if (m.kind == PROTO_MSG_DONE) {
            res->value = m.value;
            size_t take = m.len < sizeof res->text - 1 ? m.len : sizeof res->text - 1;
            memcpy(res->text, text, take);
            res->text[take] = 0;
            res->text_len = take;
            res->asks = asks;
            return FMSP_OK;
        }
        /* a model question: the referee makes the call (the worker sleeps
         * meanwhile, so the wait starts afresh afterwards) */
        static _Thread_local char answer[PROTO_MAX_CALL];
        int got = ask ? ask(ctx, text, m.len, answer, sizeof answer) : -1;
        if (got == RUNNER_ASK_ENGINE) {
            kill_for(r, &res->fault, FAULT_LOST, "the model call failed (an engine error)");
            return FMSP_ERR_NET;
        }
        ProtoHeader a = {PROTO_MAGIC, PROTO_ANSWER, got > 0 ? (uint32_t)got : 0, got < 0 ? 1 : 0};
        if (fdio_write_full(r->cmd_fd, &a, sizeof a) != 0 ||
            (got > 0 && fdio_write_full(r->cmd_fd, answer, (size_t)got) != 0)) {
            classify_death(r, &res->fault);
            return r->engine_error[0] ? FMSP_ERR_SANDBOX : FMSP_OK;
        }
        r->last_answer_s = 1; /* no spin: the answer takes the policy time */
    }
}
