/*
 * util.h - allocation wrappers, capped file reading, hashing, paths.
 *
 * Out-of-memory aborts through xmalloc and friends (a bug-free program on a
 * sane machine never sees it). Anything untrusted input can grow goes
 * through a function with an explicit cap instead.
 */
#ifndef FMSP_UTIL_H
#define FMSP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reads a whole file into a NUL-terminated heap buffer (*out, caller frees)
 * of at most cap bytes. FMSP_ERR_TOOBIG past the cap, FMSP_ERR_NOTFOUND or
 * FMSP_ERR_IO otherwise; err gets a message quoting the path.
 */
FmspErr util_read_file(const char *path, size_t cap, char **out, size_t *len,
                       char *err, size_t errlen);

/* Writes data to path atomically (temp file + rename). */
FmspErr util_write_file(const char *path, const void *data, size_t len,
                        char *err, size_t errlen);

/* mkdir -p. */
FmspErr util_mkdirs(const char *path, char *err, size_t errlen);

/* The *.c files of a folder (not hidden), sorted by name: heap array of heap
 * paths "dir/name.c" in *files (caller frees each and the array). */
FmspErr util_list_c_files(const char *dir, char ***files, int *n, char *err, size_t errlen);

/* SHA-256 of data as 64 lowercase hex characters plus NUL in hex[65]. */
void util_sha256_hex(const void *data, size_t len, char hex[65]);

/* Incremental SHA-256. */
typedef struct Sha256 {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} Sha256;
void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t len);
void sha256_final_hex(Sha256 *s, char hex[65]);

/* Monotonic clock in seconds. */
double util_now(void);

/* Directory holding the running executable (heap string). */
char *util_exe_dir(void);

/* Overwrites every occurrence of secret in s (len bytes) with '*', so a
 * key a server quoted back is never stored or shown. Secrets under 8
 * characters are left alone: masking them would mangle ordinary text. */
void util_scrub(char *s, size_t len, const char *secret);

#endif
