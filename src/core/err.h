/*
 * err.h - the project's one error enum and its strerror.
 *
 * Fallible library functions return FmspErr; details (which file, which
 * flag, the compiler's diagnostics) go to a caller-supplied buffer or the
 * object. FMSP_OK is 0 so `if (err)` reads naturally.
 */
#ifndef FMSP_ERR_H
#define FMSP_ERR_H

#include <stddef.h>

typedef enum FmspErr {
    FMSP_OK = 0,
    FMSP_ERR_ARG,       /* bad argument or parameter value */
    FMSP_ERR_IO,        /* file or pipe I/O failed */
    FMSP_ERR_NOTFOUND,  /* file, scenario or name not found */
    FMSP_ERR_TOOBIG,    /* an input hit its hard size cap */
    FMSP_ERR_COMPILE,   /* policy source did not compile */
    FMSP_ERR_REFUSED,   /* policy source refused before compiling */
    FMSP_ERR_LIMIT,     /* a time or memory limit was hit */
    FMSP_ERR_SANDBOX,   /* the sandbox could not be set up */
    FMSP_ERR_PROTOCOL,  /* a peer broke the wire protocol */
    FMSP_ERR_NET,       /* network or HTTP failure */
    FMSP_ERR_PARSE,     /* malformed input (JSON, model output, config) */
    FMSP_ERR_DB,        /* database failure */
    FMSP_ERR_BUDGET,    /* a run budget is exhausted */
    FMSP_ERR_INTERNAL,  /* a bug: an invariant did not hold */
    FMSP_ERR_INTERRUPTED, /* stopped on request (Ctrl-C); nothing half-done was kept */
    FMSP_ERR__COUNT
} FmspErr;

/* A short, static description of err. */
const char *fmsp_strerror(FmspErr err);

/* printf into a caller buffer (may be NULL or size 0); always terminates. */
void fmsp_errf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
