/*
 * fm_backend.h - the seam between the model client (fm.c) and a backend.
 *
 * A backend answers one request synchronously; the client calls it from its
 * worker threads, several at once, so `complete` must be thread-safe for one
 * state. It fills resp->text (heap) or resp->err and resp->error, and the
 * token counts; the client fills tag, latency and cost.
 */
#ifndef FMSP_FM_BACKEND_H
#define FMSP_FM_BACKEND_H

#include "fm.h"

typedef struct FmBackendOps {
    void (*complete)(void *state, const FmConfig *cfg, const FmRequest *req, FmResponse *resp);
    void (*destroy)(void *state);
} FmBackendOps;

typedef FmspErr (*FmBackendOpen)(const FmConfig *cfg, void **state, const FmBackendOps **ops,
                                 char *err, size_t errlen);

FmspErr fm_builtin_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                        size_t errlen);
FmspErr fm_replay_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                       size_t errlen);
FmspErr fm_http_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                     size_t errlen);

/* Counts whitespace-separated words: the offline backends' token figure. */
long fm_count_words(const char *s);

#endif
