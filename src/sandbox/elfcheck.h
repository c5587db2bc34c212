/*
 * elfcheck.h - inspects a compiled policy object before it is cached and
 * again every time a worker loads it.
 *
 * The object came from the compiler, but from untrusted source: it is parsed
 * with every offset bounds-checked. It must run no code when loaded, as the
 * sections say and as the loader will see it (the dynamic segment found
 * through the program headers): no .init_array/.fini_array/.preinit_array/
 * .ctors/.dtors entries, no DT_INIT/DT_FINI/arrays, no indirect functions
 * (STT_GNU_IFUNC in either symbol table), no IRELATIVE relocations in any
 * relocation table, no text relocations, and no library dependency beyond
 * libc and libm (anything else would make the loader open files). It must
 * define the four policy symbols, and should not import functions the
 * sandbox forbids anyway (refused early with a clear message for the author
 * instead of a SIGSYS at run time). This check is an early, clear error, not
 * the boundary: the worker's jail holds without it.
 */
#ifndef FMSP_ELFCHECK_H
#define FMSP_ELFCHECK_H

#include <stddef.h>

#include "../core/err.h"

/* FMSP_OK, or FMSP_ERR_REFUSED with why ("policy does not define fmsp_act"). */
FmspErr elfcheck_policy(const void *image, size_t len, char *why, size_t whylen);

/* The same, and every strong undefined symbol must be one that libc or libm
 * defines (looked up in this process's own libc and libm, which are the
 * worker's too), so "calls a function that does not exist" is said here
 * rather than as an anonymous failure inside the worker's loader. */
FmspErr elfcheck_policy_linked(const void *image, size_t len, char *why, size_t whylen);

/* Bytes of memory the loader maps for the image (the PT_LOAD segments'
 * sizes), or 0 when the program headers cannot be read. */
size_t elfcheck_image_bytes(const void *image, size_t len);

/* Reads the file (capped at 64 MiB) and checks it. */
FmspErr elfcheck_policy_file(const char *path, char *why, size_t whylen);

#endif
