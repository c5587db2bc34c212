/*
 * shell.h - running the fmsp command line from tests: a command in a
 * folder with stdout and stderr captured into one heap string, the exit
 * code returned (-1 when it did not exit normally).
 */
#ifndef FMSP_TEST_SHELL_H
#define FMSP_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "core/util.h"

static int shell_vrun(const char *dir, char **out, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    char *full = xasprintf("cd %s && %s 2>&1", dir, cmd);
    FILE *p = popen(full, "r");
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap + 1);
    size_t got;
    while (p && (got = fread(buf + len, 1, cap - len, p)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    buf[len] = 0;
    int status = p ? pclose(p) : -1;
    free(cmd);
    free(full);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
