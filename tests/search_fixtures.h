/*
 * search_fixtures.h - what the end-to-end search tests share: a run from
 * start to end, and a printable fingerprint of a run database (every
 * candidate with its verdict, archive membership and quality, and the
 * number of model calls), so two runs can be compared exactly; and a run
 * (or a resume) killed with SIGKILL once a given iteration is committed.
 */
#ifndef FMSP_SEARCH_FIXTURES_H
#define FMSP_SEARCH_FIXTURES_H

#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "search/search.h"

/* A printable fingerprint of a run: every candidate with its verdict and the
 * archive membership and quality. */
static inline char *search_fingerprint(const char *db_path)
{
    Store *db;
    char err[256];
    if (store_open(db_path, 0, &db, err, sizeof err))
        return xstrdup(err);
    StorePolicyRow *rows;
    int n;
    store_policy_list(db, 0, 0, &rows, &n);
    size_t cap = 256 + (size_t)n * 160, len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%lld %d %d %s %.12s %d %.6f\n",
                                (long long)rows[i].id, rows[i].side, rows[i].iteration,
                                rows[i].status, rows[i].hash ? rows[i].hash : "-",
                                rows[i].in_archive, isnan(rows[i].quality) ? -1 : rows[i].quality);
    store_policy_rows_free(rows, n);
    long calls, failed, tokens;
    double cost;
    store_call_totals(db, &calls, &failed, &tokens, &cost);
    snprintf(out + len, cap - len, "calls %ld\n", calls);
    store_close(db);
    return out;
}

static inline int search_run_to_end(const SearchConfig *cfg, const char *db, char *err, size_t errlen)
{
    CompileConfig cc;
    compile_config_default(&cc);
    Search *s;
    FmspErr e = search_create(cfg, &cc, db, &s, err, errlen);
    if (e)
        return e;
    e = search_run(s, NULL, NULL, err, errlen);
    search_free(s);
    return e;
}

/* Runs to the end in a child; kills it with SIGKILL once iteration `after`
 * is committed (or it ends). resume: continue the database instead of
 * creating it. Returns the last committed iteration seen before the kill. */
static inline int search_run_and_kill(const SearchConfig *c, const char *db, int resume, int after)
{
    pid_t pid = fork();
    if (pid == 0) {
        char e2[512];
        if (resume) {
            CompileConfig cc;
            compile_config_default(&cc);
            Search *s;
            if (search_resume(db, &cc, NULL, &s, e2, sizeof e2) == FMSP_OK) {
                search_run(s, NULL, NULL, e2, sizeof e2);
                search_free(s);
            }
        } else {
            search_run_to_end(c, db, e2, sizeof e2);
        }
        _exit(0);
    }
    int done = -1, st;
    char err[256];
    for (int i = 0; i < 1200 && done < after; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return done; /* it finished first */
        usleep(10000);
        Store *db_ = NULL;
        if (store_open(db, 0, &db_, err, sizeof err) == FMSP_OK) {
            store_last_iteration(db_, &done);
            store_close(db_);
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return done;
}

/* Resumes the run in db and runs it to its end. */
static inline FmspErr search_resume_to_end(const char *db, char *err, size_t errlen)
{
    CompileConfig cc;
    compile_config_default(&cc);
    Search *s;
    FmspErr e = search_resume(db, &cc, NULL, &s, err, errlen);
    if (e)
        return e;
    e = search_run(s, NULL, NULL, err, errlen);
    search_free(s);
    return e;
}

#endif
