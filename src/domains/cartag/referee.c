/*
 * referee.c - Car Tag's referee: lockstep batches, fault accounting, replays.
 *
 * Invariant of cartag_play: every episode index is in exactly one of
 * `pending` (not yet played or to be replayed), the current batch, or
 * finished (result written). A batch ends with every episode it held either
 * finished or pushed back to pending; a round in which no episode finishes
 * counts towards a bound, so a worker that keeps dying without a fault we can
 * attribute cannot loop the referee forever.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "../../match/match.h"
#include "../domain.h"
#include "cartag.h"

static void set_fault(Fault *f, FaultKind kind, const char *detail)
{
    f->kind = kind;
    snprintf(f->detail, sizeof f->detail, "%s", detail);
}

/* Writes the result of an episode that ended (normally or by fault). */
static void finish_episode(const FmspParams *p, const FmspState *s, const Fault *pf,
                           const Fault *ef, EpisodeResult *r)
{
    r->steps = s->step;
    r->captured = s->captured;
    r->fault[0] = *pf;
    r->fault[1] = *ef;
    int p_bad = pf->kind != FAULT_NONE, e_bad = ef->kind != FAULT_NONE;
    if (p_bad || e_bad) {
        r->score[0] = p_bad ? 0.0 : 1.0;
        r->score[1] = e_bad ? 0.0 : 1.0;
        r->captured = 0;
        return;
    }
    r->score[1] = cartag_evader_score(p, s);
    r->score[0] = 1.0 - r->score[1];
}

typedef struct Side {
    const char *obj;
    int side;
    Runner *runner;
    FmspErr load_err; /* FMSP_ERR_REFUSED: every episode faults with load_msg */
    char load_msg[160];
    double cpu_spent; /* kernel CPU of this side's finished workers */
} Side;

static FmspErr side_ensure(Side *sd, const MatchConfig *cfg, char *err, size_t errlen)
{
    if (sd->load_err || (sd->runner && !runner_dead(sd->runner)))
        return FMSP_OK;
    if (sd->runner)
        sd->cpu_spent += runner_cpu(sd->runner);
    runner_free(sd->runner);
    sd->runner = NULL;
    char msg[512] = "";
    FmspErr e = runner_new(cfg->mode, sd->obj, sd->side, &cfg->limits, &sd->runner, msg,
                           sizeof msg);
    if (e == FMSP_ERR_REFUSED) {
        sd->load_err = e;
        snprintf(sd->load_msg, sizeof sd->load_msg, "%s", msg);
        return FMSP_OK;
    }
    if (e)
        fmsp_errf(err, errlen, "%s", msg);
    return e;
}

/* Starts the batch on one side; load failures become FAULT_LOAD. */
static FmspErr side_begin(Side *sd, int n, const MatchConfig *cfg, const uint64_t *seeds,
                          Fault *faults)
{
    if (sd->load_err) {
        for (int i = 0; i < n; i++)
            set_fault(&faults[i], FAULT_LOAD, sd->load_msg);
        return FMSP_OK;
    }
    return runner_begin_send(sd->runner, n, &cfg->params, seeds, faults);
}

/* The most specific words for an engine error of either side. */
static const char *side_error(const Side *sides, FmspErr e)
{
    for (int s = 0; s < 2; s++)
        if (sides[s].runner && runner_engine_error(sides[s].runner))
            return runner_engine_error(sides[s].runner);
    return fmsp_strerror(e);
}

static FmspErr side_wait(Side *sd)
{
    return sd->load_err ? FMSP_OK : runner_wait(sd->runner);
}

/* The episodes of one lockstep batch; k indexes the batch, ids[k] the match. */
typedef struct Batch {
    int n;
    int ids[RUNNER_MAX_BATCH];
    FmspState states[RUNNER_MAX_BATCH];
    Fault pf[RUNNER_MAX_BATCH], ef[RUNNER_MAX_BATCH];
    uint8_t active[RUNNER_MAX_BATCH];
    int finished, requeued;
} Batch;

/* Episodes waiting to be played: `pending` in batches, `solo` (suspects of
 * a worker death) one at a time. Both are stacks of episode indices. */
typedef struct Queue {
    int *pending, n_pending;
    int *solo, n_solo;
} Queue;

/*
 * Settles batch episode k after a call that may have faulted: a real fault
 * of either side ends it (FAULT_LOST on the other side is then cleared: that
 * side played fairly up to here); FAULT_LOST alone sends it back to be
 * replayed alone (a suspect of a batch death) or in the next batch (its
 * worker had died before it was called).
 */
static void batch_settle(Batch *bt, int k, const FmspParams *p, EpisodeResult *results, Queue *q)
{
    Fault *pf = &bt->pf[k], *ef = &bt->ef[k];
    int lost = pf->kind == FAULT_LOST || ef->kind == FAULT_LOST;
    int real = (pf->kind != FAULT_NONE && pf->kind != FAULT_LOST) ||
               (ef->kind != FAULT_NONE && ef->kind != FAULT_LOST);
    if (real) {
        if (pf->kind == FAULT_LOST)
            pf->kind = FAULT_NONE;
        if (ef->kind == FAULT_LOST)
            ef->kind = FAULT_NONE;
        finish_episode(p, &bt->states[k], pf, ef, &results[bt->ids[k]]);
        bt->active[k] = 0;
        bt->finished++;
    } else if (lost) {
        if (bt->n > 1)
            q->solo[q->n_solo++] = bt->ids[k];
        else
            q->pending[q->n_pending++] = bt->ids[k];
        bt->active[k] = 0;
        bt->requeued++;
    }
}

/* A side that keeps killing its workers, or spends its match's CPU time,
 * loses what it has not played. */
static void forfeit_rest(Queue *q, int side, const char *why, EpisodeResult *results)
{
    int *lists[2] = {q->pending, q->solo};
    int *counts[2] = {&q->n_pending, &q->n_solo};
    for (int l = 0; l < 2; l++) {
        while (*counts[l] > 0) {
            EpisodeResult *r = &results[lists[l][--*counts[l]]];
            Fault *mine = side == 0 ? &r->fault[0] : &r->fault[1];
            mine->kind = strstr(why, "CPU") ? FAULT_TIMEOUT : FAULT_CRASH;
            snprintf(mine->detail, sizeof mine->detail, "forfeited: %s", why);
            r->score[0] = side == 0 ? 0.0 : 1.0;
            r->score[1] = side == 0 ? 1.0 : 0.0;
            r->captured = 0;
            r->steps = 0;
        }
    }
}

FmspErr cartag_play(const MatchConfig *cfg, const char *pursuer_obj, const char *evader_obj,
                   MatchStepFn on_step, void *ctx, MatchResult *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (cfg->episodes < 1 || cfg->episodes > 1000000 || cfg->first_episode < 0) {
        fmsp_errf(err, errlen, "episodes must be between 1 and 1000000 (got %d)", cfg->episodes);
        return FMSP_ERR_ARG;
    }
    FmspErr e = cartag_params_validate(&cfg->params, err, errlen);
    if (e)
        return e;
    int batch = cfg->batch < 1 ? 1 : (cfg->batch > RUNNER_MAX_BATCH ? RUNNER_MAX_BATCH : cfg->batch);
    int n = cfg->episodes;
    out->n = n;
    out->episodes = xcalloc((size_t)n, sizeof *out->episodes);
    Queue q = {xmalloc(sizeof(int) * (size_t)n), n, xmalloc(sizeof(int) * (size_t)n), 0};
    for (int i = 0; i < n; i++) {
        q.pending[i] = n - 1 - i; /* popped from the end: episode 0 first */
        out->episodes[i].seed = cartag_episode_seed(cfg->seed, cfg->first_episode + i);
    }
    Side sides[2] = {{pursuer_obj, FMSP_PURSUER, NULL, FMSP_OK, "", 0},
                     {evader_obj, FMSP_EVADER, NULL, FMSP_OK, "", 0}};
    int deaths[2] = {0, 0};
    Batch *bt = xmalloc(sizeof *bt);
    uint64_t pseeds[RUNNER_MAX_BATCH], eseeds[RUNNER_MAX_BATCH];
    FmspObs obs[RUNNER_MAX_BATCH];
    FmspControl pc[RUNNER_MAX_BATCH], ec[RUNNER_MAX_BATCH];
    int fruitless_rounds = 0;
    e = FMSP_OK;

    while (q.n_pending + q.n_solo > 0 && e == FMSP_OK) {
        if (match_interrupted()) {
            e = FMSP_ERR_INTERRUPTED;
            fmsp_errf(err, errlen, "interrupted");
            break;
        }
        if ((e = side_ensure(&sides[0], cfg, err, errlen)) ||
            (e = side_ensure(&sides[1], cfg, err, errlen)))
            break;
        memset(bt, 0, sizeof *bt);
        if (q.n_solo > 0) {
            bt->n = 1;
            bt->ids[0] = q.solo[--q.n_solo];
        } else {
            bt->n = q.n_pending < batch ? q.n_pending : batch;
            for (int k = 0; k < bt->n; k++)
                bt->ids[k] = q.pending[--q.n_pending];
        }
        for (int k = 0; k < bt->n; k++) {
            uint64_t es = out->episodes[bt->ids[k]].seed;
            pseeds[k] = cartag_policy_seed(es, FMSP_PURSUER);
            eseeds[k] = cartag_policy_seed(es, FMSP_EVADER);
            cartag_reset(&cfg->params, es, &bt->states[k]);
            bt->active[k] = 1;
        }
        /* both sides compute at once: send to both, then wait for both */
        if ((e = side_begin(&sides[0], bt->n, cfg, pseeds, bt->pf)) ||
            (e = side_begin(&sides[1], bt->n, cfg, eseeds, bt->ef)) ||
            (e = side_wait(&sides[0])) || (e = side_wait(&sides[1]))) {
            fmsp_errf(err, errlen, "sandbox failure starting episodes: %s", side_error(sides, e));
            break;
        }
        int live = 0;
        for (int k = 0; k < bt->n; k++) {
            batch_settle(bt, k, &cfg->params, out->episodes, &q);
            live += bt->active[k];
        }
        while (live > 0) {
            if (match_interrupted()) {
                e = FMSP_ERR_INTERRUPTED;
                break;
            }
            for (int k = 0; k < bt->n; k++) {
                obs[k].state = bt->states[k];
                obs[k].params = cfg->params;
            }
            for (int s = 0; s < 2 && !e; s++)
                if (!sides[s].load_err)
                    e = runner_act_send(sides[s].runner, obs, bt->active, s ? ec : pc,
                                        s ? bt->ef : bt->pf);
            for (int s = 0; s < 2 && !e; s++)
                e = side_wait(&sides[s]);
            if (e)
                break;
            live = 0;
            for (int k = 0; k < bt->n; k++) {
                if (!bt->active[k])
                    continue;
                if (bt->pf[k].kind == FAULT_NONE && !cartag_control_finite(&pc[k]))
                    set_fault(&bt->pf[k], FAULT_NONFINITE, "returned a non-finite control");
                if (bt->ef[k].kind == FAULT_NONE && !cartag_control_finite(&ec[k]))
                    set_fault(&bt->ef[k], FAULT_NONFINITE, "returned a non-finite control");
                batch_settle(bt, k, &cfg->params, out->episodes, &q);
                if (!bt->active[k])
                    continue;
                FmspState *st = &bt->states[k];
                fmsp_step(&cfg->params, st, pc[k].u, ec[k].vx, ec[k].vy);
                if (on_step)
                    on_step(ctx, bt->ids[k], st, &pc[k], &ec[k]);
                if (fmsp_done(&cfg->params, st)) {
                    finish_episode(&cfg->params, st, &bt->pf[k], &bt->ef[k],
                                   &out->episodes[bt->ids[k]]);
                    bt->active[k] = 0;
                    bt->finished++;
                } else {
                    live++;
                }
            }
        }
        if (e == FMSP_ERR_INTERRUPTED) {
            fmsp_errf(err, errlen, "interrupted");
            break;
        }
        if (e) {
            fmsp_errf(err, errlen, "sandbox failure during a match: %s", side_error(sides, e));
            break;
        }
        for (int s = 0; s < 2; s++) {
            if (sides[s].runner && !runner_dead(sides[s].runner))
                runner_end(sides[s].runner);
            char why[128];
            if (sides[s].runner && runner_dead(sides[s].runner) &&
                ++deaths[s] > MATCH_MAX_DEATHS) {
                snprintf(why, sizeof why, "the policy's workers died %d times in this match", deaths[s]);
                forfeit_rest(&q, s, why, out->episodes);
            }
            double spent = sides[s].cpu_spent + (sides[s].runner ? runner_cpu(sides[s].runner) : 0);
            if (spent > cfg->limits.match_cpu_s && q.n_pending + q.n_solo > 0) {
                snprintf(why, sizeof why, "the policy used more than %g s of CPU time in this match",
                         cfg->limits.match_cpu_s);
                forfeit_rest(&q, s, why, out->episodes);
            }
        }
        out->replays += bt->requeued;
        if (bt->finished == 0 && ++fruitless_rounds >= 3 + 2 * MATCH_MAX_DEATHS) {
            /* Workers keep dying with nothing to blame: give up cleanly. */
            int *lists[2] = {q.pending, q.solo};
            int *counts[2] = {&q.n_pending, &q.n_solo};
            for (int l = 0; l < 2; l++)
                while (*counts[l] > 0) {
                    EpisodeResult *r = &out->episodes[lists[l][--*counts[l]]];
                    set_fault(&r->fault[0], FAULT_PROTOCOL, "worker died repeatedly");
                    set_fault(&r->fault[1], FAULT_PROTOCOL, "worker died repeatedly");
                }
        }
    }
    free(bt);
    runner_free(sides[0].runner);
    runner_free(sides[1].runner);
    free(q.pending);
    free(q.solo);
    if (e) {
        match_result_release(out);
        return e;
    }
    match_summarise(out);
    return FMSP_OK;
}
