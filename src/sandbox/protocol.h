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

enum { PROTO_BEGIN = 1, PROTO_ACT = 2, PROTO_END = 3, PROTO_CALL = 4, PROTO_ANSWER = 5 };

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
/* Entry point names, indexed by PROTO_NO_ENTRY's detail (every domain's). */
#define PROTO_ENTRY_NAMES                                                               \
    {"fmsp_create", "fmsp_act", "fmsp_free", "fmsp_policy_side (FMSP_SIDE)", "fmsp_attack", \
     "fmsp_guess", "fmsp_system_prompt", "fmsp_input_guard", "fmsp_output_guard"}
enum {
    PROTO_ENTRY_CREATE, PROTO_ENTRY_ACT, PROTO_ENTRY_FREE, PROTO_ENTRY_SIDE, PROTO_ENTRY_ATTACK,
    PROTO_ENTRY_GUESS, PROTO_ENTRY_SYSTEM, PROTO_ENTRY_INPUT, PROTO_ENTRY_OUTPUT, PROTO_ENTRY__COUNT
};

enum {
    PROTO_JAILED = 1,
    PROTO_JAIL_FAILED,   /* detail = step (PROTO_STEP_*), err = errno */
    PROTO_READY,
    PROTO_LOAD_FAILED,   /* the dynamic loader refused the object */
    PROTO_NO_ENTRY,      /* detail = PROTO_ENTRY_* */
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

/*
 * Calls: domains whose policies are not stepped in lockstep (Gandalf) talk
 * in calls. The referee sends one ProtoHeader {PROTO_CALL, n = payload
 * bytes, pad = the domain's operation} and its payload; the worker answers
 * with one ProtoMsg {PROTO_MSG_DONE, value, len} and len bytes of text.
 * While serving a call it may instead send ProtoMsg {PROTO_MSG_ASK, 0, len}
 * with a question for the model: the referee makes the model call (or
 * refuses it: budget) and answers with ProtoHeader {PROTO_ANSWER, n = len,
 * pad = 0 answered / 1 refused} and len bytes, then waits on. Payloads and
 * texts are at most PROTO_MAX_CALL bytes; the referee trusts none of them.
 */
#define PROTO_MAX_CALL (64u << 10)

enum { PROTO_MSG_DONE = 1, PROTO_MSG_ASK = 2 };

typedef struct ProtoMsg {
    uint32_t magic;
    uint32_t kind;  /* PROTO_MSG_* */
    int32_t value;  /* DONE: the call's return value */
    uint32_t len;   /* bytes that follow */
} ProtoMsg;

#endif
