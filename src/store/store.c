/*
 * store.c - the SQLite run database (store.h).
 *
 * One Store owns one sqlite3 connection and a message buffer for the last
 * error. Invariants:
 *   - every value reaches SQLite through a bound parameter (sources, prompts
 *     and responses are untrusted text); the only SQL built with printf are
 *     PRAGMAs that take a number we computed ourselves;
 *   - a file is an fmsp run database only if its header carries
 *     PRAGMA application_id = STORE_APP_ID and its meta table says
 *     fmsp = run; creation writes both, with the schema, in ONE transaction,
 *     so a file is either a complete empty run or not a run at all (a
 *     failed creation removes the file);
 *   - WAL journal, synchronous=NORMAL: a committed transaction survives a
 *     kill -9 of the process, an open one vanishes whole;
 *   - no single value (text or blob) is longer than STORE_MAX_VALUE, on the
 *     way in (FMSP_ERR_TOOBIG) and on the way out (SQLite refuses to
 *     materialise it), so a hostile database file cannot make us allocate
 *     without bound;
 *   - embeddings are little-endian IEEE float32 BLOBs, dim = bytes / 4.
 * Everything returned to the caller is a heap copy; nothing the caller
 * passes in is retained.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/util.h"
#include "fmsp_policy.h"
#include "store_internal.h"

#define STORE_APP_ID 0x464D5350 /* "FMSP" */
#define STORE_SCHEMA "1"
#define STORE_BUSY_MS 5000


static const char schema[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE policies ("
    "  id INTEGER PRIMARY KEY, side INTEGER NOT NULL, iteration INTEGER NOT NULL,"
    "  origin TEXT NOT NULL, name TEXT, source TEXT, hash TEXT, parents TEXT,"
    "  status TEXT NOT NULL, reason TEXT, embedding BLOB, quality REAL, novelty REAL,"
    "  in_archive INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX policies_side_archive ON policies(side, in_archive);"
    "CREATE INDEX policies_hash ON policies(hash);"
    "CREATE TABLE evaluations ("
    "  id INTEGER PRIMARY KEY, policy_id INTEGER NOT NULL REFERENCES policies(id),"
    "  opponent_id INTEGER NOT NULL REFERENCES policies(id), iteration INTEGER,"
    "  policy_score REAL, ci95 REAL, episodes INTEGER, policy_faults INTEGER,"
    "  opponent_faults INTEGER, fault_summary TEXT);"
    "CREATE INDEX evaluations_policy ON evaluations(policy_id);"
    "CREATE TABLE model_calls ("
    "  id INTEGER PRIMARY KEY, key INTEGER NOT NULL UNIQUE, iteration INTEGER, side INTEGER,"
    "  purpose TEXT, backend TEXT, model TEXT, prompt TEXT, response TEXT,"
    "  prompt_tokens INTEGER, completion_tokens INTEGER, latency_s REAL, cost_usd REAL,"
    "  http_status INTEGER, attempts INTEGER, error TEXT, created REAL);"
    "CREATE INDEX model_calls_iteration ON model_calls(iteration);"
    "CREATE TABLE requests (iteration INTEGER PRIMARY KEY, plan TEXT NOT NULL);"
    "CREATE TABLE iterations (iteration INTEGER PRIMARY KEY, summary TEXT, done REAL);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY, iteration INTEGER, kind TEXT, detail TEXT, at REAL);"
    "CREATE INDEX events_iteration ON events(iteration);";

/* ---- errors ---------------------------------------------------------- */

/* Records the connection's current error as "what: reason" and returns the
 * matching FmspErr. A full disk gets a message that says so in words, since
 * "database or disk is full" does not tell a user what to do. */
static FmspErr fail_code(Store *s, int code, const char *what)
{
    int primary = code & 0xff;
    int rolled_back = s->in_tx && sqlite3_get_autocommit(s->db);
    const char *tail = rolled_back ? "; the open transaction was rolled back" : "";
    if (rolled_back)
        s->in_tx = 0;
    if (primary == SQLITE_FULL ||
        (primary == SQLITE_IOERR && sqlite3_system_errno(s->db) == ENOSPC)) {
        snprintf(s->msg, sizeof s->msg,
                 "%s: the disk is full (or the database reached its size limit) while "
                 "writing '%s'; work committed before is intact%s",
                 what, s->path, tail);
        return FMSP_ERR_DB;
    }
    if (primary == SQLITE_TOOBIG) {
        snprintf(s->msg, sizeof s->msg, "%s: a value is longer than the store's cap of %d bytes",
                 what, STORE_MAX_VALUE);
        return FMSP_ERR_TOOBIG;
    }
    /* sqlite3_errmsg has the detail (which constraint) when it belongs to code */
    const char *why = sqlite3_extended_errcode(s->db) == code ? sqlite3_errmsg(s->db)
                                                              : sqlite3_errstr(code);
    snprintf(s->msg, sizeof s->msg, "%s: %s (in '%s')%s", what, why, s->path, tail);
    return FMSP_ERR_DB;
}

static FmspErr fail(Store *s, const char *what)
{
    return fail_code(s, sqlite3_extended_errcode(s->db), what);
}

const char *store_errmsg(const Store *s)
{
    return s ? s->msg : "no store";
}

/* ---- statement helpers ----------------------------------------------- */

static FmspErr exec(Store *s, const char *sql, const char *what)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, what);
    return FMSP_OK;
}

static sqlite3_stmt *prep(Store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Binders keep the first failure in *rc (SQLITE_TOOBIG past the length cap)
 * and do nothing once one has failed, so a statement is run only when every
 * value is bound: never silently with a NULL in place of a too-long text. */
static void bind_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_int64(st, i, v);
}

/* Steps a bound statement that returns no rows and finalises it. */
static FmspErr run(Store *s, sqlite3_stmt *st, int bind_rc, const char *what)
{
    if (!st)
        return fail(s, what);
    if (bind_rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail_code(s, bind_rc, what);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail_code(s, sqlite3_extended_errcode(s->db), what);
    return FMSP_OK;
}

static char *col_text(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, i);
    return xstrdup(t ? (const char *)t : "");
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* for the other store modules (store_internal.h) */
sqlite3_stmt *store_prep_(Store *s, const char *sql)
{
    return prep(s, sql);
}

FmspErr store_fail_(Store *s, const char *what)
{
    return fail(s, what);
}

char *store_col_text_(sqlite3_stmt *st, int i)
{
    return col_text(st, i);
}

double store_col_real_(sqlite3_stmt *st, int i)
{
    return col_real(st, i);
}

/* ---- embeddings: little-endian float32 whatever the host order -------- */

static unsigned char *embedding_encode(const float *v, int dim)
{
    unsigned char *b = xmalloc((size_t)dim * 4);
    for (int i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    return b;
}

static float *embedding_decode(const unsigned char *b, int dim)
{
    float *v = xmalloc((size_t)dim * sizeof *v);
    for (int i = 0; i < dim; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++)
            u |= (uint32_t)b[4 * i + k] << (8 * k);
        memcpy(&v[i], &u, 4);
    }
    return v;
}

/* ---- open / close ------------------------------------------------------ */

/* Reads one integer or text PRAGMA; FMSP_OK and *out set, or the error. */
static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks that an opened file is an fmsp run of our schema version. */
static FmspErr check_marker(Store *s, char *err, size_t errlen)
{
    int app = 0;
    int rc = pragma_int(s->db, "PRAGMA application_id", &app);
    if (rc != SQLITE_OK) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database (%s)", s->path,
                  sqlite3_errstr(rc));
        return FMSP_ERR_DB;
    }
    if (app != STORE_APP_ID) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database", s->path);
        return FMSP_ERR_DB;
    }
    char *marker = NULL, *version = NULL;
    FmspErr e = store_meta_get(s, "fmsp", &marker);
    if (!e)
        e = store_meta_get(s, "schema_version", &version);
    if (e || !marker || strcmp(marker, "run") != 0) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database (%s)", s->path,
                  e ? s->msg : "no fmsp marker in meta");
        e = FMSP_ERR_DB;
    } else if (!version || strcmp(version, STORE_SCHEMA) != 0) {
        fmsp_errf(err, errlen, "'%s' has run database schema version %s; this fmsp reads %s",
                  s->path, version ? version : "(none)", STORE_SCHEMA);
        e = FMSP_ERR_DB;
    }
    free(marker);
    free(version);
    return e;
}

/* Writes header marker, schema and meta rows in one transaction. */
static FmspErr create_schema(Store *s)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d", STORE_APP_ID);
    FmspErr e = exec(s, "BEGIN IMMEDIATE", "creating the run database");
    if (!e)
        e = exec(s, sql, "marking the run database");
    if (!e)
        e = exec(s, schema, "creating the schema");
    if (!e)
        e = store_meta_set(s, "schema_version", STORE_SCHEMA);
    if (!e)
        e = store_meta_set(s, "fmsp", "run");
    if (!e)
        e = store_meta_set(s, "source_hashes", "sha256");
    if (!e)
        e = exec(s, "COMMIT", "creating the run database");
    if (e && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

void store_remove_files(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
}

/* 1 when table has the column (columns added after schema 1 was fixed). */
static int has_column(Store *s, const char *table, const char *column)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK)
        while (!found && sqlite3_step(st) == SQLITE_ROW)
            found = strcmp((const char *)sqlite3_column_text(st, 1), column) == 0;
    sqlite3_finalize(st);
    return found;
}

FmspErr store_open(const char *path, int create, Store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path || !*path) {
        fmsp_errf(err, errlen, "no run database path given");
        return FMSP_ERR_ARG;
    }
    if (strlen(path) >= sizeof ((Store *)0)->path) {
        fmsp_errf(err, errlen, "run database path too long: '%.64s...'", path);
        return FMSP_ERR_ARG;
    }
    struct stat sb;
    int exists = stat(path, &sb) == 0;
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
    if (create) {
        /* claim the name atomically: two runs racing for one path cannot both win */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                fmsp_errf(err, errlen, "'%s' already exists; use --resume to continue it or "
                                       "choose another --db",
                          path);
            else
                fmsp_errf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
            return errno == EEXIST ? FMSP_ERR_DB : FMSP_ERR_IO;
        }
        close(fd);
    } else if (!S_ISREG(sb.st_mode)) {
        fmsp_errf(err, errlen, "'%s' is not an fmsp run database (not a regular file)", path);
        return FMSP_ERR_DB;
    }

    Store *s = xcalloc(1, sizeof *s);
    s->writer_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    FmspErr e = FMSP_OK;
    if (rc != SQLITE_OK) {
        fmsp_errf(err, errlen, "cannot open '%s': %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        e = FMSP_ERR_DB;
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, STORE_MAX_VALUE);
    /* a foreign file is inspected read-only: nothing below writes before
     * check_marker has accepted it */
    if (!create && (e = check_marker(s, err, errlen)) != FMSP_OK)
        goto out;
    e = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
             "setting up the run database");
    if (!e && create)
        e = create_schema(s);
    if (e) {
        fmsp_errf(err, errlen, "%s", s->msg);
    } else {
        char *hashes = NULL;
        store_meta_get(s, "source_hashes", &hashes);
        s->source_hashes = hashes && strcmp(hashes, "sha256") == 0;
        free(hashes);
        s->quality_ci = has_column(s, "policies", "quality_ci");
    }
out:
    if (e) {
        store_close(s);
        if (create)
            store_remove_files(path);
        return e;
    }
    *out = s;
    return FMSP_OK;
}

FmspErr store_claim_writer(Store *s, char *err, size_t errlen)
{
    if (s->writer_fd >= 0)
        return FMSP_OK;
    /* flock, not fcntl: SQLite's own locks are fcntl locks on the same file
     * and the two kinds do not interact on Linux */
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fmsp_errf(err, errlen, "cannot open '%s': %s", s->path, strerror(errno));
        return FMSP_ERR_IO;
    }
    /* A run killed with -9 can leave for a moment a child that was forked
     * (a policy worker, the compiler's jail) but had not yet exec'd, so
     * still shares the lock: give such orphans a second to go. */
    int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    for (int tries = 0; !locked && errno == EWOULDBLOCK && tries < 10; tries++) {
        usleep(100000);
        locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    }
    if (!locked) {
        int busy = errno == EWOULDBLOCK;
        close(fd);
        if (busy)
            fmsp_errf(err, errlen, "'%s' is in use by another fmsp run; wait for it to finish or stop "
                                   "it first (reading it with 'fmsp show' is fine)",
                      s->path);
        else
            fmsp_errf(err, errlen, "cannot lock '%s': %s", s->path, strerror(errno));
        return FMSP_ERR_DB;
    }
    s->writer_fd = fd;
    /* added after schema 1 was fixed: every writer makes sure it exists, so
     * older run databases gain it and stay readable by older builds */
    if (exec(s, "CREATE TABLE IF NOT EXISTS transcripts (id INTEGER PRIMARY KEY,"
                " policy_id INTEGER NOT NULL, opponent_id INTEGER NOT NULL, iteration INTEGER,"
                " text TEXT NOT NULL);"
                "CREATE INDEX IF NOT EXISTS transcripts_policy ON transcripts(policy_id, iteration);",
             "adding the transcripts table") ||
        (!s->quality_ci &&
         exec(s, "ALTER TABLE policies ADD COLUMN quality_ci REAL;"
                 "ALTER TABLE policies ADD COLUMN quality_opponents INTEGER;",
              "adding quality intervals"))) {
        fmsp_errf(err, errlen, "%s", s->msg);
        return FMSP_ERR_DB;
    }
    s->quality_ci = 1;
    return FMSP_OK;
}

void store_close(Store *s)
{
    if (!s)
        return;
    if (s->writer_fd >= 0)
        close(s->writer_fd);
    if (s->db)
        sqlite3_close_v2(s->db);
    free(s);
}

FmspErr store_limit_pages(Store *s, long pages)
{
    if (pages < 1) {
        snprintf(s->msg, sizeof s->msg, "page limit must be positive, not %ld", pages);
        return FMSP_ERR_ARG;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%ld;", pages);
    return exec(s, sql, "limiting the database size");
}

FmspErr store_check(Store *s)
{
    sqlite3_stmt *st = prep(s, "PRAGMA quick_check");
    if (!st)
        return fail(s, "checking the database");
    int rc = sqlite3_step(st);
    FmspErr e = FMSP_OK;
    if (rc == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(st, 0);
        if (!verdict || strcmp(verdict, "ok") != 0) {
            snprintf(s->msg, sizeof s->msg, "'%s' is damaged: %s", s->path,
                     verdict ? verdict : "(no verdict)");
            e = FMSP_ERR_DB;
        }
    } else {
        e = fail(s, "checking the database");
    }
    sqlite3_finalize(st);
    return e;
}

/* ---- transactions -------------------------------------------------------- */

FmspErr store_begin(Store *s)
{
    /* IMMEDIATE takes the write lock now, so a second writer fails here
     * (after busy_timeout) rather than halfway through an iteration */
    FmspErr e = exec(s, "BEGIN IMMEDIATE", "starting a transaction");
    if (!e)
        s->in_tx = 1;
    return e;
}

FmspErr store_commit(Store *s)
{
    FmspErr e = exec(s, "COMMIT", "committing");
    if (!e || sqlite3_get_autocommit(s->db))
        s->in_tx = 0;
    return e;
}

FmspErr store_rollback(Store *s)
{
    s->in_tx = 0;
    if (sqlite3_get_autocommit(s->db))
        return FMSP_OK; /* nothing open (SQLite may already have rolled back) */
    return exec(s, "ROLLBACK", "rolling back");
}

/* ---- meta ---------------------------------------------------------------- */

FmspErr store_meta_set(Store *s, const char *key, const char *value)
{
    if (!key) {
        snprintf(s->msg, sizeof s->msg, "writing meta: no key");
        return FMSP_ERR_ARG;
    }
    sqlite3_stmt *st = prep(s, "INSERT INTO meta(key, value) VALUES(?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    int b = SQLITE_OK;
    if (st) {
        bind_text(st, 1, key, &b);
        bind_text(st, 2, value, &b);
    }
    return run(s, st, b, "writing meta");
}

FmspErr store_meta_get(Store *s, const char *key, char **value)
{
    *value = NULL;
    sqlite3_stmt *st = prep(s, "SELECT value FROM meta WHERE key = ?");
    if (!st)
        return fail(s, "reading meta");
    int b = SQLITE_OK;
    bind_text(st, 1, key, &b);
    int rc = b == SQLITE_OK ? sqlite3_step(st) : b;
    if (rc == SQLITE_ROW)
        *value = col_text(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_code(s, rc == b ? b : sqlite3_extended_errcode(s->db), "reading meta");
    return FMSP_OK;
}

/* ---- policies ------------------------------------------------------------ */

FmspErr store_policy_add(Store *s, StorePolicy *p)
{
    if (p->side != FMSP_PURSUER && p->side != FMSP_EVADER) {
        snprintf(s->msg, sizeof s->msg, "storing a policy: side %d is neither pursuer nor evader",
                 p->side);
        return FMSP_ERR_ARG;
    }
    if (p->embedding_dim < 0 || p->embedding_dim > STORE_MAX_EMBED_DIM ||
        (p->embedding_dim > 0 && !p->embedding)) {
        snprintf(s->msg, sizeof s->msg,
                 "storing a policy: bad embedding (dim %d, at most %d, data %s)",
                 p->embedding_dim, STORE_MAX_EMBED_DIM, p->embedding ? "given" : "missing");
        return FMSP_ERR_ARG;
    }
    sqlite3_stmt *st = prep(s, "INSERT INTO policies(side, iteration, origin, name, source, hash, "
                               "parents, status, reason, embedding, quality, novelty, in_archive) "
                               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return fail(s, "storing a policy");
    int b = SQLITE_OK;
    bind_int(st, 1, p->side, &b);
    bind_int(st, 2, p->iteration, &b);
    bind_text(st, 3, p->origin ? p->origin : "model", &b);
    bind_text(st, 4, p->name, &b);
    bind_text(st, 5, p->source, &b);
    bind_text(st, 6, p->hash, &b);
    bind_text(st, 7, p->parents ? p->parents : "[]", &b);
    bind_text(st, 8, p->status ? p->status : "ok", &b);
    bind_text(st, 9, p->reason, &b);
    if (b == SQLITE_OK && p->embedding_dim > 0) {
        unsigned char *blob = embedding_encode(p->embedding, p->embedding_dim);
        b = sqlite3_bind_blob(st, 10, blob, p->embedding_dim * 4, free);
    }
    bind_real(st, 11, p->quality, &b);
    bind_real(st, 12, p->novelty, &b);
    bind_int(st, 13, p->in_archive != 0, &b);
    FmspErr e = run(s, st, b, "storing a policy");
    if (!e)
        p->id = sqlite3_last_insert_rowid(s->db);
    return e;
}

/* Runs an UPDATE of one policy; FMSP_ERR_NOTFOUND when no row matched. */
static FmspErr update_one(Store *s, sqlite3_stmt *st, int b, int64_t id, const char *what)
{
    FmspErr e = run(s, st, b, what);
    if (!e && sqlite3_changes(s->db) == 0) {
        snprintf(s->msg, sizeof s->msg, "%s: no policy #%lld", what, (long long)id);
        return FMSP_ERR_NOTFOUND;
    }
    return e;
}

FmspErr store_policy_set_quality(Store *s, int64_t id, double quality, double ci95,
                                 int opponents)
{
    sqlite3_stmt *st = prep(s, s->quality_ci ? "UPDATE policies SET quality = ?, quality_ci = ?, "
                                               "quality_opponents = ? WHERE id = ?"
                                             : "UPDATE policies SET quality = ? WHERE id = ?4");
    int b = SQLITE_OK;
    if (st) {
        bind_real(st, 1, quality, &b);
        if (s->quality_ci) {
            bind_real(st, 2, ci95, &b);
            bind_int(st, 3, opponents, &b);
        }
        bind_int(st, 4, id, &b);
    }
    return update_one(s, st, b, id, "updating quality");
}

FmspErr store_policy_set_archive(Store *s, int64_t id, int in_archive)
{
    sqlite3_stmt *st = prep(s, "UPDATE policies SET in_archive = ? WHERE id = ?");
    int b = SQLITE_OK;
    if (st) {
        bind_int(st, 1, in_archive != 0, &b);
        bind_int(st, 2, id, &b);
    }
    return update_one(s, st, b, id, "updating the archive");
}

FmspErr store_policy_set_status(Store *s, int64_t id, const char *status, const char *reason)
{
    sqlite3_stmt *st = prep(s, "UPDATE policies SET status = ?, reason = ? WHERE id = ?");
    int b = SQLITE_OK;
    if (st) {
        bind_text(st, 1, status ? status : "ok", &b);
        bind_text(st, 2, reason, &b);
        bind_int(st, 3, id, &b);
    }
    return update_one(s, st, b, id, "updating a status");
}

#define POLICY_COLS                                                                        \
    "id, side, iteration, in_archive, origin, name, source, hash, parents, status, reason, " \
    "embedding, quality, novelty, "

/* The columns added later, or NULLs for a database from before them. */
static const char *quality_cols(const Store *s)
{
    return s->quality_ci ? "quality_ci, quality_opponents" : "NULL, NULL";
}


/* Copies the current row of a POLICY_COLS query into r (zeroed first).
 * FMSP_ERR_DB when the stored embedding is not a whole number of floats or
 * is over the cap (a damaged or hand-edited file); r is then released. */
static FmspErr read_row(Store *s, sqlite3_stmt *st, StorePolicyRow *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->side = sqlite3_column_int(st, 1);
    r->iteration = sqlite3_column_int(st, 2);
    r->in_archive = sqlite3_column_int(st, 3);
    r->origin = col_text(st, 4);
    r->name = col_text(st, 5);
    r->source = col_text(st, 6);
    r->hash = col_text(st, 7);
    /* integrity: the source must be the one that was hashed when stored */
    if (r->source && r->hash && strlen(r->hash) == 64 &&
        (s->source_hashes || sqlite3_column_int(st, 2) >= 0)) {
        char hex[65];
        util_sha256_hex(r->source, strlen(r->source), hex);
        r->corrupt = strcmp(hex, r->hash) != 0;
    }
    r->parents = col_text(st, 8);
    r->status = col_text(st, 9);
    r->reason = col_text(st, 10);
    if (!r->origin)
        r->origin = xstrdup("");
    if (!r->status)
        r->status = xstrdup("");
    if (!r->parents)
        r->parents = xstrdup("[]");
    int type = sqlite3_column_type(st, 11);
    if (type != SQLITE_NULL) {
        const void *blob = sqlite3_column_blob(st, 11);
        int bytes = sqlite3_column_bytes(st, 11);
        if (type != SQLITE_BLOB || bytes % 4 != 0 || bytes / 4 > STORE_MAX_EMBED_DIM) {
            snprintf(s->msg, sizeof s->msg,
                     "policy #%lld in '%s' has a malformed embedding (%d bytes)", (long long)r->id,
                     s->path, bytes);
            store_policy_row_release(r);
            return FMSP_ERR_DB;
        }
        if (bytes > 0) {
            r->embedding_dim = bytes / 4;
            r->embedding = embedding_decode(blob, r->embedding_dim);
        }
    }
    r->quality = col_real(st, 12);
    r->novelty = col_real(st, 13);
    r->quality_ci = col_real(st, 14);
    r->quality_opponents = sqlite3_column_int(st, 15);
    return FMSP_OK;
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
    char *sql = xasprintf("SELECT " POLICY_COLS "%s FROM policies WHERE id = ?", quality_cols(s));
    sqlite3_stmt *st = prep(s, sql);
    free(sql);
    if (!st)
        return fail(s, "reading a policy");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    FmspErr e = FMSP_OK;
    if (rc == SQLITE_ROW) {
        e = read_row(s, st, out);
    } else if (rc == SQLITE_DONE) {
        snprintf(s->msg, sizeof s->msg, "no policy #%lld in '%s'", (long long)id, s->path);
        e = FMSP_ERR_NOTFOUND;
    } else {
        e = fail(s, "reading a policy");
    }
    sqlite3_finalize(st);
    return e;
}

FmspErr store_policy_list(Store *s, int side, int archive_only, StorePolicyRow **rows, int *n)
{
    *rows = NULL;
    *n = 0;
    char *sql = xasprintf("SELECT " POLICY_COLS "%s FROM policies WHERE (?1 = 0 OR side = ?1) "
                          "AND (?2 = 0 OR in_archive = 1) ORDER BY id",
                          quality_cols(s));
    sqlite3_stmt *st = prep(s, sql);
    free(sql);
    if (!st)
        return fail(s, "listing policies");
    sqlite3_bind_int(st, 1, side);
    sqlite3_bind_int(st, 2, archive_only != 0);
    int cap = 0, rc;
    FmspErr e = FMSP_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            *rows = xrealloc(*rows, sizeof **rows * (size_t)cap);
        }
        if ((e = read_row(s, st, &(*rows)[*n])) != FMSP_OK)
            break;
        (*n)++;
    }
    if (!e && rc != SQLITE_DONE)
        e = fail(s, "listing policies");
    sqlite3_finalize(st);
    if (e) {
        store_policy_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return e;
}

void store_policy_rows_free(StorePolicyRow *rows, int n)
{
    for (int i = 0; i < n; i++)
        store_policy_row_release(&rows[i]);
    free(rows);
}

/* ---- evaluations ---------------------------------------------------------- */

FmspErr store_eval_add(Store *s, const StoreEval *e)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO evaluations(policy_id, opponent_id, iteration, "
                               "policy_score, ci95, episodes, policy_faults, opponent_faults, "
                               "fault_summary) VALUES(?,?,?,?,?,?,?,?,?)");
    int b = SQLITE_OK;
    if (st) {
        bind_int(st, 1, e->policy_id, &b);
        bind_int(st, 2, e->opponent_id, &b);
        bind_int(st, 3, e->iteration, &b);
        bind_real(st, 4, e->policy_score, &b);
        bind_real(st, 5, e->ci95, &b);
        bind_int(st, 6, e->episodes, &b);
        bind_int(st, 7, e->policy_faults, &b);
        bind_int(st, 8, e->opponent_faults, &b);
        bind_text(st, 9, e->fault_summary, &b);
    }
    return run(s, st, b, "storing an evaluation");
}

FmspErr store_eval_each(Store *s, void (*fn)(void *ctx, int64_t policy_id, int64_t opponent_id,
                                              double score, double ci95),
                        void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT policy_id, opponent_id, policy_score, ci95 FROM evaluations "
                                  "ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail_code(s, sqlite3_errcode(s->db), "reading evaluations");
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
               sqlite3_column_double(st, 2), col_real(st, 3));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FMSP_OK : fail_code(s, rc, "reading evaluations");
}

/* ---- model calls ---------------------------------------------------------- */

FmspErr store_call_add(Store *s, StoreCall *c)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO model_calls(key, iteration, side, purpose, backend, "
                               "model, prompt, response, prompt_tokens, completion_tokens, "
                               "latency_s, cost_usd, http_status, attempts, error, created) "
                               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,julianday('now'))");
    if (!st)
        return fail(s, "recording a model call");
    int b = SQLITE_OK;
    bind_int(st, 1, c->key, &b);
    bind_int(st, 2, c->iteration, &b);
    bind_int(st, 3, c->side, &b);
    bind_text(st, 4, c->purpose, &b);
    bind_text(st, 5, c->backend, &b);
    bind_text(st, 6, c->model, &b);
    bind_text(st, 7, c->prompt, &b);
    bind_text(st, 8, c->response, &b);
    bind_int(st, 9, c->prompt_tokens, &b);
    bind_int(st, 10, c->completion_tokens, &b);
    bind_real(st, 11, c->latency_s, &b);
    bind_real(st, 12, c->cost_usd, &b);
    bind_int(st, 13, c->http_status, &b);
    bind_int(st, 14, c->attempts, &b);
    bind_text(st, 15, c->error, &b);
    if (b != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail_code(s, b, "recording a model call");
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        snprintf(s->msg, sizeof s->msg, "duplicate model call key %d", c->key);
        return FMSP_ERR_DB;
    }
    if (rc != SQLITE_DONE)
        return fail_code(s, rc, "recording a model call");
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
    FmspErr e = FMSP_OK;
    if (rc == SQLITE_ROW) {
        *response = col_text(st, 0);
        if (error)
            *error = col_text(st, 1);
        if (prompt_tokens)
            *prompt_tokens = (long)sqlite3_column_int64(st, 2);
        if (completion_tokens)
            *completion_tokens = (long)sqlite3_column_int64(st, 3);
    } else if (rc == SQLITE_DONE) {
        snprintf(s->msg, sizeof s->msg, "no model call with key %d", key);
        e = FMSP_ERR_NOTFOUND;
    } else {
        e = fail(s, "reading a model call");
    }
    sqlite3_finalize(st);
    return e;
}

FmspErr store_call_totals(Store *s, long *calls, long *failed, long *tokens, double *cost)
{
    *calls = *failed = *tokens = 0;
    *cost = 0;
    sqlite3_stmt *st = prep(s, "SELECT COUNT(*), COALESCE(SUM(error IS NOT NULL), 0), "
                               "COALESCE(SUM(COALESCE(prompt_tokens, 0) + "
                               "COALESCE(completion_tokens, 0)), 0), "
                               "COALESCE(SUM(cost_usd), 0) FROM model_calls");
    if (!st)
        return fail(s, "summing model calls");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *calls = (long)sqlite3_column_int64(st, 0);
        *failed = (long)sqlite3_column_int64(st, 1);
        *tokens = (long)sqlite3_column_int64(st, 2);
        *cost = sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? FMSP_OK : fail(s, "summing model calls");
}

/* ---- requests, iterations, events ----------------------------------------- */

FmspErr store_request_put(Store *s, int iteration, const char *json)
{
    if (!json) {
        snprintf(s->msg, sizeof s->msg, "storing the plan of iteration %d: no plan", iteration);
        return FMSP_ERR_ARG;
    }
    sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO requests(iteration, plan) VALUES(?, ?)");
    int b = SQLITE_OK;
    if (st) {
        bind_int(st, 1, iteration, &b);
        bind_text(st, 2, json, &b);
    }
    return run(s, st, b, "storing a plan");
}

FmspErr store_request_get(Store *s, int iteration, char **json)
{
    *json = NULL;
    sqlite3_stmt *st = prep(s, "SELECT plan FROM requests WHERE iteration = ?");
    if (!st)
        return fail(s, "reading a plan");
    sqlite3_bind_int(st, 1, iteration);
    int rc = sqlite3_step(st);
    FmspErr e = FMSP_OK;
    if (rc == SQLITE_ROW) {
        *json = col_text(st, 0);
    } else if (rc == SQLITE_DONE) {
        snprintf(s->msg, sizeof s->msg, "no plan for iteration %d", iteration);
        e = FMSP_ERR_NOTFOUND;
    } else {
        e = fail(s, "reading a plan");
    }
    sqlite3_finalize(st);
    return e;
}

FmspErr store_iteration_done(Store *s, int iteration, const char *summary_json)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO iterations(iteration, summary, done) "
                               "VALUES(?, ?, julianday('now'))");
    if (!st)
        return fail(s, "marking an iteration done");
    int b = SQLITE_OK;
    bind_int(st, 1, iteration, &b);
    bind_text(st, 2, summary_json, &b);
    if (b != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail_code(s, b, "marking an iteration done");
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        snprintf(s->msg, sizeof s->msg, "iteration %d is already marked done", iteration);
        return FMSP_ERR_DB;
    }
    return rc == SQLITE_DONE ? FMSP_OK : fail_code(s, rc, "marking an iteration done");
}

FmspErr store_last_iteration(Store *s, int *iteration)
{
    *iteration = -1;
    sqlite3_stmt *st = prep(s, "SELECT COALESCE(MAX(iteration), -1) FROM iterations");
    if (!st)
        return fail(s, "reading progress");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *iteration = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? FMSP_OK : fail(s, "reading progress");
}

/* ---- transcripts --------------------------------------------------------- */

FmspErr store_transcript_add(Store *s, int64_t policy_id, int64_t opponent_id, int iteration,
                             const char *text)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO transcripts(policy_id, opponent_id, iteration, text) "
                               "VALUES(?,?,?,?)");
    int b = SQLITE_OK;
    if (st) {
        bind_int(st, 1, policy_id, &b);
        bind_int(st, 2, opponent_id, &b);
        bind_int(st, 3, iteration, &b);
        bind_text(st, 4, text, &b);
    }
    return run(s, st, b, "storing a transcript");
}

FmspErr store_transcripts_get(Store *s, int64_t policy_id, int iteration, size_t cap, char **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT text FROM transcripts WHERE policy_id = ? AND "
                                  "iteration = ? ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return FMSP_OK; /* a database from before transcripts: none */
    }
    sqlite3_bind_int64(st, 1, policy_id);
    sqlite3_bind_int(st, 2, iteration);
    size_t len = 0;
    char *buf = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        size_t tl = t ? strlen(t) : 0;
        if (len + tl + 2 > cap)
            break;
        buf = xrealloc(buf, len + tl + 2);
        memcpy(buf + len, t, tl);
        len += tl;
        buf[len++] = '\n';
        buf[len] = 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(buf);
        return FMSP_ERR_DB;
    }
    *out = buf;
    return FMSP_OK;
}

FmspErr store_event(Store *s, int iteration, const char *kind, const char *detail)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO events(iteration, kind, detail, at) "
                               "VALUES(?, ?, ?, julianday('now'))");
    int b = SQLITE_OK;
    if (st) {
        bind_int(st, 1, iteration, &b);
        bind_text(st, 2, kind, &b);
        bind_text(st, 3, detail, &b);
    }
    return run(s, st, b, "logging an event");
}
