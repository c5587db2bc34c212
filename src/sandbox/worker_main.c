/*
 * worker_main.c - fmsp-worker: runs one untrusted policy object.
 *
 * usage (by the runner only): fmsp-worker OBJECT SIDE MEM_BYTES CPU_SECONDS
 * with fd 3 = command pipe, fd 4 = reply pipe, fd 5 = shared page (memfd),
 * fds 1/2 = capped output pipe, an empty environment.
 *
 * Set-up order matters: resource limits first; then the object is loaded
 * (it was checked to run no code at load time) and its entry points found;
 * then privileges are dropped (root -> nobody) and the seccomp filter goes
 * on; only then does any policy code run. The loop then serves BEGIN / ACT /
 * END requests, noting in the shared page which episode it is calling into.
 * Per-episode policy state lives here, in states[].
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "protocol.h"
#include "seccomp_policy.h"

typedef void *(*CreateFn)(const FmspParams *, FmspRng *);
typedef void (*ActFn)(void *, const FmspObs *, FmspControl *);
typedef void (*FreeFn)(void *);

static ProtoPage *page;
static ProtoPage fallback_page;

static void hello(uint32_t status, const char *msg)
{
    ProtoHello h;
    memset(&h, 0, sizeof h);
    h.magic = PROTO_MAGIC;
    h.status = status;
    snprintf(h.message, sizeof h.message, "%s", msg);
    fdio_write_full(PROTO_REPLY_FD, &h, sizeof h);
}

static void on_sigsys(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    page->bad_syscall = info->si_syscall;
    raise(sig);
    _exit(128 + sig);
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "fmsp-worker is started by fmsp; it is not a command\n");
        return 2;
    }
    const char *object = argv[1];
    int side = atoi(argv[2]);
    rlim_t mem = (rlim_t)strtoull(argv[3], NULL, 10);
    rlim_t cpu = (rlim_t)strtoull(argv[4], NULL, 10);

    void *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, PROTO_PAGE_FD, 0);
    page = shared == MAP_FAILED ? &fallback_page : shared;
    page->bad_syscall = -1;

    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = mem;
    setrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = cpu;
    lim.rlim_max = cpu + 1;
    setrlimit(RLIMIT_CPU, &lim);
    lim.rlim_cur = lim.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &lim);
    setrlimit(RLIMIT_FSIZE, &lim);
    setrlimit(RLIMIT_NPROC, &lim);
    lim.rlim_cur = lim.rlim_max = 16;
    setrlimit(RLIMIT_NOFILE, &lim);
    prctl(PR_SET_DUMPABLE, 0);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

    void *handle = dlopen(object, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        char msg[200];
        snprintf(msg, sizeof msg, "cannot load the policy: %s", dlerror());
        hello(1, msg);
        return 3;
    }
    CreateFn create = (CreateFn)dlsym(handle, "fmsp_create");
    ActFn act = (ActFn)dlsym(handle, "fmsp_act");
    FreeFn free_fn = (FreeFn)dlsym(handle, "fmsp_free");
    const int *declared = dlsym(handle, "fmsp_policy_side");
    const char *missing = !create ? "fmsp_create" : !act ? "fmsp_act" : !free_fn ? "fmsp_free"
                                                                                : !declared ? "fmsp_policy_side (FMSP_SIDE)" : NULL;
    if (missing) {
        char msg[200];
        snprintf(msg, sizeof msg, "policy does not define %s", missing);
        hello(1, msg);
        return 3;
    }
    if (*declared != side) {
        char msg[200];
        snprintf(msg, sizeof msg, "policy declares FMSP_SIDE(%s) but plays the %s",
                 *declared == FMSP_PURSUER ? "FMSP_PURSUER" : *declared == FMSP_EVADER ? "FMSP_EVADER" : "?",
                 side == FMSP_PURSUER ? "pursuer" : "evader");
        hello(1, msg);
        return 3;
    }
    if (getuid() == 0 || geteuid() == 0) {
        /* nobody: cannot read root's files or other processes' /proc */
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0) {
            hello(1, "sandbox: cannot drop privileges");
            return 4;
        }
    }
    /* after the credential change, which clears it: die with the referee */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    /* NODEFER|RESETHAND: the raise() in the handler kills at once */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    sigaction(SIGSYS, &sa, NULL);
    int rc = seccomp_policy_install(getpid());
    if (rc != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "sandbox: cannot install the seccomp filter (%s)", strerror(-rc));
        hello(1, msg);
        return 4;
    }
    hello(0, "ready");

    static void *states[PROTO_MAX_BATCH];
    static FmspRng rngs[PROTO_MAX_BATCH];
    static int alive[PROTO_MAX_BATCH];
    static FmspParams params;
    static FmspObs obs[PROTO_MAX_BATCH];
    static uint8_t active[PROTO_MAX_BATCH];
    static ProtoReply replies[PROTO_MAX_BATCH + 1];
    static uint64_t seeds[PROTO_MAX_BATCH];
    uint32_t n = 0;
    for (;;) {
        ProtoHeader h;
        if (fdio_read_full(PROTO_CMD_FD, &h, sizeof h) != 0)
            _exit(0); /* the referee went away */
        if (h.magic != PROTO_MAGIC || h.n > PROTO_MAX_BATCH)
            _exit(5);
        int nr = 0;
        if (h.type == PROTO_BEGIN) {
            n = h.n;
            if (fdio_read_full(PROTO_CMD_FD, &params, sizeof params) ||
                fdio_read_full(PROTO_CMD_FD, seeds, sizeof(uint64_t) * n))
                _exit(5);
            page->phase = PROTO_BEGIN;
            for (uint32_t i = 0; i < n; i++) {
                fmsp_rng_seed(&rngs[i], seeds[i]);
                page->episode = i;
                page->calls++;
                double c0 = thread_cpu();
                states[i] = create(&params, &rngs[i]);
                alive[i] = 1;
                ProtoReply *r = &replies[nr++];
                memset(r, 0, sizeof *r);
                r->magic = PROTO_MAGIC;
                r->episode = i;
                r->cpu_s = thread_cpu() - c0;
            }
        } else if (h.type == PROTO_ACT) {
            if (h.n != n || fdio_read_full(PROTO_CMD_FD, active, sizeof active) ||
                fdio_read_full(PROTO_CMD_FD, obs, sizeof(FmspObs) * n))
                _exit(5);
            page->phase = PROTO_ACT;
            for (uint32_t i = 0; i < n; i++) {
                if (!active[i] || !alive[i])
                    continue;
                ProtoReply *r = &replies[nr++];
                memset(r, 0, sizeof *r);
                r->magic = PROTO_MAGIC;
                r->episode = i;
                page->episode = i;
                page->calls++;
                double c0 = thread_cpu();
                act(states[i], &obs[i], &r->control);
                r->cpu_s = thread_cpu() - c0;
            }
        } else if (h.type == PROTO_END) {
            page->phase = PROTO_END;
            for (uint32_t i = 0; i < n; i++) {
                if (!alive[i])
                    continue;
                page->episode = i;
                free_fn(states[i]);
                alive[i] = 0;
            }
            ProtoReply *r = &replies[nr++];
            memset(r, 0, sizeof *r);
            r->magic = PROTO_MAGIC;
            r->episode = n;
            n = 0;
        } else {
            _exit(5);
        }
        page->phase = 0;
        fflush(stdout);
        fflush(stderr);
        if (fdio_write_full(PROTO_REPLY_FD, replies, sizeof(ProtoReply) * (size_t)nr) != 0)
            _exit(0);
    }
}
