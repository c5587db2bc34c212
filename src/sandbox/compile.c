/*
 * compile.c - contained compilation of untrusted policy source (compile.h).
 *
 * The compiler child: own process group, empty environment but for PATH and
 * LANG=C, a private temporary directory as cwd holding only policy.c, stdin
 * from /dev/null, stdout+stderr into a pipe we read up to diag_cap (and
 * drain beyond), RLIMIT_CPU/AS/FSIZE/CORE set, a wall-clock deadline after
 * which the whole group is killed. Objects are cached as <cache>/<hash>.so,
 * written under a temporary name and renamed, so concurrent compilations of
 * the same source never see a half-written object.
 */
#include "compile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/util.h"
#include "elfcheck.h"
#include "scan.h"

/* Bumped whenever the flags or the checks change, to invalidate caches. */
#define COMPILE_FORMAT "fmsp-compile-v1"

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
    cfg->time_limit_s = 30;
    cfg->mem_bytes = (size_t)2 << 30;
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

/* Cache key over everything that changes the object. */
static FmspErr cache_key(const CompileConfig *cfg, const char *src, size_t len, char hex[65],
                         char *err, size_t errlen)
{
    char *hdr_path = xasprintf("%s/fmsp_policy.h", cfg->include_dir);
    char *hdr;
    size_t hlen;
    FmspErr e = util_read_file(hdr_path, 1 << 20, &hdr, &hlen, err, errlen);
    free(hdr_path);
    if (e) {
        fmsp_errf(err, errlen, "cannot read the policy header in '%s' (set FMSP_INCLUDE)",
                  cfg->include_dir);
        return FMSP_ERR_IO;
    }
    Sha256 h;
    sha256_init(&h);
    sha256_update(&h, COMPILE_FORMAT, sizeof COMPILE_FORMAT);
    sha256_update(&h, cfg->cc, strlen(cfg->cc) + 1);
    for (int i = 0; cc_flags[i]; i++)
        sha256_update(&h, cc_flags[i], strlen(cc_flags[i]) + 1);
    sha256_update(&h, hdr, hlen);
    sha256_update(&h, "\0src\0", 5);
    sha256_update(&h, src, len);
    sha256_final_hex(&h, hex);
    free(hdr);
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

static void remove_tree(const char *dir)
{
    const char *names[] = {"policy.c", "policy.so"};
    for (int i = 0; i < 2; i++) {
        char *p = xasprintf("%s/%s", dir, names[i]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

/* Child side: limits, then exec the compiler. Only async-signal-safe calls
 * after fork (the parent may have threads). */
static void child_exec(const CompileConfig *cfg, const char *dir, int out_fd, char *const argv[])
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
    if (chdir(dir) != 0)
        _exit(126);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    /* close everything else, including our other workers' pipes */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    execve(argv[0], argv, envp);
    execvpe(argv[0], argv, envp);
    static const char msg[] = "fmsp: cannot execute the C compiler\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

/* Runs the compiler; returns FMSP_OK or COMPILE/LIMIT/IO with *diag set. */
static FmspErr run_compiler(const CompileConfig *cfg, const char *dir, char **diag, char *err,
                            size_t errlen)
{
    char *inc = xasprintf("-I%s", cfg->include_dir);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)cfg->cc;
    for (int i = 0; cc_flags[i]; i++)
        argv[n++] = (char *)cc_flags[i];
    argv[n++] = inc;
    argv[n++] = "-o";
    argv[n++] = "policy.so";
    argv[n++] = "policy.c";
    argv[n++] = "-lm";
    argv[n] = NULL;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        free(inc);
        fmsp_errf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return FMSP_ERR_IO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        free(inc);
        fmsp_errf(err, errlen, "cannot start the compiler: %s", strerror(errno));
        return FMSP_ERR_IO;
    }
    if (pid == 0)
        child_exec(cfg, dir, pfd[1], argv);
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
            fmsp_errf(err, errlen, "the compiler was killed by signal %d (%s); probably out of "
                                   "memory (limit %zu MiB)",
                      sig, strsignal(sig), cfg->mem_bytes >> 20);
        return FMSP_ERR_LIMIT;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code == 127 || code == 126) {
        fmsp_errf(err, errlen, "cannot execute the C compiler '%s' (set --cc or FMSP_CC)", cfg->cc);
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

FmspErr compile_policy_source(const CompileConfig *cfg, const char *source, size_t len,
                              const char *name, CompileResult *out, char *err, size_t errlen)
{
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
    int side;
    if (scan_policy_source(source, len, &side, why, sizeof why)) {
        fmsp_errf(err, errlen, "%s: refused: %s", name, why);
        out->diagnostics = xasprintf("%s: %s", name, why);
        return FMSP_ERR_REFUSED;
    }
    out->side = side;
    FmspErr e = cache_key(cfg, source, len, out->hash, err, errlen);
    if (e)
        return e;
    snprintf(out->object_path, sizeof out->object_path, "%s/%s.so", cfg->cache_dir, out->hash);
    if (file_exists(out->object_path)) {
        out->cached = 1;
        return FMSP_OK;
    }
    if ((e = util_mkdirs(cfg->cache_dir, err, errlen)))
        return e;
    char *dir = xasprintf("%s/tmp-XXXXXX", cfg->cache_dir);
    if (!mkdtemp(dir)) {
        fmsp_errf(err, errlen, "cannot create a temporary folder in '%s': %s", cfg->cache_dir,
                  strerror(errno));
        free(dir);
        return FMSP_ERR_IO;
    }
    char *src_path = xasprintf("%s/policy.c", dir);
    e = util_write_file(src_path, source, len, err, errlen);
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
    char *obj = xasprintf("%s/policy.so", dir);
    if (!e && elfcheck_policy_file(obj, why, sizeof why)) {
        fmsp_errf(err, errlen, "%s: refused: %s", name, why);
        free(out->diagnostics);
        out->diagnostics = xasprintf("%s: %s", name, why);
        e = FMSP_ERR_REFUSED;
    }
    if (!e && rename(obj, out->object_path) != 0) {
        fmsp_errf(err, errlen, "cannot store the compiled policy in '%s': %s", cfg->cache_dir,
                  strerror(errno));
        e = FMSP_ERR_IO;
    }
    free(obj);
    remove_tree(dir);
    free(dir);
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
