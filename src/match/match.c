/*
 * match.c - what every domain's referee shares: the match configuration,
 * the interrupt flag, results and their statistics, the dispatch to the
 * domain's referee, and many matches on a thread pool.
 */
#include "match.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../domains/cartag/cartag.h"
#include "../domains/domain.h"

static volatile sig_atomic_t interrupted;

void match_interrupt(int on)
{
    interrupted = on ? 1 : 0;
}

void match_config_default(MatchConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cartag_params_default(&cfg->params);
    gandalf_settings_default(&cfg->gandalf);
    cfg->episodes = 20;
    cfg->seed = 1;
    cfg->batch = 20;
    cfg->mode = RUNNER_SANDBOX;
    runner_limits_default(&cfg->limits);
}

void stats_mean_ci(const double *v, int n, double *mean, double *ci95)
{
    /* Two-sided 97.5% Student t quantiles for df = 1..30; 1.96 beyond. */
    static const double t975[31] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                    2.306,  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                    2.120,  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                    2.064,  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    *mean = n ? sum / n : 0;
    if (n < 2) {
        *ci95 = 0;
        return;
    }
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    double sd = sqrt(ss / (n - 1));
    double t = n - 1 <= 30 ? t975[n - 1] : 1.96;
    *ci95 = t * sd / sqrt((double)n);
}

double stats_mean_of_means_ci(const double *ci95, int n)
{
    if (n < 1)
        return NAN;
    double var = 0;
    for (int i = 0; i < n; i++)
        var += (ci95[i] / 1.96) * (ci95[i] / 1.96);
    return 1.96 * sqrt(var) / n;
}

int match_interrupted(void)
{
    return interrupted != 0;
}

void match_summarise(MatchResult *out)
{
    int n = out->n;
    double *v[2] = {xmalloc(sizeof(double) * (size_t)(n ? n : 1)),
                    xmalloc(sizeof(double) * (size_t)(n ? n : 1))};
    out->captures = out->faults[0] = out->faults[1] = 0;
    for (int i = 0; i < n; i++) {
        EpisodeResult *r = &out->episodes[i];
        v[0][i] = r->score[0];
        v[1][i] = r->score[1];
        out->captures += r->captured;
        out->faults[0] += r->fault[0].kind != FAULT_NONE;
        out->faults[1] += r->fault[1].kind != FAULT_NONE;
    }
    stats_mean_ci(v[0], n, &out->mean[0], &out->ci95[0]);
    stats_mean_ci(v[1], n, &out->mean[1], &out->ci95[1]);
    free(v[0]);
    free(v[1]);
}

FmspErr match_play(const MatchConfig *cfg, const char *obj1, const char *obj2, MatchStepFn on_step,
                   void *ctx, MatchResult *out, char *err, size_t errlen)
{
    const Domain *d = cfg->domain ? cfg->domain : &domain_cartag;
    return d->play(cfg, obj1, obj2, on_step, ctx, out, err, errlen);
}

void match_result_release(MatchResult *res)
{
    if (!res)
        return;
    free(res->episodes);
    memset(res, 0, sizeof *res);
}

typedef struct ManyPool {
    const MatchConfig *cfg;
    MatchJob *jobs;
    int n, next, done;
    pthread_mutex_t lock;
    MatchJobDoneFn done_fn;
    void *ctx;
    FmspErr err;
    char msg[512];
} ManyPool;

static void *many_worker(void *arg)
{
    ManyPool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        int job = pool->err ? pool->n : pool->next++;
        pthread_mutex_unlock(&pool->lock);
        if (job >= pool->n)
            return NULL;
        MatchJob *j = &pool->jobs[job];
        char msg[512] = "";
        MatchConfig cfg = *pool->cfg;
        cfg.trace_ctx = j->trace_ctx;
        j->err = match_play(&cfg, j->obj[0], j->obj[1], NULL, NULL, &j->result, msg, sizeof msg);
        pthread_mutex_lock(&pool->lock);
        if (j->err && !pool->err) {
            pool->err = j->err;
            snprintf(pool->msg, sizeof pool->msg, "%s", msg);
        }
        pool->done++;
        if (pool->done_fn && !j->err)
            pool->done_fn(pool->ctx, job, pool->done, pool->n);
        pthread_mutex_unlock(&pool->lock);
    }
}

FmspErr match_play_many(const MatchConfig *cfg, MatchJob *jobs, int n, int threads,
                        MatchJobDoneFn done_fn, void *ctx, char *err, size_t errlen)
{
    ManyPool pool = {.cfg = cfg, .jobs = jobs, .n = n, .done_fn = done_fn, .ctx = ctx};
    pthread_mutex_init(&pool.lock, NULL);
    if (threads > n)
        threads = n;
    if (threads > 64)
        threads = 64;
    pthread_t th[64];
    int started = 0;
    for (int i = 1; i < threads; i++)
        if (pthread_create(&th[started], NULL, many_worker, &pool) == 0)
            started++;
    many_worker(&pool);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&pool.lock);
    if (pool.err)
        fmsp_errf(err, errlen, "%s", pool.msg);
    return pool.err;
}
