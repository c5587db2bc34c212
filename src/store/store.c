/*
 * store.c - the SQLite run database (store.h).
 *
 * Every statement binds its values (sources, prompts and responses are
 * untrusted text); the file is marked with an application id and a meta row
 * so that fmsp never mistakes another SQLite file for a run; WAL journal with
 * synchronous=NORMAL, so a kill -9 loses at most the open transaction.
 */
#include "store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/util.h"

#define STORE_APP_ID 0x464D5350 /* "FMSP" */
#define STORE_SCHEMA "1"

struct Store {
    sqlite3 *db;
    char path[1024];
    char msg[512];
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS policies ("
    "  id INTEGER PRIMARY KEY, side INTEGER NOT NULL, iteration INTEGER NOT NULL,"
    "  origin TEXT NOT NULL, name TEXT, source TEXT, hash TEXT, parents TEXT,"
    "  status TEXT NOT NULL, reason TEXT, embedding BLOB, quality REAL, novelty REAL,"
    "  in_archive INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS policies_archive ON policies(side, in_archive);"
    "CREATE TABLE IF NOT EXISTS evaluations ("
    "  id INTEGER PRIMARY KEY, policy_id INTEGER NOT NULL REFERENCES policies(id),"
    "  opponent_id INTEGER NOT NULL, iteration INTEGER, policy_score REAL, ci95 REAL,"
    "  episodes INTEGER, policy_faults INTEGER, opponent_faults INTEGER, fault_summary TEXT);"
    "CREATE INDEX IF NOT EXISTS evaluations_policy ON evaluations(policy_id);"
    "CREATE TABLE IF NOT EXISTS model_calls ("
    "  id INTEGER PRIMARY KEY, key INTEGER NOT NULL UNIQUE, iteration INTEGER, side INTEGER,"
    "  purpose TEXT, backend TEXT, model TEXT, prompt TEXT, response TEXT,"
    "  prompt_tokens INTEGER, completion_tokens INTEGER, latency_s REAL, cost_usd REAL,"
    "  http_status INTEGER, attempts INTEGER, error TEXT, created REAL);"
    "CREATE TABLE IF NOT EXISTS requests (iteration INTEGER PRIMARY KEY, plan TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS iterations (iteration INTEGER PRIMARY KEY, summary TEXT, done REAL);"
    "CREATE TABLE IF NOT EXISTS events ("
    "  id INTEGER PRIMARY KEY, iteration INTEGER, kind TEXT, detail TEXT, at REAL);";

static FmspErr fail(Store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    if (code == SQLITE_FULL)
        snprintf(s->msg, sizeof s->msg, "%s: the disk is full (or the database hit its size "
                 "limit) writing '%s'; completed work is kept",
                 what, s->path);
    else
        snprintf(s->msg, sizeof s->msg, "%s: %s", what, sqlite3_errmsg(s->db));
    return FMSP_ERR_DB;
}

const char *store_errmsg(const Store *s)
{
    return s->msg;
}

static FmspErr exec(Store *s, const char *sql, const char *what)
{
    char *e = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &e) != SQLITE_OK) {
        sqlite3_free(e);
        return fail(s, what);
    }
    return FMSP_OK;
}

static sqlite3_stmt *prep(Store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Runs a prepared statement that returns no rows, then finalises it. */
static FmspErr run(Store *s, sqlite3_stmt *st, const char *what)
{
    if (!st)
        return fail(s, what);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        /* the error lives on the connection after finalize */
        return fail(s, what);
    }
    return FMSP_OK;
}

FmspErr store_open(const char *path, int create, Store **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (create && exists) {
        fmsp_errf(err, errlen, "'%s' already exists; use --resume to continue it or choose "
                               "another --db",
                  path);
        return FMSP_ERR_DB;
    }
    if (!create && !exists) {
        fmsp_errf(err, errlen, "run database '%s' does not exist", path);
        return FMSP_ERR_NOTFOUND;
    }
    Store *s = xcalloc(1, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        fmsp_errf(err, errlen, "cannot open '%s': %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return FMSP_ERR_DB;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_stmt *q = prep(s, "PRAGMA application_id");
    int app = -1;
    if (q && sqlite3_step(q) == SQLITE_ROW)
        app = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (!q) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database (%s)", path, sqlite3_errmsg(s->db));
        store_close(s);
        return FMSP_ERR_DB;
    }
    if (!create && app != STORE_APP_ID) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database", path);
        store_close(s);
        return FMSP_ERR_DB;
    }
    FmspErr e = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                     "setting up the database");
    if (!e && create) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d;", STORE_APP_ID);
        e = exec(s, sql, "marking the database");
        if (!e)
            e = exec(s, schema, "creating the schema");
        if (!e)
            e = store_meta_set(s, "schema_version", STORE_SCHEMA);
        if (!e)
            e = store_meta_set(s, "fmsp", "run");
    } else if (!e) {
        char *ver = NULL;
        e = store_meta_get(s, "schema_version", &ver);
        if (!e && (!ver || strcmp(ver, STORE_SCHEMA) != 0)) {
            snprintf(s->msg, sizeof s->msg, "'%s' has schema version %s; this fmsp reads %s", path,
                     ver ? ver : "(none)", STORE_SCHEMA);
            e = FMSP_ERR_DB;
        }
        free(ver);
    }
    if (e) {
        fmsp_errf(err, errlen, "%s", s->msg);
        store_close(s);
        return e;
    }
    *out = s;
    return FMSP_OK;
}

void store_close(Store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close_v2(s->db);
    free(s);
}

FmspErr store_limit_pages(Store *s, long pages)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%ld;", pages);
    return exec(s, sql, "limiting the database size");
}

FmspErr store_begin(Store *s)
{
    return exec(s, "BEGIN IMMEDIATE", "starting a transaction");
}

FmspErr store_commit(Store *s)
{
    return exec(s, "COMMIT", "committing");
}

FmspErr store_rollback(Store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return FMSP_OK;
    return exec(s, "ROLLBACK", "rolling back");
}

FmspErr store_meta_set(Store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO meta(key, value) VALUES(?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (st) {
        bind_text(st, 1, key);
        bind_text(st, 2, value);
    }
    return run(s, st, "writing meta");
}

FmspErr store_meta_get(Store *s, const char *key, char **value)
{
    *value = NULL;
    sqlite3_stmt *st = prep(s, "SELECT value FROM meta WHERE key = ?");
    if (!st)
        return fail(s, "reading meta");
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *value = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, "reading meta");
    return FMSP_OK;
}

FmspErr store_policy_add(Store *s, StorePolicy *p)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO policies(side, iteration, origin, name, source, hash, "
                               "parents, status, reason, embedding, quality, novelty, in_archive) "
                               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return fail(s, "storing a policy");
    sqlite3_bind_int(st, 1, p->side);
    sqlite3_bind_int(st, 2, p->iteration);
    bind_text(st, 3, p->origin ? p->origin : "model");
    bind_text(st, 4, p->name);
    bind_text(st, 5, p->source);
    bind_text(st, 6, p->hash);
    bind_text(st, 7, p->parents ? p->parents : "[]");
    bind_text(st, 8, p->status ? p->status : "ok");
    bind_text(st, 9, p->reason);
    if (p->embedding && p->embedding_dim > 0)
        sqlite3_bind_blob(st, 10, p->embedding, (int)(sizeof(float) * (size_t)p->embedding_dim),
                          SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 10);
    bind_real(st, 11, p->quality);
    bind_real(st, 12, p->novelty);
    sqlite3_bind_int(st, 13, p->in_archive);
    FmspErr e = run(s, st, "storing a policy");
    if (!e)
        p->id = sqlite3_last_insert_rowid(s->db);
    return e;
}

/* Runs an UPDATE of one policy; FMSP_ERR_NOTFOUND when no row matched. */
static FmspErr update_one(Store *s, sqlite3_stmt *st, int64_t id, const char *what)
{
    FmspErr e = run(s, st, what);
    if (!e && sqlite3_changes(s->db) == 0) {
        snprintf(s->msg, sizeof s->msg, "%s: no policy #%lld", what, (long long)id);
        return FMSP_ERR_NOTFOUND;
    }
    return e;
}

FmspErr store_policy_set_quality(Store *s, int64_t id, double quality)
{
    sqlite3_stmt *st = prep(s, "UPDATE policies SET quality = ? WHERE id = ?");
    if (st) {
        bind_real(st, 1, quality);
        sqlite3_bind_int64(st, 2, id);
    }
    return update_one(s, st, id, "updating quality");
}

FmspErr store_policy_set_archive(Store *s, int64_t id, int in_archive)
{
    sqlite3_stmt *st = prep(s, "UPDATE policies SET in_archive = ? WHERE id = ?");
    if (st) {
        sqlite3_bind_int(st, 1, in_archive);
        sqlite3_bind_int64(st, 2, id);
    }
    return update_one(s, st, id, "updating the archive");
}

FmspErr store_policy_set_status(Store *s, int64_t id, const char *status, const char *reason)
{
    sqlite3_stmt *st = prep(s, "UPDATE policies SET status = ?, reason = ? WHERE id = ?");
    if (st) {
        bind_text(st, 1, status ? status : "ok");
        bind_text(st, 2, reason ? reason : "");
        sqlite3_bind_int64(st, 3, id);
    }
    return update_one(s, st, id, "updating a status");
}

static char *col_text(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    return xstrdup((const char *)sqlite3_column_text(st, i));
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

#define POLICY_COLS                                                                        \
    "id, side, iteration, in_archive, origin, name, source, hash, parents, status, reason, " \
    "embedding, quality, novelty"

static void read_row(sqlite3_stmt *st, StorePolicyRow *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->side = sqlite3_column_int(st, 1);
    r->iteration = sqlite3_column_int(st, 2);
    r->in_archive = sqlite3_column_int(st, 3);
    r->origin = col_text(st, 4);
    if (!r->origin)
        r->origin = xstrdup("");
    r->name = col_text(st, 5);
    r->source = col_text(st, 6);
    r->hash = col_text(st, 7);
    r->parents = col_text(st, 8);
    r->status = col_text(st, 9);
    if (!r->status)
        r->status = xstrdup("");
    r->reason = col_text(st, 10);
    int bytes = sqlite3_column_bytes(st, 11);
    if (bytes >= (int)sizeof(float) && sqlite3_column_type(st, 11) == SQLITE_BLOB) {
        r->embedding_dim = bytes / (int)sizeof(float);
        r->embedding = xmalloc((size_t)r->embedding_dim * sizeof(float));
        memcpy(r->embedding, sqlite3_column_blob(st, 11), (size_t)r->embedding_dim * sizeof(float));
    }
    r->quality = col_real(st, 12);
    r->novelty = col_real(st, 13);
}

void store_policy_row_release(StorePolicyRow *r)
{
    if (!r)
        return;
    free(r->origin);
    free(r->name);
    free(r->source);
    free(r->hash);
    free(r->parents);
    free(r->status);
    free(r->reason);
    free(r->embedding);
    memset(r, 0, sizeof *r);
}

FmspErr store_policy_get(Store *s, int64_t id, StorePolicyRow *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = prep(s, "SELECT " POLICY_COLS " FROM policies WHERE id = ?");
    if (!st)
        return fail(s, "reading a policy");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        snprintf(s->msg, sizeof s->msg, "no policy #%lld", (long long)id);
        return FMSP_ERR_NOTFOUND;
    }
    return rc == SQLITE_ROW ? FMSP_OK : fail(s, "reading a policy");
}

FmspErr store_policy_list(Store *s, int side, int archive_only, StorePolicyRow **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(s, "SELECT " POLICY_COLS " FROM policies WHERE (?1 = 0 OR side = ?1) "
                               "AND (?2 = 0 OR in_archive = 1) ORDER BY id");
    if (!st)
        return fail(s, "listing policies");
    sqlite3_bind_int(st, 1, side);
    sqlite3_bind_int(st, 2, archive_only);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            *rows = xrealloc(*rows, sizeof **rows * (size_t)cap);
        }
        read_row(st, &(*rows)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_policy_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return fail(s, "listing policies");
    }
    return FMSP_OK;
}

void store_policy_rows_free(StorePolicyRow *rows, int n)
{
    for (int i = 0; i < n; i++)
        store_policy_row_release(&rows[i]);
    free(rows);
}

FmspErr store_eval_add(Store *s, const StoreEval *e)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO evaluations(policy_id, opponent_id, iteration, "
                               "policy_score, ci95, episodes, policy_faults, opponent_faults, "
                               "fault_summary) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st)
        return fail(s, "storing an evaluation");
    sqlite3_bind_int64(st, 1, e->policy_id);
    sqlite3_bind_int64(st, 2, e->opponent_id);
    sqlite3_bind_int(st, 3, e->iteration);
    bind_real(st, 4, e->policy_score);
    bind_real(st, 5, e->ci95);
    sqlite3_bind_int(st, 6, e->episodes);
    sqlite3_bind_int(st, 7, e->policy_faults);
    sqlite3_bind_int(st, 8, e->opponent_faults);
    bind_text(st, 9, e->fault_summary);
    return run(s, st, "storing an evaluation");
}

FmspErr store_call_add(Store *s, StoreCall *c)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO model_calls(key, iteration, side, purpose, backend, model, "
                               "prompt, response, prompt_tokens, completion_tokens, latency_s, "
                               "cost_usd, http_status, attempts, error, created) "
                               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,julianday('now'))");
    if (!st)
        return fail(s, "recording a model call");
    sqlite3_bind_int(st, 1, c->key);
    sqlite3_bind_int(st, 2, c->iteration);
    sqlite3_bind_int(st, 3, c->side);
    bind_text(st, 4, c->purpose);
    bind_text(st, 5, c->backend);
    bind_text(st, 6, c->model);
    bind_text(st, 7, c->prompt);
    bind_text(st, 8, c->response);
    sqlite3_bind_int64(st, 9, c->prompt_tokens);
    sqlite3_bind_int64(st, 10, c->completion_tokens);
    bind_real(st, 11, c->latency_s);
    bind_real(st, 12, c->cost_usd);
    sqlite3_bind_int(st, 13, c->http_status);
    sqlite3_bind_int(st, 14, c->attempts);
    bind_text(st, 15, c->error);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        snprintf(s->msg, sizeof s->msg, "duplicate model call key %d", c->key);
        return FMSP_ERR_DB;
    }
    if (rc != SQLITE_DONE)
        return fail(s, "recording a model call");
    c->id = sqlite3_last_insert_rowid(s->db);
    return FMSP_OK;
}

FmspErr store_call_get(Store *s, int key, char **response, char **error, long *prompt_tokens,
                       long *completion_tokens)
{
    *response = NULL;
    if (error)
        *error = NULL;
    sqlite3_stmt *st = prep(s, "SELECT response, error, prompt_tokens, completion_tokens "
                               "FROM model_calls WHERE key = ?");
    if (!st)
        return fail(s, "reading a model call");
    sqlite3_bind_int(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *response = col_text(st, 0);
        if (error)
            *error = col_text(st, 1);
        if (prompt_tokens)
            *prompt_tokens = (long)sqlite3_column_int64(st, 2);
        if (completion_tokens)
            *completion_tokens = (long)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return FMSP_ERR_NOTFOUND;
    return rc == SQLITE_ROW ? FMSP_OK : fail(s, "reading a model call");
}

FmspErr store_call_totals(Store *s, long *calls, long *failed, long *tokens, double *cost)
{
    *calls = *failed = *tokens = 0;
    *cost = 0;
    sqlite3_stmt *st = prep(s, "SELECT COUNT(*), COALESCE(SUM(error IS NOT NULL), 0), "
                               "COALESCE(SUM(prompt_tokens + completion_tokens), 0), "
                               "COALESCE(SUM(cost_usd), 0) FROM model_calls");
    if (!st)
        return fail(s, "summing model calls");
    if (sqlite3_step(st) == SQLITE_ROW) {
        *calls = (long)sqlite3_column_int64(st, 0);
        *failed = (long)sqlite3_column_int64(st, 1);
        *tokens = (long)sqlite3_column_int64(st, 2);
        *cost = sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    return FMSP_OK;
}

FmspErr store_request_put(Store *s, int iteration, const char *json)
{
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO requests(iteration, plan) VALUES(?, ?)");
    if (st) {
        sqlite3_bind_int(st, 1, iteration);
        bind_text(st, 2, json);
    }
    return run(s, st, "storing a plan");
}

FmspErr store_request_get(Store *s, int iteration, char **json)
{
    *json = NULL;
    sqlite3_stmt *st = prep(s, "SELECT plan FROM requests WHERE iteration = ?");
    if (!st)
        return fail(s, "reading a plan");
    sqlite3_bind_int(st, 1, iteration);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *json = col_text(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return FMSP_ERR_NOTFOUND;
    return rc == SQLITE_ROW ? FMSP_OK : fail(s, "reading a plan");
}

FmspErr store_iteration_done(Store *s, int iteration, const char *summary_json)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO iterations(iteration, summary, done) "
                               "VALUES(?, ?, julianday('now'))");
    if (st) {
        sqlite3_bind_int(st, 1, iteration);
        bind_text(st, 2, summary_json);
    }
    return run(s, st, "marking an iteration done");
}

FmspErr store_last_iteration(Store *s, int *iteration)
{
    *iteration = -1;
    sqlite3_stmt *st = prep(s, "SELECT COALESCE(MAX(iteration), -1) FROM iterations");
    if (!st)
        return fail(s, "reading progress");
    if (sqlite3_step(st) == SQLITE_ROW)
        *iteration = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return FMSP_OK;
}

FmspErr store_event(Store *s, int iteration, const char *kind, const char *detail)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO events(iteration, kind, detail, at) "
                               "VALUES(?, ?, ?, julianday('now'))");
    if (st) {
        sqlite3_bind_int(st, 1, iteration);
        bind_text(st, 2, kind);
        bind_text(st, 3, detail);
    }
    return run(s, st, "logging an event");
}
