/*
 * compile.c - contained compilation of untrusted policy source (compile.h).
 *
 * The compiler child: own process group, rlimits (CPU, address space, file
 * size, no core), stdin from /dev/null, stdout+stderr into a pipe we read up
 * to diag_cap (and drain beyond); when we are root it becomes nobody; then
 * it executes bwrap, which builds the jail described in compile.h around the
 * compiler. A wall-clock deadline kills the whole group. The work folder is
 * a fresh mkdtemp in /tmp (owned by nobody when we are root, since the
 * compiler writes there), removed afterwards whatever happened. The object
 * is opened without following links, must be a regular file, is read with a
 * cap, checked, and copied into the cache under a temporary name and renamed,
 * so concurrent compilations of the same source never see a half-written
 * object.
 */
#include "compile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/util.h"
#include "elfcheck.h"
#include "fdio.h"
#include "fmsp_policy.h"
#include "scan.h"

/* Bumped whenever the flags or the checks change, to invalidate caches. */
#define COMPILE_FORMAT "fmsp-compile-v3"

static const char *const cc_flags[] = {
    "-std=gnu11", "-O2", "-fPIC", "-shared", "-nostartfiles", "-fno-asm",
    "-Werror=implicit-function-declaration", "-Wall", "-pipe", NULL,
};

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void compile_config_default(CompileConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *cc = getenv("FMSP_CC");
    snprintf(cfg->cc, sizeof cfg->cc, "%s", cc && *cc ? cc : "gcc");
    const char *cache = getenv("FMSP_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (cache && *cache)
        snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s", cache);
    else if (xdg && *xdg)
        snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/fmsp", xdg);
    else if (home && *home)
        snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/.cache/fmsp", home);
    else
        snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "/tmp/fmsp-cache-%d", (int)getuid());
    const char *inc = getenv("FMSP_INCLUDE");
    if (inc && *inc) {
        snprintf(cfg->include_dir, sizeof cfg->include_dir, "%s", inc);
    } else {
        char *exe = util_exe_dir();
        const char *rel[] = {"/../include", "/../../include", "/../share/fmsp/include"};
        for (int i = 0; i < 3 && !cfg->include_dir[0]; i++) {
            char *dir = xasprintf("%s%s", exe, rel[i]);
            char *hdr = xasprintf("%s/fmsp_policy.h", dir);
            if (file_exists(hdr))
                snprintf(cfg->include_dir, sizeof cfg->include_dir, "%s", dir);
            free(dir);
            free(hdr);
        }
        free(exe);
        if (!cfg->include_dir[0])
            snprintf(cfg->include_dir, sizeof cfg->include_dir, "/usr/local/share/fmsp/include");
    }
    cfg->time_limit_s = 10;
    cfg->mem_bytes = (size_t)1 << 30;
    cfg->cache_cap = (size_t)256 << 20;
    cfg->diag_cap = 16 << 10;
    cfg->source_cap = 256 << 10;
}

void compile_result_release(CompileResult *res)
{
    if (!res)
        return;
    free(res->diagnostics);
    res->diagnostics = NULL;
}

/* The policy API headers (include/): every domain's, and what they share.
 * All of them are visible to the jailed compiler and in every cache key. */
static const char *const api_headers[] = {"fmsp_rng.h", "fmsp_policy.h", "fmsp_gandalf.h", NULL};

/* Cache key over everything that changes the object. */
static FmspErr cache_key(const CompileConfig *cfg, const char *src, size_t len, char hex[65],
                         char *err, size_t errlen)
{
    Sha256 h;
    sha256_init(&h);
    sha256_update(&h, COMPILE_FORMAT, sizeof COMPILE_FORMAT);
    sha256_update(&h, cfg->cc, strlen(cfg->cc) + 1);
    for (int i = 0; cc_flags[i]; i++)
        sha256_update(&h, cc_flags[i], strlen(cc_flags[i]) + 1);
    for (int i = 0; api_headers[i]; i++) {
        char *hdr_path = xasprintf("%s/%s", cfg->include_dir, api_headers[i]);
        char *hdr;
        size_t hlen;
        FmspErr e = util_read_file(hdr_path, 1 << 20, &hdr, &hlen, err, errlen);
        free(hdr_path);
        if (e) {
            fmsp_errf(err, errlen, "cannot read the policy header %s in '%s' (set FMSP_INCLUDE)",
                      api_headers[i], cfg->include_dir);
            return FMSP_ERR_IO;
        }
        sha256_update(&h, api_headers[i], strlen(api_headers[i]) + 1);
        sha256_update(&h, hdr, hlen);
        free(hdr);
    }
    sha256_update(&h, "\0src\0", 5);
    sha256_update(&h, src, len);
    sha256_final_hex(&h, hex);
    return FMSP_OK;
}

/* Replaces every "policy.c" in text by name (the author's file name). */
static char *rename_in_diagnostics(const char *text, const char *name)
{
    size_t nl = strlen(name), count = 0;
    for (const char *p = text; (p = strstr(p, "policy.c")); p += 8)
        count++;
    char *out = xmalloc(strlen(text) + count * (nl + 1) + 1);
    char *o = out;
    for (const char *p = text;;) {
        const char *q = strstr(p, "policy.c");
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, name, nl);
        o += nl;
        p = q + 8;
    }
    return out;
}

/* Removes the work folder and whatever the compiler left in it (flat). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *ent;
        while ((ent = readdir(d)))
            if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
                unlinkat(dirfd(d), ent->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

/* The toolchain paths the jail shows, read-only, when they exist. */
static const char *const jail_dirs[] = {"/usr/bin", "/usr/lib", "/usr/lib64", "/usr/libexec",
                                        "/usr/include", NULL};
static const char *const jail_root_links[] = {"/bin", "/lib", "/lib64", "/sbin", NULL};

/* argv for bwrap around the compiler command cc_argv (heap strings in *keep). */
static int jail_argv(const CompileConfig *cfg, const char *dir, char *const cc_argv[], char **argv,
                     int cap, char **keep, int *n_keep)
{
    int n = 0;
#define ARG(x) do { if (n < cap - 1) argv[n++] = (char *)(x); } while (0)
    ARG("bwrap");
    ARG("--unshare-all");
    ARG("--die-with-parent");
    ARG("--new-session");
    ARG("--clearenv");
    ARG("--setenv"); ARG("PATH"); ARG("/usr/bin:/bin");
    ARG("--setenv"); ARG("LANG"); ARG("C");
    ARG("--setenv"); ARG("LC_ALL"); ARG("C");
    struct stat st;
    for (int i = 0; jail_dirs[i]; i++)
        if (stat(jail_dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            ARG("--ro-bind"); ARG(jail_dirs[i]); ARG(jail_dirs[i]);
        }
    for (int i = 0; jail_root_links[i]; i++) {
        char target[256];
        ssize_t len = readlink(jail_root_links[i], target, sizeof target - 1);
        if (len > 0) {
            target[len] = 0;
            keep[(*n_keep)++] = xstrdup(target);
            ARG("--symlink"); ARG(keep[*n_keep - 1]); ARG(jail_root_links[i]);
        } else if (stat(jail_root_links[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            ARG("--ro-bind"); ARG(jail_root_links[i]); ARG(jail_root_links[i]);
        }
    }
    ARG("--dev"); ARG("/dev");
    ARG("--tmpfs"); ARG("/tmp");
    for (int i = 0; api_headers[i]; i++) {
        keep[(*n_keep)++] = xasprintf("%s/%s", cfg->include_dir, api_headers[i]);
        ARG("--ro-bind"); ARG(keep[*n_keep - 1]);
        keep[(*n_keep)++] = xasprintf("/fmsp/include/%s", api_headers[i]);
        ARG(keep[*n_keep - 1]);
    }
    ARG("--bind"); ARG(dir); ARG("/work");
    ARG("--chdir"); ARG("/work");
    ARG("--");
    for (int i = 0; cc_argv[i]; i++)
        ARG(cc_argv[i]);
#undef ARG
    argv[n] = NULL;
    return n;
}

/* Child side: limits, privileges, then exec bwrap. Only async-signal-safe
 * calls after fork (the parent may have threads). */
static void child_exec(const CompileConfig *cfg, int out_fd, char *const argv[])
{
    static char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "LC_ALL=C", NULL};
    setpgid(0, 0);
    struct rlimit cpu = {(rlim_t)cfg->time_limit_s + 1, (rlim_t)cfg->time_limit_s + 2};
    struct rlimit as = {cfg->mem_bytes, cfg->mem_bytes};
    struct rlimit fsz = {64u << 20, 64u << 20};
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CPU, &cpu);
    setrlimit(RLIMIT_AS, &as);
    setrlimit(RLIMIT_FSIZE, &fsz);
    setrlimit(RLIMIT_CORE, &core);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    /* close everything else, including our other workers' pipes */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    if (chdir("/") != 0)
        _exit(126);
    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                           setresuid(65534, 65534, 65534) != 0)) {
        static const char msg[] = "bwrap: fmsp cannot drop to user nobody for the compiler\n";
        ssize_t w = write(1, msg, sizeof msg - 1);
        (void)w;
        _exit(126);
    }
    execvpe(argv[0], argv, envp);
    static const char msg[] = "bwrap: cannot execute bubblewrap ('bwrap'), which fmsp needs to "
                              "jail the compiler; scripts/setup.sh installs it\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

/* Runs the compiler; returns FMSP_OK or COMPILE/LIMIT/IO with *diag set. */
static FmspErr run_compiler(const CompileConfig *cfg, const char *dir, char **diag, char *err,
                            size_t errlen)
{
    char *cc_argv[32];
    int n = 0;
    cc_argv[n++] = (char *)cfg->cc;
    for (int i = 0; cc_flags[i]; i++)
        cc_argv[n++] = (char *)cc_flags[i];
    cc_argv[n++] = "-I/fmsp/include";
    cc_argv[n++] = "-o";
    cc_argv[n++] = "policy.so";
    cc_argv[n++] = "policy.c";
    cc_argv[n++] = "-lm";
    cc_argv[n] = NULL;
    char *argv[96], *keep[16];
    int n_keep = 0;
    jail_argv(cfg, dir, cc_argv, argv, 96, keep, &n_keep);
    char *inc = NULL;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        for (int i = 0; i < n_keep; i++)
            free(keep[i]);
        fmsp_errf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return FMSP_ERR_IO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        for (int i = 0; i < n_keep; i++)
            free(keep[i]);
        fmsp_errf(err, errlen, "cannot start the compiler: %s", strerror(errno));
        return FMSP_ERR_IO;
    }
    if (pid == 0)
        child_exec(cfg, pfd[1], argv);
    for (int i = 0; i < n_keep; i++)
        free(keep[i]);
    free(inc);
    close(pfd[1]);
    setpgid(pid, pid); /* also from the parent: no race with the kill below */
    size_t cap = cfg->diag_cap ? cfg->diag_cap : 16384, len = 0;
    char *buf = xmalloc(cap + 64);
    double deadline = util_now() + cfg->time_limit_s;
    int timed_out = 0, truncated = 0;
    for (;;) {
        double left = deadline - util_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        char chunk[4096];
        ssize_t got = read(pfd[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t take = (size_t)got;
        if (len + take > cap) {
            take = cap - len;
            truncated = 1;
        }
        memcpy(buf + len, chunk, take);
        len += take;
    }
    if (timed_out)
        kill(-pid, SIGKILL);
    close(pfd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!timed_out)
        kill(-pid, SIGKILL); /* stray children of the compiler driver */
    if (truncated)
        len += (size_t)snprintf(buf + len, 64, "\n[diagnostics cut at %zu bytes]\n", cap);
    buf[len] = 0;
    *diag = buf;
    if (timed_out) {
        fmsp_errf(err, errlen, "the compiler exceeded the %g s time limit", cfg->time_limit_s);
        return FMSP_ERR_LIMIT;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGXCPU || sig == SIGKILL)
            fmsp_errf(err, errlen, "the compiler exceeded its CPU time limit (%g s)",
                      cfg->time_limit_s);
        else
            fmsp_errf(err, errlen, "the compiler was killed by signal %d (%s) on this source: out of "
                                   "memory (limit %zu MiB) or a compiler crash",
                      sig, strsignal(sig), cfg->mem_bytes >> 20);
        return FMSP_ERR_LIMIT;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code != 0 && strncmp(buf, "bwrap: ", 7) == 0) {
        /* the jail itself failed: an engine problem, not the policy's */
        size_t line = strcspn(buf + 7, "\n");
        fmsp_errf(err, errlen, "cannot start the compiler jail: %.*s%s", (int)(line > 300 ? 300 : line),
                  buf + 7, strstr(buf, "namespace") ? " (fmsp needs root or unprivileged user namespaces)" : "");
        return FMSP_ERR_IO;
    }
    if (code == 127 || code == 126) {
        fmsp_errf(err, errlen, "cannot execute the C compiler '%s' in the jail (set --cc or FMSP_CC)", cfg->cc);
        return FMSP_ERR_IO;
    }
    if (code != 0) {
        if (strstr(buf, "out of memory") || strstr(buf, "cannot allocate") ||
            strstr(buf, "virtual memory exhausted")) {
            fmsp_errf(err, errlen, "the compiler ran out of memory (limit %zu MiB)",
                      cfg->mem_bytes >> 20);
            return FMSP_ERR_LIMIT;
        }
        fmsp_errf(err, errlen, "compilation failed");
        return FMSP_ERR_COMPILE;
    }
    return FMSP_OK;
}

/* The cache folder must be ours and private: a folder someone else can
 * write is a folder someone else can poison. */
static FmspErr cache_dir_ready(const CompileConfig *cfg, char *err, size_t errlen)
{
    FmspErr e = util_mkdirs(cfg->cache_dir, err, errlen);
    if (e)
        return e;
    struct stat st;
    if (lstat(cfg->cache_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fmsp_errf(err, errlen, "the compile cache '%s' is not a folder", cfg->cache_dir);
        return FMSP_ERR_IO;
    }
    if (st.st_uid != geteuid()) {
        fmsp_errf(err, errlen,
                  "the compile cache '%s' belongs to uid %u, not to fmsp's user (uid %u): compiled "
                  "policies are kept only in a private folder (set FMSP_CACHE)",
                  cfg->cache_dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return FMSP_ERR_IO;
    }
    if ((st.st_mode & 077) && chmod(cfg->cache_dir, 0700) != 0) {
        fmsp_errf(err, errlen, "cannot make the compile cache '%s' private: %s", cfg->cache_dir,
                  strerror(errno));
        return FMSP_ERR_IO;
    }
    return FMSP_OK;
}

typedef struct CacheEntry {
    char name[80];
    off_t size;
    time_t mtime;
} CacheEntry;

static int entry_older(const void *a, const void *b)
{
    const CacheEntry *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Evicts the least recently used objects (hits refresh mtime) until the
 * cache holds at most 3/4 of cache_cap; does nothing while under the cap. */
static void cache_prune(const CompileConfig *cfg)
{
    if (!cfg->cache_cap)
        return;
    DIR *d = opendir(cfg->cache_dir);
    if (!d)
        return;
    size_t n = 0, cap = 256;
    CacheEntry *ents = xmalloc(sizeof *ents * cap);
    off_t total = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        struct stat st;
        if (len < 4 || len >= sizeof ents->name || strcmp(ent->d_name + len - 3, ".so") ||
            fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap)
            ents = xrealloc(ents, sizeof *ents * (cap *= 2));
        snprintf(ents[n].name, sizeof ents[n].name, "%s", ent->d_name);
        ents[n].size = st.st_size;
        ents[n].mtime = st.st_mtime;
        total += st.st_size;
        n++;
    }
    if ((size_t)total > cfg->cache_cap) {
        qsort(ents, n, sizeof *ents, entry_older);
        for (size_t k = 0; k < n && (size_t)total > cfg->cache_cap / 4 * 3; k++)
            if (unlinkat(dirfd(d), ents[k].name, 0) == 0)
                total -= ents[k].size;
    }
    closedir(d);
    free(ents);
}

/* Reads the compiler's output without following links, checks it, and
 * copies it into the cache as out->object_path. */
static FmspErr store_object(const CompileConfig *cfg, const char *dir, const char *name,
                            CompileResult *out, char *err, size_t errlen)
{
    char *obj = xasprintf("%s/policy.so", dir);
    int fd = open(obj, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    free(obj);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
        if (fd >= 0)
            close(fd);
        fmsp_errf(err, errlen, "%s: refused: the compiler did not leave a regular object file "
                               "under 64 MiB", name);
        return FMSP_ERR_REFUSED;
    }
    size_t len = (size_t)st.st_size;
    char *data = xmalloc(len + 1);
    size_t have = 0;
    while (have < len) {
        ssize_t got = read(fd, data + have, len - have);
        if (got <= 0)
            break;
        have += (size_t)got;
    }
    close(fd);
    char why[512];
    FmspErr e = FMSP_OK;
    if (have != len) {
        fmsp_errf(err, errlen, "%s: cannot read the compiled object", name);
        e = FMSP_ERR_IO;
    } else if (!cfg->unchecked && elfcheck_policy_linked(data, len, why, sizeof why)) {
        fmsp_errf(err, errlen, "%s: refused: %s", name, why);
        free(out->diagnostics);
        out->diagnostics = xasprintf("%s: %s", name, why);
        e = FMSP_ERR_REFUSED;
    }
    if (!e) {
        char *tmp = xasprintf("%s.tmp-%d", out->object_path, (int)getpid());
        int wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        int ok = wfd >= 0 && fdio_write_full(wfd, data, len) == 0;
        if (wfd >= 0 && close(wfd) != 0)
            ok = 0;
        if (!ok || rename(tmp, out->object_path) != 0) {
            fmsp_errf(err, errlen, "cannot store the compiled policy in '%s': %s", cfg->cache_dir,
                      strerror(errno));
            unlink(tmp);
            e = FMSP_ERR_IO;
        }
        free(tmp);
    }
    free(data);
    return e;
}

/* Work folders of compiles that were killed mid-way (kill -9 of fmsp) are
 * swept once per process; anything older than a minute is long finished
 * (compiles stop at 10 s). */
static void sweep_stale_work_dirs(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    struct dirent *ent;
    time_t now = time(NULL);
    while ((ent = readdir(d))) {
        struct stat st;
        if (strncmp(ent->d_name, "fmsp-cc-", 8) != 0 ||
            fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            (st.st_uid != geteuid() && st.st_uid != 65534) || now - st.st_mtime < 60)
            continue;
        char *path = xasprintf("/tmp/%s", ent->d_name);
        remove_tree(path);
        free(path);
    }
    closedir(d);
}

FmspErr compile_policy_source(const CompileConfig *cfg, const char *source, size_t len,
                              const char *name, CompileResult *out, char *err, size_t errlen)
{
    static pthread_once_t swept = PTHREAD_ONCE_INIT;
    pthread_once(&swept, sweep_stale_work_dirs);
    memset(out, 0, sizeof *out);
    double t0 = util_now();
    if (!name || !*name)
        name = "policy.c";
    size_t cap = cfg->source_cap ? cfg->source_cap : (256 << 10);
    if (len > cap) {
        fmsp_errf(err, errlen, "%s: source is %zu bytes, over the %zu-byte limit", name, len, cap);
        return FMSP_ERR_TOOBIG;
    }
    char why[1024];
    ScanInfo info;
    if (scan_policy(source, len, &info, why, sizeof why)) {
        if (!cfg->unchecked) {
            fmsp_errf(err, errlen, "%s: refused: %s", name, why);
            out->diagnostics = xasprintf("%s: %s", name, why);
            return FMSP_ERR_REFUSED;
        }
        char *copy = xmalloc(len + 1);
        memcpy(copy, source, len);
        copy[len] = 0;
        info.side = strstr(copy, "FMSP_SIDE(FMSP_EVADER)") || strstr(copy, "FMSP_SIDE(FMSP_DEFENDER)")
                        ? 2 : 1;
        free(copy);
    }
    out->side = info.side;
    snprintf(out->side_macro, sizeof out->side_macro, "%s", info.side_macro);
    FmspErr e = cache_key(cfg, source, len, out->hash, err, errlen);
    if (e)
        return e;
    if ((e = cache_dir_ready(cfg, err, errlen)))
        return e;
    snprintf(out->object_path, sizeof out->object_path, "%s/%s%s.so", cfg->cache_dir,
             cfg->unchecked ? "unchecked-" : "", out->hash);
    if (file_exists(out->object_path)) {
        utimensat(AT_FDCWD, out->object_path, NULL, 0); /* recently used */
        out->cached = 1;
        return FMSP_OK;
    }
    char dir[] = "/tmp/fmsp-cc-XXXXXX";
    if (!mkdtemp(dir)) {
        fmsp_errf(err, errlen, "cannot create a temporary folder in /tmp: %s", strerror(errno));
        return FMSP_ERR_IO;
    }
    /* the jailed compiler runs as nobody and writes its object here */
    if (geteuid() == 0 && chown(dir, 65534, 65534) != 0) {
        fmsp_errf(err, errlen, "cannot hand the compile folder to user nobody: %s", strerror(errno));
        remove_tree(dir);
        return FMSP_ERR_IO;
    }
    char *src_path = xasprintf("%s/policy.c", dir);
    e = util_write_file(src_path, source, len, err, errlen);
    if (!e)
        chmod(src_path, 0644);
    free(src_path);
    char *diag = NULL;
    if (!e)
        e = run_compiler(cfg, dir, &diag, err, errlen);
    if (diag && *diag)
        out->diagnostics = rename_in_diagnostics(diag, name);
    free(diag);
    if (e == FMSP_ERR_COMPILE || e == FMSP_ERR_LIMIT) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", name, err);
        fmsp_errf(err, errlen, "%s", msg);
    }
    if (!e)
        e = store_object(cfg, dir, name, out, err, errlen);
    remove_tree(dir);
    if (!e)
        cache_prune(cfg);
    out->seconds = util_now() - t0;
    if (e)
        out->object_path[0] = 0;
    return e;
}

FmspErr compile_policy_file(const CompileConfig *cfg, const char *path, CompileResult *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *src;
    size_t len;
    size_t cap = cfg->source_cap ? cfg->source_cap : (256 << 10);
    FmspErr e = util_read_file(path, cap, &src, &len, err, errlen);
    if (e)
        return e;
    const char *slash = strrchr(path, '/');
    e = compile_policy_source(cfg, src, len, slash ? slash + 1 : path, out, err, errlen);
    free(src);
    return e;
}
