/*
 * compile.h - turns untrusted policy source into a loadable object, safely.
 *
 * Steps: (1) scan the source (scan.h): only the policy header and an
 * allow-list of standard headers may be included, no inline assembly, no
 * constructors, pragmas that read files or anything else that could make the
 * compiler read a file or run code at load time; the FMSP_SIDE declaration
 * is read here. (2) look up the content-hash cache. (3) run the system C
 * compiler (gcc by default) in a jail (bubblewrap): unprivileged (uid
 * nobody), empty environment, its own user, mount, PID, network, IPC and UTS
 * namespaces, where only the toolchain (/usr/bin, /usr/lib, /usr/include),
 * the policy header and a private work folder holding policy.c exist; no
 * /proc, no home, no cache, no run database, nothing secret. CPU-time,
 * wall-time, memory and file-size limits; diagnostics captured up to a cap.
 * (4) check the object (elfcheck.h) and copy it into the cache.
 *
 * The cache is a folder the engine owns with mode 0700 (refused otherwise),
 * objects are written 0600, and it is bounded in size (oldest evicted
 * first). Nothing in it is trusted: the runner checks every object again on
 * every load. The key covers the source, the policy header, the compiler
 * command and the flags, so any change recompiles.
 */
#ifndef FMSP_COMPILE_H
#define FMSP_COMPILE_H

#include <stddef.h>

#include "../core/err.h"

typedef struct CompileConfig {
    char cc[256];          /* compiler command: $FMSP_CC, else "gcc" */
    char cache_dir[1024];  /* $FMSP_CACHE, else $XDG_CACHE_HOME/fmsp, else ~/.cache/fmsp */
    char include_dir[1024];/* directory of fmsp_policy.h: $FMSP_INCLUDE, else found
                              from the executable's location */
    double time_limit_s;   /* wall and CPU limit of the compiler (default 30) */
    size_t mem_bytes;      /* address-space limit of the compiler (default 2 GiB) */
    size_t diag_cap;       /* diagnostics bytes kept (default 16 KiB) */
    size_t source_cap;     /* largest source accepted (default 256 KiB) */
    size_t cache_cap;      /* bytes of objects kept in the cache (default 256 MiB) */
    int unchecked;         /* tests only: skip the scanner and the object check,
                              to show that the jails hold on their own */
} CompileConfig;

/* Fills defaults from the environment. */
void compile_config_default(CompileConfig *cfg);

typedef struct CompileResult {
    char object_path[1200]; /* cached object, valid while the cache exists */
    char hash[65];          /* content hash (cache key) */
    int side;               /* 1 or 2, from FMSP_SIDE */
    char side_macro[16];    /* FMSP_SIDE's argument ("FMSP_PURSUER", "FMSP_ATTACKER"...):
                               it names the domain (domain_of_side_macro) */
    int cached;             /* 1 if no compiler ran */
    double seconds;         /* wall time spent (0 when cached) */
    char *diagnostics;      /* heap, capped; compiler output or the refusal
                               reason; NULL when empty. Owned by the result. */
} CompileResult;

/*
 * Compiles source (len bytes; need not be NUL-terminated). name is used in
 * messages. Returns FMSP_OK, FMSP_ERR_REFUSED (scanner said no: reason in
 * out->diagnostics and err), FMSP_ERR_COMPILE (diagnostics in
 * out->diagnostics), FMSP_ERR_LIMIT (compiler hit a limit), FMSP_ERR_TOOBIG
 * or FMSP_ERR_IO. Call compile_result_release afterwards in every case.
 */
FmspErr compile_policy_source(const CompileConfig *cfg, const char *source, size_t len,
                              const char *name, CompileResult *out, char *err,
                              size_t errlen);

/* Reads path (capped at cfg->source_cap) and compiles it. */
FmspErr compile_policy_file(const CompileConfig *cfg, const char *path, CompileResult *out,
                            char *err, size_t errlen);

void compile_result_release(CompileResult *res);

#endif
