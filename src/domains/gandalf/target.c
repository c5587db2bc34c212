/* target.c - the simulated target or a chat model, one interface (target.h). */
#include "target.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "../../match/match.h"
#include "simtarget.h"

struct GandalfTarget {
    int simulated;
    FmClient *client;
    long calls, failed, tokens;
    pthread_mutex_t lock;
};

FmspErr gandalf_target_open(const GandalfSettings *s, GandalfTarget **out, char *err, size_t errlen)
{
    *out = NULL;
    GandalfTarget *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    t->simulated = s->kind == TARGET_SIMULATED;
    if (!t->simulated) {
        if (s->target.backend != FM_OPENAI && s->target.backend != FM_ANTHROPIC) {
            fmsp_errf(err, errlen, "the target must be simulated, openai or anthropic");
            gandalf_target_free(t);
            return FMSP_ERR_ARG;
        }
        const char *key = getenv(s->target.api_key_env);
        if (!key || !*key) {
            fmsp_errf(err, errlen, "target model: %s is not set; export the target's key in it or "
                                   "pass --target-key-env VAR (or use --target simulated)",
                      s->target.api_key_env);
            gandalf_target_free(t);
            return FMSP_ERR_ARG;
        }
        char why[512] = "";
        FmspErr e = fm_client_new(&s->target, &t->client, why, sizeof why);
        if (e) {
            fmsp_errf(err, errlen, "target model: %s", why);
            gandalf_target_free(t);
            return e;
        }
    }
    *out = t;
    return FMSP_OK;
}

void gandalf_target_free(GandalfTarget *t)
{
    if (!t)
        return;
    fm_client_free(t->client);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int gandalf_target_simulated(const GandalfTarget *t)
{
    return t->simulated;
}

/* One chat call to the model: system may be NULL. */
static FmspErr chat(GandalfTarget *t, const char *system, const char *user, char *out, size_t cap,
                    char *err, size_t errlen)
{
    FmMessage m = {"user", user};
    FmRequest req = {system, &m, 1, NULL, 0, 0, NULL};
    FmResponse r;
    memset(&r, 0, sizeof r);
    /* wait in slices, so a stop (match_interrupt) cancels a stalled call */
    FmspErr e = fm_submit(t->client, &req);
    while (!e) {
        e = fm_wait(t->client, 0.25, &r);
        if (e != FMSP_ERR_LIMIT)
            break;
        e = FMSP_OK;
        if (match_interrupted())
            fm_cancel(t->client);
    }
    if (!e && r.err == FMSP_ERR_INTERRUPTED) {
        fm_response_release(&r);
        fmsp_errf(err, errlen, "interrupted");
        return FMSP_ERR_INTERRUPTED;
    }
    pthread_mutex_lock(&t->lock);
    t->calls++;
    if (e || r.err)
        t->failed++;
    t->tokens += r.prompt_tokens + r.completion_tokens;
    pthread_mutex_unlock(&t->lock);
    if (!e && r.err)
        e = r.err;
    if (e) {
        fmsp_errf(err, errlen, "target model: %s", r.error[0] ? r.error : fmsp_strerror(e));
        fm_response_release(&r);
        return FMSP_ERR_NET;
    }
    snprintf(out, cap, "%s", r.text ? r.text : "");
    fm_response_release(&r);
    return FMSP_OK;
}

FmspErr gandalf_target_reply(GandalfTarget *t, const char *system, const char *prompt,
                             const char *password, uint64_t seed, char *out, size_t cap,
                             char *err, size_t errlen)
{
    if (t->simulated) {
        simtarget_reply(system, prompt, password, seed, out, cap);
        return FMSP_OK;
    }
    return chat(t, system && *system ? system : NULL, prompt, out, cap, err, errlen);
}

FmspErr gandalf_target_ask(GandalfTarget *t, const char *question, const char *password,
                           uint64_t seed, char *out, size_t cap, char *err, size_t errlen)
{
    if (t->simulated) {
        simtarget_ask(question, password, seed, out, cap);
        return FMSP_OK;
    }
    return chat(t, NULL, question, out, cap, err, errlen);
}

void gandalf_target_counts(const GandalfTarget *t, long *calls, long *failed, long *tokens)
{
    *calls = t->calls;
    *failed = t->failed;
    *tokens = t->tokens;
}
