/*
 * protocol.h - the wire protocol between the referee and a policy worker.
 *
 * Two pipes and a shared page. The referee writes requests on the command
 * pipe (worker fd 3); the worker answers on the reply pipe (fd 4). Both ends
 * are the same build, so structs travel as raw bytes; the referee validates
 * every reply (magic, type, episode index, size) since the worker runs
 * untrusted code. The shared page (a memfd, worker fd 5) is where the worker
 * notes which episode it is calling into, so that when a call hangs or kills
 * the process the referee knows which episode to blame. The policy can write
 * to that page too: it can only misattribute faults among its own episodes.
 * The policy's stdout/stderr (fds 1 and 2) go to a third pipe the referee
 * drains and caps.
 */
#ifndef FMSP_PROTOCOL_H
#define FMSP_PROTOCOL_H

#include <stdint.h>

#include "fmsp_policy.h"

#define PROTO_MAGIC 0x50534D46u /* "FMSP" */
#define PROTO_CMD_FD 3
#define PROTO_REPLY_FD 4
#define PROTO_PAGE_FD 5
#define PROTO_MAX_BATCH 64

enum { PROTO_BEGIN = 1, PROTO_ACT = 2, PROTO_END = 3 };

/* Request header; followed by a payload depending on type:
 *   BEGIN: FmspParams, then uint64_t seeds[n]
 *   ACT:   uint8_t active[PROTO_MAX_BATCH], then FmspObs obs[n]
 *   END:   nothing */
typedef struct ProtoHeader {
    uint32_t magic;
    uint32_t type;
    uint32_t n;
    uint32_t pad;
} ProtoHeader;

/* Sent once at start-up: status 0 = ready, 1 = load failed (message says why). */
typedef struct ProtoHello {
    uint32_t magic;
    uint32_t status;
    char message[240];
} ProtoHello;

/* One reply per called episode, in episode order: BEGIN and ACT answer
 * every called episode; END answers once with episode = n. */
typedef struct ProtoReply {
    uint32_t magic;
    uint32_t episode;
    double cpu_s;        /* CPU time of the call as measured by the worker */
    FmspControl control; /* ACT only */
} ProtoReply;

/* The shared page. */
typedef struct ProtoPage {
    volatile uint32_t phase;     /* PROTO_BEGIN / PROTO_ACT / PROTO_END while calling */
    volatile uint32_t episode;   /* episode being called */
    volatile uint64_t calls;     /* calls started so far */
    volatile int32_t bad_syscall;/* number of a forbidden system call, or -1 */
} ProtoPage;

#endif
