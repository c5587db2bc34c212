/* tournament.c - collects and compiles policies, plays the cross-play matrix. */
#include "tournament.h"

#include "../domains/domain.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/util.h"

void tournament_init(Tournament *t, const MatchConfig *cfg)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
}

static void entries_free(TourEntry *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].path);
        compile_result_release(&v[i].compiled);
    }
    free(v);
}

void tournament_release(Tournament *t)
{
    if (t->results)
        for (int i = 0; i < t->n_pursuers * t->n_evaders; i++)
            match_result_release(&t->results[i]);
    free(t->results);
    entries_free(t->pursuers, t->n_pursuers);
    entries_free(t->evaders, t->n_evaders);
    memset(t, 0, sizeof *t);
}

static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t len = strlen(b);
    if (len > 2 && strcmp(b + len - 2, ".c") == 0)
        len -= 2;
    return xstrndup(b, len);
}

static TourEntry *push_entry(Tournament *t, int side)
{
    TourEntry **v = side == FMSP_PURSUER ? &t->pursuers : &t->evaders;
    int *n = side == FMSP_PURSUER ? &t->n_pursuers : &t->n_evaders;
    *v = xrealloc(*v, sizeof **v * (size_t)(*n + 1));
    TourEntry *e = &(*v)[(*n)++];
    memset(e, 0, sizeof *e);
    return e;
}

static FmspErr add_file(Tournament *t, const CompileConfig *cc, const char *path, char **diag,
                        char *err, size_t errlen)
{
    CompileResult res;
    char msg[512] = "";
    FmspErr e = compile_policy_file(cc, path, &res, msg, sizeof msg);
    if (e) {
        if (diag && res.diagnostics)
            *diag = xstrdup(res.diagnostics);
        fmsp_errf(err, errlen, "%s", msg[0] ? msg : fmsp_strerror(e));
        compile_result_release(&res);
        return e;
    }
    const Domain *want = t->cfg.domain ? t->cfg.domain : &domain_cartag;
    const Domain *of = domain_of_side_macro(res.side_macro);
    if (of && of != want) {
        fmsp_errf(err, errlen, "'%s' is a %s policy (FMSP_SIDE(%s)); this tournament plays %s%s",
                  path, of->title, res.side_macro, want->title,
                  want == &domain_cartag ? " (add --domain gandalf)" : "");
        compile_result_release(&res);
        return FMSP_ERR_REFUSED;
    }
    TourEntry *en = push_entry(t, res.side);
    en->name = base_name(path);
    en->path = xstrdup(path);
    en->side = res.side;
    en->compiled = res;
    return FMSP_OK;
}

FmspErr tournament_add_path(Tournament *t, const CompileConfig *cc, const char *path,
                            char **diag, char *err, size_t errlen)
{
    if (diag)
        *diag = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        fmsp_errf(err, errlen, "'%s': %s", path, strerror(errno));
        return FMSP_ERR_NOTFOUND;
    }
    if (!S_ISDIR(st.st_mode))
        return add_file(t, cc, path, diag, err, errlen);
    char **names;
    int n;
    FmspErr e = util_list_c_files(path, &names, &n, err, errlen);
    if (e)
        return e;
    if (n == 0) {
        fmsp_errf(err, errlen, "folder '%s' holds no .c policy files", path);
        e = FMSP_ERR_NOTFOUND;
    }
    for (int i = 0; i < n && !e; i++)
        e = add_file(t, cc, names[i], diag, err, errlen);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

void tournament_add_object(Tournament *t, const char *name, int side, const char *object_path)
{
    TourEntry *en = push_entry(t, side);
    en->name = xstrdup(name);
    en->path = xstrdup(object_path);
    en->side = side;
    snprintf(en->compiled.object_path, sizeof en->compiled.object_path, "%s", object_path);
    en->compiled.side = side;
}

typedef struct Progress {
    Tournament *t;
    MatchJob *jobs;
    TourProgressFn fn;
    void *ctx;
} Progress;

static void on_job_done(void *ctx, int job, int done, int total)
{
    Progress *pr = ctx;
    Tournament *t = pr->t;
    if (pr->fn)
        pr->fn(pr->ctx, done, total, &t->pursuers[job / t->n_evaders],
               &t->evaders[job % t->n_evaders], &pr->jobs[job].result);
}

FmspErr tournament_run(Tournament *t, int jobs, TourProgressFn progress, void *ctx, char *err,
                       size_t errlen)
{
    if (t->n_pursuers == 0 || t->n_evaders == 0) {
        fmsp_errf(err, errlen, "a tournament needs at least one pursuer and one evader "
                               "(got %d pursuers, %d evaders)",
                  t->n_pursuers, t->n_evaders);
        return FMSP_ERR_ARG;
    }
    int total = t->n_pursuers * t->n_evaders;
    MatchJob *mj = xcalloc((size_t)total, sizeof *mj);
    for (int k = 0; k < total; k++) {
        mj[k].obj[0] = t->pursuers[k / t->n_evaders].compiled.object_path;
        mj[k].obj[1] = t->evaders[k % t->n_evaders].compiled.object_path;
    }
    Progress pr = {t, mj, progress, ctx};
    double t0 = util_now();
    FmspErr e = match_play_many(&t->cfg, mj, total, jobs < 1 ? 1 : jobs, on_job_done, &pr, err,
                                errlen);
    t->seconds = util_now() - t0;
    t->results = xcalloc((size_t)total, sizeof *t->results);
    for (int k = 0; k < total; k++)
        t->results[k] = mj[k].result;
    free(mj);
    return e;
}

/* Means over the matches that were played (an interrupted tournament
 * leaves some unplayed: n == 0). */
double tournament_pursuer_mean(const Tournament *t, int i)
{
    double s = 0;
    int played = 0;
    for (int j = 0; j < t->n_evaders; j++)
        if (t->results[i * t->n_evaders + j].n > 0) {
            s += t->results[i * t->n_evaders + j].mean[0];
            played++;
        }
    return played ? s / played : 0;
}

/* The 95% half-width of a mean over the played opponents (fixed). */
static double mean_ci(const Tournament *t, int row, int index)
{
    int n = row ? t->n_evaders : t->n_pursuers, played = 0;
    double *ci = xcalloc((size_t)n + 1, sizeof *ci);
    for (int k = 0; k < n; k++) {
        const MatchResult *r = row ? &t->results[index * t->n_evaders + k]
                                   : &t->results[k * t->n_evaders + index];
        if (r->n > 0)
            ci[played++] = r->ci95[row ? 0 : 1];
    }
    double v = played ? stats_mean_of_means_ci(ci, played) : 0;
    free(ci);
    return v;
}

double tournament_pursuer_ci(const Tournament *t, int i)
{
    return mean_ci(t, 1, i);
}

double tournament_evader_ci(const Tournament *t, int j)
{
    return mean_ci(t, 0, j);
}

double tournament_evader_mean(const Tournament *t, int j)
{
    double s = 0;
    int played = 0;
    for (int i = 0; i < t->n_pursuers; i++)
        if (t->results[i * t->n_evaders + j].n > 0) {
            s += t->results[i * t->n_evaders + j].mean[1];
            played++;
        }
    return played ? s / played : 0;
}
