/*
 * store_list.c - bulk reads of a run database for reports (store.h, "whole
 * tables"): every evaluation, model call and iteration row, and the
 * transcript of one pairing. Read-only; works on databases from before a
 * table existed (an empty list).
 */
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "store_internal.h"

/* Runs `sql` with up to two integer parameters (bound, never printed into
 * the text: the store's rule) and calls row() for each result row; a
 * missing table (older databases) is an empty result. */
static FmspErr each_row_with(Store *s, const char *sql, int n_params, int64_t p1, int64_t p2,
                             const char *what, void (*row)(void *ctx, sqlite3_stmt *st), void *ctx)
{
    sqlite3_stmt *st = store_prep_(s, sql);
    if (!st)
        return strstr(sqlite3_errmsg(s->db), "no such table") ? FMSP_OK : store_fail_(s, what);
    if (n_params > 0)
        sqlite3_bind_int64(st, 1, p1);
    if (n_params > 1)
        sqlite3_bind_int64(st, 2, p2);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(ctx, st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FMSP_OK : store_fail_(s, what);
}

static FmspErr each_row(Store *s, const char *sql, const char *what,
                        void (*row)(void *ctx, sqlite3_stmt *st), void *ctx)
{
    return each_row_with(s, sql, 0, 0, 0, what, row, ctx);
}

typedef struct Growing {
    void *items;
    int n, cap;
    size_t size;
} Growing;

static void *grow(Growing *g)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->items = xrealloc(g->items, g->size * (size_t)g->cap);
    }
    void *at = (char *)g->items + g->size * (size_t)g->n++;
    memset(at, 0, g->size);
    return at;
}

static void eval_row(void *ctx, sqlite3_stmt *st)
{
    StoreEvalRow *r = grow(ctx);
    r->policy_id = sqlite3_column_int64(st, 0);
    r->opponent_id = sqlite3_column_int64(st, 1);
    r->iteration = sqlite3_column_int(st, 2);
    r->score = store_col_real_(st, 3);
    r->ci95 = store_col_real_(st, 4);
    r->episodes = sqlite3_column_int(st, 5);
    r->policy_faults = sqlite3_column_int(st, 6);
    r->opponent_faults = sqlite3_column_int(st, 7);
}

FmspErr store_eval_list(Store *s, StoreEvalRow **rows, int *n)
{
    Growing g = {NULL, 0, 0, sizeof **rows};
    FmspErr e = each_row(s,
                         "SELECT policy_id, opponent_id, iteration, policy_score, ci95, episodes, "
                         "policy_faults, opponent_faults FROM evaluations ORDER BY id",
                         "reading evaluations", eval_row, &g);
    *rows = g.items;
    *n = g.n;
    return e;
}

static void call_row(void *ctx, sqlite3_stmt *st)
{
    StoreCallRow *r = grow(ctx);
    r->id = sqlite3_column_int64(st, 0);
    r->key = sqlite3_column_int(st, 1);
    r->iteration = sqlite3_column_int(st, 2);
    r->side = sqlite3_column_int(st, 3);
    r->purpose = store_col_text_(st, 4);
    r->backend = store_col_text_(st, 5);
    r->model = store_col_text_(st, 6);
    r->prompt = store_col_text_(st, 7);
    r->prompt_tokens = sqlite3_column_int64(st, 8);
    r->completion_tokens = sqlite3_column_int64(st, 9);
    r->cost_usd = store_col_real_(st, 10);
    r->error = store_col_text_(st, 11);
}

FmspErr store_call_list(Store *s, StoreCallRow **rows, int *n)
{
    Growing g = {NULL, 0, 0, sizeof **rows};
    FmspErr e = each_row(s,
                         "SELECT id, key, iteration, side, purpose, backend, model, prompt, "
                         "prompt_tokens, completion_tokens, cost_usd, error FROM model_calls "
                         "ORDER BY key",
                         "reading model calls", call_row, &g);
    *rows = g.items;
    *n = g.n;
    return e;
}

void store_call_rows_free(StoreCallRow *rows, int n)
{
    for (int i = 0; i < n; i++) {
        free(rows[i].purpose);
        free(rows[i].backend);
        free(rows[i].model);
        free(rows[i].prompt);
        free(rows[i].error);
    }
    free(rows);
}

static void iter_row(void *ctx, sqlite3_stmt *st)
{
    StoreIterationRow *r = grow(ctx);
    r->iteration = sqlite3_column_int(st, 0);
    r->summary = store_col_text_(st, 1);
}

FmspErr store_iteration_list(Store *s, StoreIterationRow **rows, int *n)
{
    Growing g = {NULL, 0, 0, sizeof **rows};
    FmspErr e = each_row(s, "SELECT iteration, summary FROM iterations ORDER BY iteration",
                         "reading iterations", iter_row, &g);
    *rows = g.items;
    *n = g.n;
    return e;
}

void store_iteration_rows_free(StoreIterationRow *rows, int n)
{
    for (int i = 0; i < n; i++)
        free(rows[i].summary);
    free(rows);
}

static void text_row(void *ctx, sqlite3_stmt *st)
{
    char **out = ctx;
    free(*out);
    *out = store_col_text_(st, 0);
}

FmspErr store_transcript_pair(Store *s, int64_t policy_id, int64_t opponent_id, char **text)
{
    *text = NULL;
    return each_row_with(s,
                         "SELECT text FROM transcripts WHERE policy_id = ? AND opponent_id = ? "
                         "ORDER BY id",
                         2, policy_id, opponent_id, "reading a transcript", text_row, text);
}
