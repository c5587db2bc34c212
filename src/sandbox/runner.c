/*
 * runner.c - the referee's side of a policy worker (runner.h).
 *
 * RUNNER_SANDBOX: posix_spawn of fmsp-worker with an empty environment and
 * exactly fds 0-5 (all others closed); every wait on the worker is a poll()
 * in slices during which the runner drains the output pipe and checks the
 * worker's CPU clock against the per-call limit (time measured here, not
 * reported by the worker); a wall-clock backstop catches a worker that
 * blocks without using CPU. A dead worker is reaped and classified (signal,
 * exit, memory, forbidden system call) and the fault charged to the episode
 * the shared page says was being called; every other live episode of the
 * batch is FAULT_LOST.
 *
 * RUNNER_INPROC: the object is dlopen()ed here and called directly.
 */
#include "runner.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/util.h"
#include "fdio.h"
#include "protocol.h"

typedef void *(*CreateFn)(const FmspParams *, FmspRng *);
typedef void (*ActFn)(void *, const FmspObs *, FmspControl *);
typedef void (*FreeFn)(void *);

struct Runner {
    RunnerMode mode;
    RunnerLimits limits;
    int side;
    int n;                         /* episodes of the current batch */
    int dead;
    double episode_cpu[RUNNER_MAX_BATCH];
    uint8_t faulted[RUNNER_MAX_BATCH]; /* the policy lost this episode already */
    /* sandbox */
    pid_t pid;
    int cmd_fd, reply_fd, out_fd;
    ProtoPage *page;
    clockid_t cpu_clock;
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
    l->mem_bytes = (size_t)512 << 20;
    l->output_bytes = 64 << 10;
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
        return 0;
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
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

static const char *syscall_name(int nr)
{
    /* the calls hostile policies try most; others are shown by number */
    switch (nr) {
    case 0: return "read";
    case 1: return "write";
    case 2: return "open";
    case 41: return "socket";
    case 42: return "connect";
    case 56: return "clone";
    case 57: return "fork";
    case 58: return "vfork";
    case 59: return "execve";
    case 62: return "kill";
    case 101: return "ptrace";
    case 35: return "nanosleep";
    case 230: return "clock_nanosleep";
    case 257: return "openat";
    case 435: return "clone3";
    case 310: return "process_vm_readv";
    case 311: return "process_vm_writev";
    case 87: return "unlink";
    case 82: return "rename";
    case 83: return "mkdir";
    default: return NULL;
    }
}

/* Reaps the worker and writes why it died into f. */
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
    int bad = r->page ? r->page->bad_syscall : -1;
    if (got < 0) {
        set_fault(f, FAULT_CRASH, "worker vanished");
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGSYS) {
            const char *name = bad >= 0 ? syscall_name(bad) : NULL;
            if (name)
                set_fault(f, FAULT_SYSCALL, "forbidden system call %s", name);
            else if (bad >= 0)
                set_fault(f, FAULT_SYSCALL, "forbidden system call #%d", bad);
            else
                set_fault(f, FAULT_SYSCALL, "forbidden system call");
        } else if (sig == SIGXCPU) {
            set_fault(f, FAULT_TIMEOUT, "exceeded the worker's CPU time limit");
        } else if (peak_mb >= 0.8 * limit_mb && (sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT ||
                                                 sig == SIGKILL)) {
            set_fault(f, FAULT_MEMORY, "out of memory: peak %.0f MiB, limit %.0f MiB (%s)", peak_mb,
                      limit_mb, strsignal(sig));
        } else {
            set_fault(f, FAULT_CRASH, "killed by signal %d (%s)", sig, strsignal(sig));
        }
    } else if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        if (code == 5)
            set_fault(f, FAULT_PROTOCOL, "broke the worker protocol");
        else
            set_fault(f, FAULT_EXIT, "the policy ended its process (exit status %d)", code);
    }
}

/* Blames the episode the page names (or the first expected) and marks every
 * other expected episode LOST. expected[]: episodes still awaited. */
static void fault_batch(Runner *r, const Fault *cause, const uint8_t *expected, Fault *faults)
{
    uint32_t ep = r->page ? r->page->episode : 0;
    int blamed = -1;
    if (ep < (uint32_t)r->n && expected[ep])
        blamed = (int)ep;
    for (int i = 0; i < r->n && blamed < 0; i++)
        if (expected[i])
            blamed = i;
    for (int i = 0; i < r->n; i++) {
        if (!expected[i])
            continue;
        if (i == blamed)
            faults[i] = *cause;
        else
            set_fault(&faults[i], FAULT_LOST, "the worker died serving another episode");
    }
}

/*
 * Waits until `need` bytes arrive in buf, enforcing limits. call_limit is
 * the CPU seconds one call may take. Returns 0, or -1 with *cause set (the
 * worker is then dead).
 */
static int await_reply(Runner *r, void *buf, size_t need, double call_limit, Fault *cause)
{
    size_t have = 0;
    uint64_t last_calls = r->page->calls;
    double call_cpu0 = worker_cpu(r);
    double last_progress = util_now();
    double cpu_seen = call_cpu0;
    int slice_ms = (int)(call_limit * 1000 / 2);
    if (slice_ms < 2)
        slice_ms = 2;
    if (slice_ms > 100)
        slice_ms = 100;
    while (have < need) {
        struct pollfd p[2] = {{r->reply_fd, POLLIN, 0}, {r->out_fd, POLLIN, 0}};
        int rc = poll(p, 2, slice_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (p[1].revents & (POLLIN | POLLHUP)) {
            if (drain_output(r)) {
                kill_worker(r);
                classify_death(r, cause);
                set_fault(cause, FAULT_OUTPUT, "wrote more than %zu bytes of output",
                          16 * r->limits.output_bytes);
                return -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(r->reply_fd, (char *)buf + have, need - have);
            if (got > 0) {
                have += (size_t)got;
                continue;
            }
            if (got < 0 && errno == EINTR)
                continue;
            drain_output(r);
            classify_death(r, cause);
            return -1;
        }
        /* no reply yet: check the clock of the call in progress */
        double now_cpu = worker_cpu(r);
        uint64_t calls = r->page->calls;
        if (calls != last_calls) {
            last_calls = calls;
            call_cpu0 = now_cpu; /* a new call began (sampled late: in its favour) */
        }
        if (now_cpu - call_cpu0 > call_limit) {
            uint32_t phase = r->page->phase;
            kill_worker(r);
            classify_death(r, cause);
            set_fault(cause, FAULT_TIMEOUT, "%s took more than %g s of CPU time",
                      phase == PROTO_BEGIN ? "fmsp_create" : phase == PROTO_END ? "fmsp_free" : "fmsp_act",
                      call_limit);
            return -1;
        }
        if (now_cpu > cpu_seen + 1e-4) {
            cpu_seen = now_cpu;
            last_progress = util_now();
        } else if (util_now() - last_progress > 1.0 + 10 * call_limit) {
            kill_worker(r);
            classify_death(r, cause);
            set_fault(cause, FAULT_TIMEOUT, "hung: no CPU progress for %.1f s (blocked or sleeping)",
                      util_now() - last_progress);
            return -1;
        }
    }
    return 0;
}

static FmspErr sandbox_start(Runner *r, const char *object_path, char *err, size_t errlen)
{
    char *worker = runner_worker_path();
    int cmd[2] = {-1, -1}, rep[2] = {-1, -1}, out[2] = {-1, -1};
    int memfd = memfd_create("fmsp-page", MFD_CLOEXEC);
    FmspErr e = FMSP_OK;
    if (memfd < 0 || ftruncate(memfd, 4096) != 0 || pipe2(cmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) ||
        pipe2(out, O_CLOEXEC)) {
        fmsp_errf(err, errlen, "sandbox: cannot create pipes: %s", strerror(errno));
        e = FMSP_ERR_SANDBOX;
    }
    if (!e) {
        r->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        if (r->page == MAP_FAILED) {
            r->page = NULL;
            fmsp_errf(err, errlen, "sandbox: cannot map the shared page: %s", strerror(errno));
            e = FMSP_ERR_SANDBOX;
        }
    }
    /* Move every fd the worker gets above the target numbers 0-5, so that
     * the dup2 shuffle below can never overwrite one source with another. */
    int *moves[] = {&memfd, &cmd[0], &rep[1], &out[1]};
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
        r->page->bad_syscall = -1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, out[1], 2);
        posix_spawn_file_actions_adddup2(&fa, cmd[0], PROTO_CMD_FD);
        posix_spawn_file_actions_adddup2(&fa, rep[1], PROTO_REPLY_FD);
        posix_spawn_file_actions_adddup2(&fa, memfd, PROTO_PAGE_FD);
        posix_spawn_file_actions_addclosefrom_np(&fa, PROTO_PAGE_FD + 1);
        char side[16], mem[32], cpu[32];
        snprintf(side, sizeof side, "%d", r->side);
        snprintf(mem, sizeof mem, "%zu", r->limits.mem_bytes);
        /* kernel backstop on the whole worker: a batch's worth of episodes */
        double cpu_total = RUNNER_MAX_BATCH * (r->limits.episode_cpu_s + r->limits.create_cpu_s) + 5;
        snprintf(cpu, sizeof cpu, "%.0f", cpu_total);
        char *argv[] = {worker, (char *)object_path, side, mem, cpu, NULL};
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
    if (memfd >= 0)
        close(memfd);
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
    free(worker);
    if (e)
        return e;
    if (clock_getcpuclockid(r->pid, &r->cpu_clock) != 0)
        r->cpu_clock = CLOCK_MONOTONIC; /* cannot happen for our own child */
    signal(SIGPIPE, SIG_IGN);
    ProtoHello h;
    Fault cause = {0};
    if (await_reply(r, &h, sizeof h, 5.0, &cause) != 0) {
        fmsp_errf(err, errlen, "policy worker died while loading the policy: %s%s%.*s",
                  cause.detail, r->output_len ? ": " : "", (int)(r->output_len > 200 ? 200 : r->output_len),
                  r->output);
        return r->output_len ? FMSP_ERR_REFUSED : FMSP_ERR_SANDBOX;
    }
    if (h.magic != PROTO_MAGIC) {
        fmsp_errf(err, errlen, "policy worker sent a bad greeting");
        return FMSP_ERR_SANDBOX;
    }
    h.message[sizeof h.message - 1] = 0;
    if (h.status != 0) {
        fmsp_errf(err, errlen, "%s", h.message);
        return strncmp(h.message, "sandbox:", 8) == 0 ? FMSP_ERR_SANDBOX : FMSP_ERR_REFUSED;
    }
    return FMSP_OK;
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
    *out = NULL;
    Runner *r = xcalloc(1, sizeof *r);
    r->mode = mode;
    r->side = side;
    if (limits)
        r->limits = *limits;
    else
        runner_limits_default(&r->limits);
    if (r->limits.output_bytes < 64)
        r->limits.output_bytes = 64;
    r->output = xmalloc(r->limits.output_bytes + 1);
    r->pid = -1;
    r->cmd_fd = r->reply_fd = r->out_fd = -1;
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
        if (r->cmd_fd >= 0)
            close(r->cmd_fd);
        if (r->reply_fd >= 0)
            close(r->reply_fd);
        if (r->out_fd >= 0)
            close(r->out_fd);
        if (r->page)
            munmap(r->page, 4096);
    }
    free(r->output);
    free(r);
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
            set_fault(&faults[i], FAULT_LOST, "the worker died serving another episode");
}

FmspErr runner_begin(Runner *r, int n, const FmspParams *params, const uint64_t *rng_seeds,
                     Fault *faults)
{
    if (n < 1 || n > RUNNER_MAX_BATCH)
        return FMSP_ERR_ARG;
    r->n = n;
    memset(r->episode_cpu, 0, sizeof r->episode_cpu);
    memset(r->faulted, 0, sizeof r->faulted);
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
    ProtoHeader h = {PROTO_MAGIC, PROTO_BEGIN, (uint32_t)n, 0};
    char msg[sizeof h + sizeof *params + sizeof(uint64_t) * RUNNER_MAX_BATCH];
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, params, sizeof *params);
    memcpy(msg + sizeof h + sizeof *params, rng_seeds, sizeof(uint64_t) * (size_t)n);
    uint8_t expected[RUNNER_MAX_BATCH];
    memset(expected, 1, sizeof expected);
    ProtoReply rep[RUNNER_MAX_BATCH];
    Fault cause = {0};
    if (fdio_write_full(r->cmd_fd, msg, sizeof h + sizeof *params + sizeof(uint64_t) * (size_t)n) != 0 ||
        await_reply(r, rep, sizeof(ProtoReply) * (size_t)n, r->limits.create_cpu_s, &cause) != 0) {
        if (!r->dead)
            classify_death(r, &cause);
        fault_batch(r, &cause, expected, faults);
        return FMSP_OK;
    }
    for (int i = 0; i < n; i++) {
        if (rep[i].magic != PROTO_MAGIC || rep[i].episode != (uint32_t)i) {
            kill_worker(r);
            classify_death(r, &cause);
            set_fault(&cause, FAULT_PROTOCOL, "corrupted the worker protocol");
            fault_batch(r, &cause, expected, faults);
            return FMSP_OK;
        }
        r->episode_cpu[i] += rep[i].cpu_s > 0 ? rep[i].cpu_s : 0;
    }
    return FMSP_OK;
}

FmspErr runner_act(Runner *r, const FmspObs *obs, const uint8_t *active, FmspControl *out,
                   Fault *faults)
{
    int n = r->n;
    uint8_t call[RUNNER_MAX_BATCH];
    int expect = 0;
    for (int i = 0; i < n; i++) {
        call[i] = active[i] && !r->faulted[i];
        if (active[i])
            memset(&out[i], 0, sizeof out[i]);
        expect += call[i];
    }
    for (int i = 0; i < n; i++)
        if (active[i] && r->faulted[i])
            set_fault(&faults[i], FAULT_LOST, "episode already lost by this policy");
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
    static const size_t cap = sizeof(ProtoHeader) + RUNNER_MAX_BATCH + sizeof(FmspObs) * RUNNER_MAX_BATCH;
    char *msg = xmalloc(cap);
    ProtoHeader h = {PROTO_MAGIC, PROTO_ACT, (uint32_t)n, 0};
    memcpy(msg, &h, sizeof h);
    memset(msg + sizeof h, 0, RUNNER_MAX_BATCH);
    memcpy(msg + sizeof h, call, (size_t)n);
    memcpy(msg + sizeof h + RUNNER_MAX_BATCH, obs, sizeof(FmspObs) * (size_t)n);
    ProtoReply rep[RUNNER_MAX_BATCH];
    Fault cause = {0};
    int ok = fdio_write_full(r->cmd_fd, msg, sizeof h + RUNNER_MAX_BATCH + sizeof(FmspObs) * (size_t)n) == 0 &&
             await_reply(r, rep, sizeof(ProtoReply) * (size_t)expect, r->limits.step_cpu_s, &cause) == 0;
    free(msg);
    if (!ok) {
        if (!r->dead)
            classify_death(r, &cause);
        fault_batch(r, &cause, call, faults);
        return FMSP_OK;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!call[i])
            continue;
        const ProtoReply *p = &rep[k++];
        if (p->magic != PROTO_MAGIC || p->episode != (uint32_t)i) {
            kill_worker(r);
            classify_death(r, &cause);
            set_fault(&cause, FAULT_PROTOCOL, "corrupted the worker protocol");
            fault_batch(r, &cause, call, faults);
            return FMSP_OK;
        }
        out[i] = p->control;
        r->episode_cpu[i] += p->cpu_s > 0 ? p->cpu_s : 0;
        if (r->episode_cpu[i] > r->limits.episode_cpu_s) {
            set_fault(&faults[i], FAULT_TIMEOUT, "used more than %g s of CPU time in the episode",
                      r->limits.episode_cpu_s);
            r->faulted[i] = 1;
        }
    }
    return FMSP_OK;
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
    ProtoHeader h = {PROTO_MAGIC, PROTO_END, (uint32_t)r->n, 0};
    ProtoReply rep;
    Fault cause = {0};
    if (fdio_write_full(r->cmd_fd, &h, sizeof h) != 0 ||
        await_reply(r, &rep, sizeof rep, r->limits.create_cpu_s, &cause) != 0 ||
        rep.magic != PROTO_MAGIC) {
        /* a crash in fmsp_free: the episodes are over, results stand */
        if (!r->dead) {
            kill_worker(r);
            classify_death(r, &cause);
        }
    }
    r->n = 0;
    return FMSP_OK;
}
