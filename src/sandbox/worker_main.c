/*
 * worker_main.c - fmsp-worker: runs one untrusted policy object.
 *
 * usage (by the runner only): fmsp-worker SIDE MEM_BYTES CPU_SECONDS DOMAIN
 * with fd 3 = command pipe, fd 4 = reply pipe, fd 5 = the checked object
 * (sealed memfd), fd 6 = an empty network namespace (optional), fds 1/2 =
 * capped output pipe, an empty environment.
 *
 * Jail first, then load. Before one byte of policy code can run (the
 * dynamic loader's relocation processing included) the worker:
 *   1. enters new mount, IPC and UTS namespaces (and a user namespace when
 *      not started as root) and an empty network namespace (the referee's
 *      shared one on fd 6 when given, else a new one);
 *   2. mounts an empty tmpfs, copies the object into it as /policy.so,
 *      pivots into it, detaches the old root and makes the new one
 *      read-only: the only file it can ever name is the policy itself;
 *   3. drops every privilege (root: uid/gid nobody, no groups; otherwise
 *      all capabilities of its user namespace), sets no_new_privs, makes
 *      itself non-dumpable and asks to die with the referee;
 *   4. sets its resource limits and installs the load-phase seccomp filter,
 *      then says JAILED (the last thing the referee believes it says).
 * Then it loads the object (libc and libm are already mapped in this
 * process, so the object's dependencies need no file), finds the entry
 * points, stacks the run-phase filter and says READY: those steps and the
 * request loop are the domain's (worker_cartag_serve, worker_gandalf_serve,
 * in src/domains/). It measures nothing: the referee reads the kernel's
 * accounting.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdio.h"
#include "protocol.h"
#include "seccomp_policy.h"
#include "worker.h"

void worker_hello(uint32_t status, int32_t detail, int32_t err)
{
    ProtoHello h = {PROTO_MAGIC, status, detail, err};
    fdio_write_full(PROTO_REPLY_FD, &h, sizeof h);
}

void worker_seal(void)
{
    if (seccomp_policy_install(getpid(), SECCOMP_PHASE_RUN) != 0)
        _exit(4);
    worker_hello(PROTO_READY, 0, 0);
}

static void jail_fail(int step)
{
    worker_hello(PROTO_JAIL_FAILED, step, errno);
    _exit(4);
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fdio_write_full(fd, text, strlen(text));
    close(fd);
    return rc;
}

/* Steps 1-3 of the top comment. */
static void jail_enter(void)
{
    int root = geteuid() == 0;
    uid_t uid = getuid();
    gid_t gid = getgid();
    int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    struct stat ns;
    if (fstat(PROTO_NETNS_FD, &ns) == 0) {
        if (setns(PROTO_NETNS_FD, CLONE_NEWNET) != 0)
            jail_fail(PROTO_STEP_NAMESPACES);
        close(PROTO_NETNS_FD);
    } else {
        flags |= CLONE_NEWNET;
    }
    if (unshare(root ? flags : flags | CLONE_NEWUSER) != 0)
        jail_fail(PROTO_STEP_NAMESPACES);
    if (!root) {
        char map[64];
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        if (write_text("/proc/self/uid_map", map) != 0 ||
            write_text("/proc/self/setgroups", "deny") != 0)
            jail_fail(PROTO_STEP_NAMESPACES);
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if (write_text("/proc/self/gid_map", map) != 0)
            jail_fail(PROTO_STEP_NAMESPACES);
    }
    struct stat st;
    if (fstat(PROTO_OBJECT_FD, &st) != 0 || st.st_size <= 0 || st.st_size > PROTO_MAX_OBJECT)
        jail_fail(PROTO_STEP_OBJECT);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        jail_fail(PROTO_STEP_MOUNT);
    char opts[96];
    snprintf(opts, sizeof opts, "size=%lld,nr_inodes=8,mode=0755",
             (long long)st.st_size + (1 << 16));
    if (mount("fmsp-jail", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        jail_fail(PROTO_STEP_MOUNT);
    int out = open("/tmp/policy.so", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0555);
    if (out < 0)
        jail_fail(PROTO_STEP_OBJECT);
    char buf[65536];
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t got = pread(PROTO_OBJECT_FD, buf, sizeof buf, off);
        if (got <= 0 || fdio_write_full(out, buf, (size_t)got) != 0)
            jail_fail(PROTO_STEP_OBJECT);
        off += got;
    }
    /* explicit mode: the referee's umask must not lock nobody out */
    if (fchmod(out, 0555) != 0)
        jail_fail(PROTO_STEP_OBJECT);
    close(out);
    close(PROTO_OBJECT_FD);
    if (chdir("/tmp") != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
        umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
        jail_fail(PROTO_STEP_PIVOT);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        jail_fail(PROTO_STEP_PIVOT);
    if (root) {
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0)
            jail_fail(PROTO_STEP_PRIVILEGES);
    } else {
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof data);
        if (syscall(SYS_capset, &hdr, data) != 0)
            jail_fail(PROTO_STEP_PRIVILEGES);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0)
        jail_fail(PROTO_STEP_PRIVILEGES);
    /* the jail must let the loader read the object: a failure here is the
     * engine's, reported as such, not a policy that "does not load" */
    int probe = open("/policy.so", O_RDONLY | O_CLOEXEC);
    if (probe < 0)
        jail_fail(PROTO_STEP_OBJECT);
    close(probe);
    /* after the credential change, which clears it: die with the referee */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(0);
}

static void limits_set(rlim_t mem, rlim_t cpu)
{
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = mem;
    int rc = setrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = cpu;
    lim.rlim_max = cpu + 1;
    rc |= setrlimit(RLIMIT_CPU, &lim);
    lim.rlim_cur = lim.rlim_max = 0;
    rc |= setrlimit(RLIMIT_CORE, &lim);
    rc |= setrlimit(RLIMIT_FSIZE, &lim);
    rc |= setrlimit(RLIMIT_NPROC, &lim);
    rc |= setrlimit(RLIMIT_MEMLOCK, &lim);
    lim.rlim_cur = lim.rlim_max = 16;
    rc |= setrlimit(RLIMIT_NOFILE, &lim);
    if (rc)
        jail_fail(PROTO_STEP_LIMITS);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "fmsp-worker is started by fmsp; it is not a command\n");
        return 2;
    }
    int side = atoi(argv[1]);
    rlim_t mem = (rlim_t)strtoull(argv[2], NULL, 10);
    rlim_t cpu = (rlim_t)strtoull(argv[3], NULL, 10);
    const char *domain = argv[4];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        return 0;
    if ((side != 1 && side != 2) || mem == 0 || cpu == 0 ||
        (strcmp(domain, "cartag") != 0 && strcmp(domain, "gandalf") != 0))
        jail_fail(PROTO_STEP_ARGS);
    jail_enter();
    limits_set(mem, cpu);
    int rc = seccomp_policy_install(getpid(), SECCOMP_PHASE_LOAD);
    if (rc != 0) {
        errno = -rc;
        jail_fail(PROTO_STEP_FILTER);
    }
    worker_hello(PROTO_JAILED, 0, 0);

    /* From here on policy code may have run: nothing below is believed. */
    void *handle = dlopen("/policy.so", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        worker_hello(PROTO_LOAD_FAILED, 0, 0);
        return 3;
    }
    return strcmp(domain, "gandalf") == 0 ? worker_gandalf_serve(handle, side)
                                          : worker_cartag_serve(handle, side);
}
