/* err.c - strerror for FmspErr and the error-buffer printf helper. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *fmsp_strerror(FmspErr err)
{
    static const char *const names[FMSP_ERR__COUNT] = {
        [FMSP_OK] = "ok",
        [FMSP_ERR_ARG] = "invalid argument",
        [FMSP_ERR_IO] = "I/O error",
        [FMSP_ERR_NOTFOUND] = "not found",
        [FMSP_ERR_TOOBIG] = "input too large",
        [FMSP_ERR_COMPILE] = "compilation failed",
        [FMSP_ERR_REFUSED] = "source refused",
        [FMSP_ERR_LIMIT] = "limit exceeded",
        [FMSP_ERR_SANDBOX] = "sandbox set-up failed",
        [FMSP_ERR_PROTOCOL] = "protocol error",
        [FMSP_ERR_NET] = "network error",
        [FMSP_ERR_PARSE] = "parse error",
        [FMSP_ERR_DB] = "database error",
        [FMSP_ERR_BUDGET] = "budget exhausted",
        [FMSP_ERR_INTERNAL] = "internal error",
        [FMSP_ERR_INTERRUPTED] = "interrupted",
    };
    if ((unsigned)err >= FMSP_ERR__COUNT || !names[err])
        return "unknown error";
    return names[err];
}

void fmsp_errf(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}
