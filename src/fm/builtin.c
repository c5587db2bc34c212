/*
 * builtin.c - the `builtin` backend: an offline program-synthesis operator.
 *
 * NOT a foundation model: a non-FM baseline operator that lets every search
 * run with no network and no key, and a yardstick for what the model adds.
 * It does not read prompts; it works from the structured hint (domain,
 * task, side, parent sources, seed) and the domain's grammar of strategy
 * components (Car Tag: src/domains/cartag/operator.c and genome.h;
 * Gandalf: src/domains/gandalf/operator.c): NEW a random genome; IMPROVE
 * the first parent crossed with the others, then mutated; NOVEL the first
 * parent re-chosen until it is far from every parent; REPAIR a small
 * mutation; JUDGE yes when parents[0] is far from the others. Every answer
 * is a pure function of (hint seed, config seed, parents), shaped like a
 * model's answer: one sentence, then the source in a ```c block.
 *
 * The backend keeps no state, so `complete` is thread-safe. Token figures
 * are whitespace-separated words of prompt and answer (a rough stand-in:
 * there is no tokenizer), cost is 0 and no HTTP is involved.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../domains/domain.h"
#include "builtin.h"
#include "fm_backend.h"

const char *builtin_task_label(FmTask t)
{
    switch (t) {
    case FM_TASK_IMPROVE:
        return "improvement";
    case FM_TASK_NOVEL:
        return "novelty";
    case FM_TASK_REPAIR:
        return "repair";
    case FM_TASK_JUDGE:
        return "judge";
    default:
        return "new policy";
    }
}


static void builtin_complete(void *state, const FmConfig *cfg, const FmRequest *req,
                             FmResponse *resp)
{
    (void)state;
    double t0 = util_now();
    const FmHint *h = req->hint;
    long prompt_words = fm_count_words(req->system);
    for (int i = 0; i < req->n_messages; i++)
        prompt_words += fm_count_words(req->messages[i].content);
    resp->prompt_tokens = prompt_words;
    resp->attempts = 1;
    resp->http_status = 0;
    resp->cost_usd = 0;
    if (!h) {
        resp->err = FMSP_ERR_ARG;
        snprintf(resp->error, sizeof resp->error,
                 "the builtin operator needs a structured hint (it does not read prose)");
        return;
    }
    FmspRng rng;
    fmsp_rng_seed(&rng, h->seed ^ (cfg ? cfg->seed * 0x9E3779B97F4A7C15ULL : 0));
    const Domain *d = domain_find(h->domain ? h->domain : "cartag");
    if (!d) {
        resp->err = FMSP_ERR_ARG;
        snprintf(resp->error, sizeof resp->error, "the builtin operator knows no domain '%s'",
                 h->domain);
        return;
    }
    if (h->task == FM_TASK_JUDGE)
        resp->text = d->operator_judge(h->parents, h->n_parents);
    else
        resp->text = d->operator_write(h->task, h->side, h->parents, h->n_parents, &rng);
    resp->completion_tokens = fm_count_words(resp->text);
    resp->latency_s = util_now() - t0;
}

static void builtin_destroy(void *state)
{
    (void)state;
}

static const FmBackendOps builtin_ops = {builtin_complete, builtin_destroy};

FmspErr fm_builtin_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                        size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    *state = NULL;
    *ops = &builtin_ops;
    return FMSP_OK;
}
