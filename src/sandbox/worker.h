/*
 * worker.h - what fmsp-worker's domain adapters share (worker_main.c).
 *
 * worker_main.c builds the jail and loads the policy; then the domain's
 * adapter (src/domains/<name>/worker_<name>.c) looks up its entry points,
 * says NO_ENTRY / WRONG_SIDE through worker_hello when they are missing,
 * calls worker_seal() once they are found, and serves requests until the
 * referee goes away (it never returns then: it exits).
 */
#ifndef FMSP_WORKER_H
#define FMSP_WORKER_H

#include <stdint.h>

/* Sends a greeting (ProtoHello) on the reply pipe. */
void worker_hello(uint32_t status, int32_t detail, int32_t err);

/* Stacks the run-phase seccomp filter and says READY (exits if the filter
 * cannot be installed). */
void worker_seal(void);

/* The domain adapters: serve one loaded policy (dlopen handle) of a side. */
int worker_cartag_serve(void *handle, int side);
int worker_gandalf_serve(void *handle, int side);

#endif
