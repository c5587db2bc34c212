/* seccomp_policy.c - builds and loads the worker's filter with libseccomp. */
#include "seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>

#include "protocol.h"

int seccomp_policy_install(pid_t self)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx)
        return -ENOMEM;
    int rc = 0;
#define ALLOW(call, ...)                                                                    \
    do {                                                                                    \
        if (!rc)                                                                            \
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(call), __VA_ARGS__);        \
    } while (0)
    ALLOW(read, 1, SCMP_A0(SCMP_CMP_EQ, PROTO_CMD_FD));
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, PROTO_REPLY_FD));
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, 1));
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, 2));
    ALLOW(fstat, 1, SCMP_A0(SCMP_CMP_EQ, 1));
    ALLOW(fstat, 1, SCMP_A0(SCMP_CMP_EQ, 2));
    ALLOW(newfstatat, 1, SCMP_A0(SCMP_CMP_EQ, 1));
    ALLOW(newfstatat, 1, SCMP_A0(SCMP_CMP_EQ, 2));
    ALLOW(mmap, 0);
    ALLOW(munmap, 0);
    ALLOW(mremap, 0);
    ALLOW(brk, 0);
    ALLOW(mprotect, 0);
    ALLOW(madvise, 0);
    ALLOW(clock_gettime, 0);
    ALLOW(gettimeofday, 0);
    ALLOW(time, 0);
    ALLOW(getrandom, 0);
    ALLOW(getpid, 0);
    ALLOW(gettid, 0);
    ALLOW(sched_yield, 0);
    ALLOW(rt_sigreturn, 0);
    ALLOW(rt_sigprocmask, 0);
    ALLOW(rt_sigaction, 0);
    ALLOW(sigaltstack, 0);
    /* signals to itself only: abort() raises SIGABRT with tgkill */
    ALLOW(tgkill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
    ALLOW(tkill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
    ALLOW(kill, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
    ALLOW(exit, 0);
    ALLOW(exit_group, 0);
#undef ALLOW
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}
