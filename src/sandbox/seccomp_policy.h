/*
 * seccomp_policy.h - the system-call allow-list of a policy worker.
 *
 * Installed after the policy object is loaded and before any policy code
 * runs. Allowed: read on the command pipe; write on the reply pipe and on
 * stdout/stderr; memory management (mmap, munmap, mremap, brk, mprotect,
 * madvise); clocks; getrandom; fstat of stdout/stderr (printf needs it);
 * signals to itself only (abort() must still be able to kill the process);
 * exit. Everything else traps: the SIGSYS handler notes the call number in
 * the shared page and the process dies by SIGSYS.
 */
#ifndef FMSP_SECCOMP_POLICY_H
#define FMSP_SECCOMP_POLICY_H

#include <sys/types.h>

/* Installs the filter for process `self`. Returns 0, or -errno. */
int seccomp_policy_install(pid_t self);

#endif
