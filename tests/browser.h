/*
 * browser.h - drives Debian's headless Chromium for tests of the report page:
 * load a URL, dump its DOM or screenshot it, collect what the page wrote to
 * its console, and count the connections it tried to make.
 *
 * Every load gets a fresh profile folder (removed afterwards) and a trap: a
 * loopback TCP listener given to Chromium as its HTTP proxy, with every host
 * name resolving to nothing, so any request that leaves the page lands on
 * the trap, is counted and is closed unanswered. Chromium is killed with its
 * whole process group when it runs past BROWSER_TIMEOUT_S.
 *
 * What Chromium 156 (Debian 12) does here, found by experiment:
 * - Every console message, whatever its level (console.log, console.error,
 *   an uncaught exception, a CSP refusal), is one stderr line
 *     [pid:tid:MMDD/hhmmss.us:INFO:CONSOLE:LINE] "TEXT", source: URL (LINE)
 *   The level is lost, so a page under test must be silent: every CONSOLE
 *   line (and any "Uncaught" or "Refused to" line) counts as an error.
 * - --virtual-time-budget=MS runs timers (setTimeout, setInterval) through
 *   MS of virtual time in well under a second, and performance.now() follows
 *   it, but requestAnimationFrame fires only once or twice: an animation
 *   must be driven by a timer to be seen moving.
 * - Even with --disable-background-networking and --disable-component-update
 *   the browser itself calls a few Google hosts at start (component updates,
 *   account lookup, network time). Those exact hosts bypass the trap (and
 *   fail on the resolver rule); every other request reaches the trap.
 * - The resolver rule "MAP * ~NOTFOUND" also swallows the proxy's own
 *   127.0.0.1 unless excluded, which would make the trap count nothing.
 * - --screenshot captures the page from its top, one window (--window-size)
 *   high. A page that scrolled itself to a #fragment came out blank, so what
 *   a test wants to see must lie within the first window height.
 * - /usr/bin/chromium is a shell wrapper; it prints a harmless "[: ...:
 *   unexpected operator" from its /dev/shm check on stderr.
 */
#ifndef FMSP_BROWSER_H
#define FMSP_BROWSER_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define BROWSER_PATH "/usr/bin/chromium"
#ifndef BROWSER_TIMEOUT_S
#define BROWSER_TIMEOUT_S 60
#endif
#define BROWSER_WINDOW "1200,3000"
#define BROWSER_DOM_CAP ((size_t)64 << 20)
#define BROWSER_STDERR_CAP ((size_t)8 << 20)
/* the browser's own start-up calls: never made by a page, never counted */
#define BROWSER_OWN_HOSTS                                                                          \
    "update.googleapis.com;accounts.google.com;clients2.google.com;redirector.gvt1.com"

/* One page load. Strings are owned by it; browser_page_release frees them. */
typedef struct {
    char *dom;           /* --dump-dom output ("" for a screenshot) */
    char *console;       /* the page's console lines, '\n'-separated, "" when silent */
    int console_lines;   /* how many */
    int connections;     /* connections that reached the trap */
    char requests[1024]; /* their first request lines, for messages */
    int timed_out;       /* killed after BROWSER_TIMEOUT_S */
    int exit_status;     /* Chromium's exit status; -1 when killed by a signal */
    char error[512];     /* why it could not run, "" when it ran */
} BrowserPage;

/* ---- the trap: a loopback listener counting connections ---- */

typedef struct {
    int listen_fd, stop[2], port, connections;
    char requests[1024];
    pthread_t thread;
} BrowserTrap;

static void *browser_trap_main(void *arg)
{
    BrowserTrap *trap = arg;
    for (;;) {
        struct pollfd fds[2] = {{trap->listen_fd, POLLIN, 0}, {trap->stop[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = accept4(trap->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        trap->connections++;
        /* keep the request line: which URL the page wanted */
        char line[200] = "";
        struct pollfd in = {fd, POLLIN, 0};
        if (poll(&in, 1, 500) > 0) {
            ssize_t n = read(fd, line, sizeof line - 1);
            line[n > 0 ? n : 0] = 0;
            line[strcspn(line, "\r\n")] = 0;
        }
        size_t used = strlen(trap->requests);
        snprintf(trap->requests + used, sizeof trap->requests - used, "%s%s", used ? "; " : "",
                 line);
        close(fd);
    }
    return NULL;
}

static int browser_trap_start(BrowserTrap *trap)
{
    memset(trap, 0, sizeof *trap);
    trap->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (trap->listen_fd < 0 || bind(trap->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(trap->listen_fd, 64) != 0 ||
        getsockname(trap->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
        pipe2(trap->stop, O_CLOEXEC) != 0) {
        if (trap->listen_fd >= 0)
            close(trap->listen_fd);
        return -1;
    }
    trap->port = ntohs(a.sin_port);
    if (pthread_create(&trap->thread, NULL, browser_trap_main, trap) != 0) {
        close(trap->listen_fd);
        close(trap->stop[0]);
        close(trap->stop[1]);
        return -1;
    }
    return 0;
}

static void browser_trap_stop(BrowserTrap *trap)
{
    if (write(trap->stop[1], "x", 1) != 1)
        abort();
    pthread_join(trap->thread, NULL);
    close(trap->listen_fd);
    close(trap->stop[0]);
    close(trap->stop[1]);
}

/* ---- files and folders ---- */

static int browser_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Removes a folder and everything in it. */
static void browser_rm_rf(const char *dir)
{
    if (dir)
        nftw(dir, browser_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder under /tmp (caller frees and removes), NULL on failure. */
static char *browser_tmpdir(const char *tag)
{
    char *dir = xasprintf("/tmp/fmsp-%s.XXXXXX", tag);
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* A whole file, NUL-terminated (caller frees); NULL when unreadable. */
static char *browser_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *buf = xmalloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0)
            buf = xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = 0;
    if (len_out)
        *len_out = len;
    return buf;
}

/* 1 when both files exist with the same bytes, 0 when they differ, -1 when
 * one cannot be read. */
static int browser_files_equal(const char *a, const char *b)
{
    size_t na, nb;
    char *x = browser_read_file(a, &na), *y = browser_read_file(b, &nb);
    int eq = !x || !y ? -1 : na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return eq;
}

/* Occurrences of needle in hay (non-overlapping). */
static int browser_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; hay && (p = strstr(p, needle)); p += len)
        n++;
    return n;
}

/* ---- running Chromium ---- */

/* 1 when the browser is installed; otherwise 0 with the fix in `why`. */
static int browser_available(char *why, size_t n)
{
    if (access(BROWSER_PATH, X_OK) == 0)
        return 1;
    snprintf(why, n,
             "%s not found: the report page's tests need Chromium; run `sh scripts/setup.sh test`",
             BROWSER_PATH);
    return 0;
}

/* Appends what is readable on fd to *buf (up to cap bytes, the rest is
 * dropped); 0 at end of file. */
static int browser_drain(int fd, char **buf, size_t *len, size_t *cap, size_t limit)
{
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0)
        return 0;
    size_t keep = *len + (size_t)n > limit ? limit - *len : (size_t)n;
    if (*len + keep + 1 > *cap) {
        while (*len + keep + 1 > *cap)
            *cap *= 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, chunk, keep);
    *len += keep;
    (*buf)[*len] = 0;
    return 1;
}

/* Keeps the lines of Chromium's stderr that come from the page's console. */
static void browser_console_lines(const char *err, BrowserPage *page)
{
    size_t cap = 256, len = 0;
    page->console = xmalloc(cap);
    page->console[0] = 0;
    for (const char *line = err; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char *copy = xstrndup(line, n);
        if (strstr(copy, ":CONSOLE") || strstr(copy, "Uncaught") || strstr(copy, "Refused to")) {
            while (len + n + 2 > cap)
                page->console = xrealloc(page->console, cap *= 2);
            memcpy(page->console + len, copy, n);
            len += n;
            page->console[len++] = '\n';
            page->console[len] = 0;
            page->console_lines++;
        }
        free(copy);
        line += n + (end ? 1 : 0);
    }
}

/* Loads `url` for `budget_ms` of virtual time; with `screenshot` (a PNG
 * path) takes a screenshot, else dumps the DOM. 0 when Chromium ran and
 * exited 0 (the page's console and connections are in *page either way);
 * -1 with page->error set otherwise. Release *page afterwards. */
static int browser_load(const char *url, int budget_ms, const char *screenshot, BrowserPage *page)
{
    memset(page, 0, sizeof *page);
    page->dom = xstrdup("");
    page->console = NULL;
    if (!browser_available(page->error, sizeof page->error)) {
        page->console = xstrdup("");
        return -1;
    }
    char *profile = browser_tmpdir("browser");
    BrowserTrap trap;
    if (!profile || browser_trap_start(&trap) != 0) {
        snprintf(page->error, sizeof page->error, "cannot make a profile folder or the trap: %s",
                 strerror(errno));
        page->console = xstrdup("");
        free(profile);
        return -1;
    }
    char *args[32];
    int argc = 0;
    args[argc++] = BROWSER_PATH;
    args[argc++] = "--headless=new";
    args[argc++] = "--no-sandbox";
    args[argc++] = "--disable-gpu";
    args[argc++] = "--no-first-run";
    args[argc++] = "--no-default-browser-check";
    args[argc++] = "--disable-background-networking";
    args[argc++] = "--disable-component-update";
    args[argc++] = "--disable-sync";
    args[argc++] = "--disable-extensions";
    args[argc++] = "--disable-default-apps";
    args[argc++] = "--no-pings";
    args[argc++] = "--disable-features=NetworkTimeServiceQuerying";
    args[argc++] = "--enable-logging=stderr";
    args[argc++] = "--v=0";
    args[argc++] = "--window-size=" BROWSER_WINDOW;
    args[argc++] = "--proxy-bypass-list=" BROWSER_OWN_HOSTS;
    args[argc++] = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
    char *owned[4];
    args[argc++] = owned[0] = xasprintf("--user-data-dir=%s", profile);
    args[argc++] = owned[1] = xasprintf("--virtual-time-budget=%d", budget_ms);
    args[argc++] = owned[2] = xasprintf("--proxy-server=http://127.0.0.1:%d", trap.port);
    args[argc++] = owned[3] =
        screenshot ? xasprintf("--screenshot=%s", screenshot) : xstrdup("--dump-dom");
    args[argc++] = (char *)url;
    args[argc] = NULL;

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* its own group: a timeout kills every helper process */
        dup2(out[1], 1);
        dup2(err[1], 2);
        execv(BROWSER_PATH, args);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid);
    close(out[1]);
    close(err[1]);

    size_t dom_len = 0, dom_cap = 1 << 16, err_len = 0, err_cap = 1 << 14;
    char *dom = xmalloc(dom_cap), *errbuf = xmalloc(err_cap);
    dom[0] = errbuf[0] = 0;
    int out_open = 1, err_open = 1, status = 0, exited = pid < 0;
    double deadline = util_now() + BROWSER_TIMEOUT_S, grace = 0;
    while (out_open || err_open) {
        double now = util_now();
        if (now > deadline || (grace && now > grace)) {
            page->timed_out = now > deadline;
            break;
        }
        struct pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0},
                                {err_open ? err[0] : -1, POLLIN, 0}};
        if (poll(fds, 2, 100) > 0) {
            if (fds[0].revents && !browser_drain(out[0], &dom, &dom_len, &dom_cap, BROWSER_DOM_CAP))
                out_open = 0;
            if (fds[1].revents &&
                !browser_drain(err[0], &errbuf, &err_len, &err_cap, BROWSER_STDERR_CAP))
                err_open = 0;
        }
        /* Helpers may keep the pipes open a little after the browser exits.
         * WNOWAIT leaves it a zombie, so its group id stays ours to kill. */
        siginfo_t info = {0};
        if (!exited && waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid) {
            exited = 1;
            grace = util_now() + 3;
        }
    }
    if (pid > 0) {
        kill(-pid, SIGKILL); /* the group we made: stragglers, or all of it on a timeout */
        waitpid(pid, &status, 0);
    }
    close(out[0]);
    close(err[0]);
    browser_trap_stop(&trap);
    browser_rm_rf(profile);
    free(profile);
    for (int i = 0; i < 4; i++)
        free(owned[i]);

    free(page->dom);
    page->dom = dom;
    page->connections = trap.connections;
    snprintf(page->requests, sizeof page->requests, "%s", trap.requests);
    page->exit_status = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    browser_console_lines(errbuf, page);
    int ok = pid > 0 && !page->timed_out && page->exit_status == 0;
    if (!ok)
        snprintf(page->error, sizeof page->error,
                 "chromium %s (exit %d) on %s; stderr ends: %.300s",
                 page->timed_out ? "timed out" : "failed", page->exit_status, url,
                 err_len > 300 ? errbuf + err_len - 300 : errbuf);
    free(errbuf);
    return ok ? 0 : -1;
}

static void browser_page_release(BrowserPage *page)
{
    free(page->dom);
    free(page->console);
    page->dom = page->console = NULL;
}

#endif
