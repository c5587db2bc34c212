/*
 * protocol.h - the wire protocol between the referee and a policy worker.
 *
 * Two pipes: the referee writes requests on the command pipe (worker fd 3);
 * the worker answers on the reply pipe (fd 4). Both ends are the same build,
 * so structs travel as raw bytes. Fd 5 is a sealed memfd holding the policy
 * object (checked by the referee before the worker starts); the worker copies
 * it into its empty root and closes it. Fd 6, when open, is an empty network
 * namespace the referee made once and shares (creating and destroying one
 * per worker costs the kernel milliseconds); without it the worker makes its
 * own. The policy's stdout/stderr (fds 1 and 2) go to a third pipe that the
 * referee drains and caps.
 *
 * Trust: the worker is trusted only until it loads the policy. It sends
 * exactly two greetings: JAILED (or JAIL_FAILED with the step and errno)
 * before one byte of policy code can run, which the referee believes; then
 * READY or a load status, after policy code may have run (relocation-time
 * resolvers), which the referee treats as untrusted: only fixed codes, no
 * text, and anything malformed is the policy's fault. Nothing the worker
 * says decides a limit or a fault reason: CPU time, deaths and their causes
 * come from the kernel (runner.c).
 */
#ifndef FMSP_PROTOCOL_H
#define FMSP_PROTOCOL_H

#include <stdint.h>

#include "fmsp_policy.h"

#define PROTO_MAGIC 0x50534D46u /* "FMSP" */
#define PROTO_CMD_FD 3
#define PROTO_REPLY_FD 4
#define PROTO_OBJECT_FD 5
#define PROTO_NETNS_FD 6 /* optional: an empty network namespace to join */
#define PROTO_MAX_BATCH 64
#define PROTO_MAX_OBJECT (64u << 20)

enum { PROTO_BEGIN = 1, PROTO_ACT = 2, PROTO_END = 3 };

/* Request header; followed by a payload depending on type:
 *   BEGIN: FmspParams, then uint64_t seeds[n]
 *   ACT:   uint8_t active[PROTO_MAX_BATCH], then FmspState states[n]
 *          (the worker pairs each with the BEGIN parameters)
 *   END:   nothing */
typedef struct ProtoHeader {
    uint32_t magic;
    uint32_t type;
    uint32_t n;
    uint32_t pad;
} ProtoHeader;

/* Greeting statuses. The first greeting is JAILED or JAIL_FAILED; the
 * second one of the others. */
enum {
    PROTO_JAILED = 1,
    PROTO_JAIL_FAILED,   /* detail = step (PROTO_STEP_*), err = errno */
    PROTO_READY,
    PROTO_LOAD_FAILED,   /* the dynamic loader refused the object */
    PROTO_NO_ENTRY,      /* detail = 0 create, 1 act, 2 free, 3 side */
    PROTO_WRONG_SIDE,    /* FMSP_SIDE names the other side */
};

/* Jail set-up steps, for the JAIL_FAILED message. */
enum {
    PROTO_STEP_ARGS = 1, PROTO_STEP_NAMESPACES, PROTO_STEP_MOUNT, PROTO_STEP_OBJECT,
    PROTO_STEP_PIVOT, PROTO_STEP_PRIVILEGES, PROTO_STEP_LIMITS, PROTO_STEP_FILTER,
};

typedef struct ProtoHello {
    uint32_t magic;
    uint32_t status;
    int32_t detail;
    int32_t err;
} ProtoHello;

/* One reply per called episode, in episode order: BEGIN and ACT answer
 * every called episode; END answers once with episode = n. */
typedef struct ProtoReply {
    uint32_t magic;
    uint32_t episode;
    FmspControl control; /* ACT only */
} ProtoReply;

#endif
