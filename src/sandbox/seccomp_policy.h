/*
 * seccomp_policy.h - the system-call filters of a policy worker.
 *
 * Two filters, stacked (the kernel applies both; the stricter wins), each
 * killing the whole process on anything not allowed (SECCOMP_RET_KILL_PROCESS:
 * no signal handler can catch it; the referee sees death by SIGSYS):
 *
 *   load  installed after the jail is up and before the object is loaded, so
 *         it holds while the dynamic loader (and any resolver in the object)
 *         runs: read-only openat (the jail's root holds only the object),
 *         read, fstat, close, memory management, the runtime calls, and
 *         seccomp itself (to stack the run filter). No sockets, no exec, no
 *         file writes, no signals to others.
 *   run   installed after the entry points are found: read on the command
 *         pipe; write on the reply pipe and stdout/stderr; fstat of
 *         stdout/stderr (printf); memory management; clocks; getrandom;
 *         SIGABRT to itself only (abort()); exit.
 * One call fails with ENOSYS instead of killing, in both phases: sysinfo,
 * which glibc's qsort makes for large arrays (it then sorts in place).
 */
#ifndef FMSP_SECCOMP_POLICY_H
#define FMSP_SECCOMP_POLICY_H

#include <sys/types.h>

enum { SECCOMP_PHASE_LOAD, SECCOMP_PHASE_RUN };

/* Installs the filter of `phase` for process `self`. Returns 0, or -errno. */
int seccomp_policy_install(pid_t self, int phase);

#endif
