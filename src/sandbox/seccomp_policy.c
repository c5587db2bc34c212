/* seccomp_policy.c - builds and loads the worker's filters with libseccomp
 * (see seccomp_policy.h for what each allows and why). */
#include "seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>

#include "protocol.h"

int seccomp_policy_install(pid_t self, int phase)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    int rc = 0;
#define ALLOW(call, ...)                                                                    \
    do {                                                                                    \
        if (!rc)                                                                            \
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(call), __VA_ARGS__);        \
    } while (0)
    if (phase == SECCOMP_PHASE_LOAD) {
        /* what ld.so needs to map the object from the jail's root */
        ALLOW(openat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
        ALLOW(read, 0);
        ALLOW(pread64, 0);
        ALLOW(fstat, 0);
        ALLOW(newfstatat, 0);
        ALLOW(close, 0);
        ALLOW(seccomp, 0);
        ALLOW(prctl, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS));
    } else {
        ALLOW(read, 1, SCMP_A0(SCMP_CMP_EQ, PROTO_CMD_FD));
        ALLOW(fstat, 1, SCMP_A0(SCMP_CMP_EQ, 1));
        ALLOW(fstat, 1, SCMP_A0(SCMP_CMP_EQ, 2));
        ALLOW(newfstatat, 1, SCMP_A0(SCMP_CMP_EQ, 1));
        ALLOW(newfstatat, 1, SCMP_A0(SCMP_CMP_EQ, 2));
    }
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, PROTO_REPLY_FD));
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, 1));
    ALLOW(write, 1, SCMP_A0(SCMP_CMP_EQ, 2));
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
    /* abort() raises SIGABRT with tgkill: to itself, that signal only, so a
     * death by SIGSYS can only come from this filter */
    ALLOW(tgkill, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self), SCMP_A2(SCMP_CMP_EQ, SIGABRT));
    ALLOW(tkill, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self), SCMP_A1(SCMP_CMP_EQ, SIGABRT));
    ALLOW(kill, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self), SCMP_A1(SCMP_CMP_EQ, SIGABRT));
    ALLOW(exit, 0);
    ALLOW(exit_group, 0);
#undef ALLOW
    /* glibc's qsort asks sysinfo() how much memory the machine has before
     * sorting more than a page; refused politely it falls back to sorting in
     * place, so honest policies keep working and learn nothing */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(sysinfo), 0);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}
