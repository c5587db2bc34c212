/*
 * store_internal.h - what the store's modules share and nothing else sees:
 * the Store itself and the statement helpers of store.c.
 */
#ifndef FMSP_STORE_INTERNAL_H
#define FMSP_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

struct Store {
    sqlite3 *db;
    int writer_fd;      /* flock()ed by the run writing here, or -1 */
    int in_tx;          /* store_begin succeeded and no commit/rollback since */
    char path[1024];
    char msg[768];
    int source_hashes;  /* every policy's hash is its source's SHA-256 (databases
                           from before kept the compile key for baselines) */
    int quality_ci;     /* policies has quality_ci and quality_opponents (added later) */
};

sqlite3_stmt *store_prep_(Store *s, const char *sql);  /* NULL on error */
FmspErr store_fail_(Store *s, const char *what);        /* records the error */
char *store_col_text_(sqlite3_stmt *st, int i);         /* heap copy or NULL */
double store_col_real_(sqlite3_stmt *st, int i);        /* NAN for NULL */

#endif
