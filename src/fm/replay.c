/*
 * replay.c - the `replay` backend: answers each request with the response a
 * recorded run got for the same call key (iteration * 16 + attempt), so a
 * run can be reproduced exactly with no network and no cost. A request the
 * recording never made is an error naming the key: the replayed run has
 * diverged from the recorded one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../store/store.h"
#include "fm_backend.h"

typedef struct Replay {
    Store *db;
    pthread_mutex_t lock; /* one connection, several client threads */
} Replay;

static void replay_complete(void *state, const FmConfig *cfg, const FmRequest *req, FmResponse *resp)
{
    (void)cfg;
    Replay *r = state;
    char *text = NULL, *error = NULL;
    long pt = 0, ct = 0;
    pthread_mutex_lock(&r->lock);
    FmspErr e = store_call_get(r->db, req->key, &text, &error, &pt, &ct);
    pthread_mutex_unlock(&r->lock);
    if (e == FMSP_ERR_NOTFOUND) {
        resp->err = FMSP_ERR_NOTFOUND;
        snprintf(resp->error, sizeof resp->error,
                 "replay: the recording has no model call %d (the replayed run diverged)", req->key);
        return;
    }
    if (e) {
        resp->err = e;
        snprintf(resp->error, sizeof resp->error, "replay: %s", store_errmsg(r->db));
        return;
    }
    if (error) {
        resp->err = FMSP_ERR_NET;
        snprintf(resp->error, sizeof resp->error, "%s", error);
    }
    resp->text = text;
    resp->prompt_tokens = pt;
    resp->completion_tokens = ct;
    free(error);
}

static void replay_destroy(void *state)
{
    Replay *r = state;
    if (!r)
        return;
    store_close(r->db);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static const FmBackendOps replay_ops = {replay_complete, replay_destroy};

FmspErr fm_replay_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                       size_t errlen)
{
    if (!cfg->replay_db[0]) {
        fmsp_errf(err, errlen, "replay needs a recorded run database (--replay-from DB)");
        return FMSP_ERR_ARG;
    }
    Replay *r = xcalloc(1, sizeof *r);
    FmspErr e = store_open(cfg->replay_db, 0, &r->db, err, errlen);
    if (e) {
        free(r);
        return e;
    }
    pthread_mutex_init(&r->lock, NULL);
    *state = r;
    *ops = &replay_ops;
    return FMSP_OK;
}
