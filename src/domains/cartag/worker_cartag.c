/*
 * worker_cartag.c - the Car Tag side of fmsp-worker: finds the policy's
 * entry points and serves the referee's lockstep requests (BEGIN / ACT /
 * END, src/sandbox/protocol.h). Per-episode policy state lives in
 * policy_states[]; a batch holds up to PROTO_MAX_BATCH episodes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fmsp_policy.h"
#include "sandbox/fdio.h"
#include "sandbox/protocol.h"
#include "sandbox/worker.h"

typedef void *(*CreateFn)(const FmspParams *, FmspRng *);
typedef void (*ActFn)(void *, const FmspObs *, FmspControl *);
typedef void (*FreeFn)(void *);

/* Reads one whole request into buf (usually in one read). Returns its
 * header, or exits when the referee went away or broke the protocol. */
static ProtoHeader read_request(char *buf, size_t cap)
{
    size_t have = 0, need = sizeof(ProtoHeader);
    ProtoHeader h = {0, 0, 0, 0};
    while (have < need) {
        ssize_t got = read(PROTO_CMD_FD, buf + have, cap - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            _exit(0); /* the referee went away */
        have += (size_t)got;
        if (have >= sizeof h && need == sizeof h) {
            memcpy(&h, buf, sizeof h);
            if (h.magic != PROTO_MAGIC || h.n > PROTO_MAX_BATCH)
                _exit(5);
            if (h.type == PROTO_BEGIN)
                need += sizeof(FmspParams) + sizeof(uint64_t) * h.n;
            else if (h.type == PROTO_ACT)
                need += PROTO_MAX_BATCH + sizeof(FmspState) * h.n;
            else if (h.type != PROTO_END)
                _exit(5);
        }
    }
    if (have != need)
        _exit(5); /* the referee sends one request at a time */
    return h;
}

int worker_cartag_serve(void *handle, int side)
{
    CreateFn create = (CreateFn)dlsym(handle, "fmsp_create");
    ActFn act = (ActFn)dlsym(handle, "fmsp_act");
    FreeFn free_fn = (FreeFn)dlsym(handle, "fmsp_free");
    const int *declared = dlsym(handle, "fmsp_policy_side");
    int missing = !create ? PROTO_ENTRY_CREATE : !act ? PROTO_ENTRY_ACT : !free_fn ? PROTO_ENTRY_FREE
                : !declared ? PROTO_ENTRY_SIDE : -1;
    if (missing >= 0) {
        worker_hello(PROTO_NO_ENTRY, missing, 0);
        return 3;
    }
    if (*declared != side) {
        worker_hello(PROTO_WRONG_SIDE, 0, 0);
        return 3;
    }
    worker_seal();

    static void *policy_states[PROTO_MAX_BATCH];
    static FmspRng rngs[PROTO_MAX_BATCH];
    static int alive[PROTO_MAX_BATCH];
    static FmspParams params;
    static _Alignas(16) char request[sizeof(ProtoHeader) + PROTO_MAX_BATCH + sizeof(FmspState) * PROTO_MAX_BATCH +
                                     sizeof(FmspParams) + sizeof(uint64_t) * PROTO_MAX_BATCH];
    static ProtoReply replies[PROTO_MAX_BATCH + 1];
    uint32_t n = 0;
    for (;;) {
        ProtoHeader h = read_request(request, sizeof request);
        const char *payload = request + sizeof h;
        int nr = 0;
        if (h.type == PROTO_BEGIN) {
            n = h.n;
            memcpy(&params, payload, sizeof params);
            for (uint32_t i = 0; i < n; i++) {
                uint64_t seed;
                memcpy(&seed, payload + sizeof params + sizeof seed * i, sizeof seed);
                fmsp_rng_seed(&rngs[i], seed);
                policy_states[i] = create(&params, &rngs[i]);
                alive[i] = 1;
                ProtoReply *r = &replies[nr++];
                memset(r, 0, sizeof *r);
                r->magic = PROTO_MAGIC;
                r->episode = i;
            }
        } else if (h.type == PROTO_ACT) {
            if (h.n != n)
                _exit(5);
            const uint8_t *active = (const uint8_t *)payload;
            const char *states = payload + PROTO_MAX_BATCH;
            for (uint32_t i = 0; i < n; i++) {
                if (!active[i] || !alive[i])
                    continue;
                ProtoReply *r = &replies[nr++];
                memset(r, 0, sizeof *r);
                r->magic = PROTO_MAGIC;
                r->episode = i;
                FmspObs o;
                memcpy(&o.state, states + sizeof(FmspState) * i, sizeof o.state);
                o.params = params;
                act(policy_states[i], &o, &r->control);
            }
        } else {
            for (uint32_t i = 0; i < n; i++) {
                if (!alive[i])
                    continue;
                free_fn(policy_states[i]);
                alive[i] = 0;
            }
            ProtoReply *r = &replies[nr++];
            memset(r, 0, sizeof *r);
            r->magic = PROTO_MAGIC;
            r->episode = n;
            n = 0;
        }
        fflush(stdout);
        fflush(stderr);
        if (fdio_write_full(PROTO_REPLY_FD, replies, sizeof(ProtoReply) * (size_t)nr) != 0)
            _exit(0);
    }
}
