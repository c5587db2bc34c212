/*
 * worker_gandalf.c - the Gandalf side of fmsp-worker: finds an attacker's
 * or a defender's entry points and serves the referee's calls
 * (src/sandbox/protocol.h, "Calls"; operations in gandalf_wire.h).
 *
 * One attempt at a time: CREATE makes the policy state, FREE ends it. A
 * guard's model questions (FmspModel.ask) become ASK messages to the
 * referee, which makes the call and answers; the question travels as the
 * policy wrote it, bounded here and checked again there. Every text a
 * policy writes goes into a zeroed buffer of the size the header promises
 * and is cut at its first NUL, so nothing past it travels.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fmsp_gandalf.h"
#include "gandalf_wire.h"
#include "sandbox/fdio.h"
#include "sandbox/protocol.h"
#include "sandbox/worker.h"

typedef void *(*CreateFn)(const FmspGandalf *, FmspRng *);
typedef void (*FreeFn)(void *);
typedef void (*AttackFn)(void *, const FmspTranscript *, char *);
typedef void (*SystemFn)(void *, char *);
typedef int (*InputFn)(void *, const char *, FmspModel *);
typedef int (*OutputFn)(void *, const char *, const char *, const char *, FmspModel *, char *);

static _Alignas(16) char request[PROTO_MAX_CALL];

/* Reads exactly len bytes of the command pipe, or exits (the referee went
 * away, or broke the protocol). */
static void read_exact(void *buf, size_t len)
{
    if (fdio_read_full(PROTO_CMD_FD, buf, len) != 0)
        _exit(0);
}

static void send_msg(uint32_t kind, int32_t value, const char *text, size_t len)
{
    ProtoMsg m = {PROTO_MAGIC, kind, value, (uint32_t)len};
    if (fdio_write_full(PROTO_REPLY_FD, &m, sizeof m) != 0 ||
        (len && fdio_write_full(PROTO_REPLY_FD, text, len) != 0))
        _exit(0);
}

/* FmspModel.ask: forwards the question to the referee and waits. */
static int ask_model(FmspModel *model, const char *question, char *answer, int cap)
{
    (void)model;
    if (!question || !answer || cap <= 0)
        return -1;
    answer[0] = 0;
    size_t len = strnlen(question, GANDALF_QUESTION_MAX);
    send_msg(PROTO_MSG_ASK, 0, question, len);
    ProtoHeader h;
    read_exact(&h, sizeof h);
    if (h.magic != PROTO_MAGIC || h.type != PROTO_ANSWER || h.n > PROTO_MAX_CALL)
        _exit(5);
    static char reply[PROTO_MAX_CALL];
    read_exact(reply, h.n);
    if (h.pad != 0)
        return -1;
    size_t take = h.n < (uint32_t)cap - 1 ? h.n : (size_t)cap - 1;
    memcpy(answer, reply, take);
    answer[take] = 0;
    return (int)take;
}

/* Copies a NUL-terminated field of at most cap bytes from the payload. */
static void field(char *dst, const char *src, size_t cap)
{
    memcpy(dst, src, cap);
    dst[cap - 1] = 0;
}

int worker_gandalf_serve(void *handle, int side)
{
    CreateFn create = (CreateFn)dlsym(handle, "fmsp_create");
    FreeFn free_fn = (FreeFn)dlsym(handle, "fmsp_free");
    const int *declared = dlsym(handle, "fmsp_policy_side");
    AttackFn attack = NULL, guess = NULL;
    SystemFn system_prompt = NULL;
    InputFn input = NULL;
    OutputFn output = NULL;
    int missing = !create ? PROTO_ENTRY_CREATE : !free_fn ? PROTO_ENTRY_FREE
                : !declared ? PROTO_ENTRY_SIDE : -1;
    if (missing < 0 && side == FMSP_ATTACKER) {
        attack = (AttackFn)dlsym(handle, "fmsp_attack");
        guess = (AttackFn)dlsym(handle, "fmsp_guess");
        missing = !attack ? PROTO_ENTRY_ATTACK : !guess ? PROTO_ENTRY_GUESS : -1;
    } else if (missing < 0) {
        system_prompt = (SystemFn)dlsym(handle, "fmsp_system_prompt");
        input = (InputFn)dlsym(handle, "fmsp_input_guard");
        output = (OutputFn)dlsym(handle, "fmsp_output_guard");
        missing = !system_prompt ? PROTO_ENTRY_SYSTEM : !input ? PROTO_ENTRY_INPUT
                : !output ? PROTO_ENTRY_OUTPUT : -1;
    }
    if (missing >= 0) {
        worker_hello(PROTO_NO_ENTRY, missing, 0);
        return 3;
    }
    if (*declared != side) {
        worker_hello(PROTO_WRONG_SIDE, 0, 0);
        return 3;
    }
    worker_seal();

    void *self = NULL;
    int alive = 0;
    FmspRng rng;
    static FmspGandalf game;
    static FmspTranscript transcript;
    static char out[FMSP_SYSTEM_MAX], prompt[FMSP_TEXT_MAX], reply[FMSP_TEXT_MAX],
        password[GANDALF_PASSWORD_MAX];
    FmspModel model = {ask_model, NULL};
    for (;;) {
        ProtoHeader h;
        read_exact(&h, sizeof h);
        if (h.magic != PROTO_MAGIC || h.type != PROTO_CALL || h.n > PROTO_MAX_CALL)
            _exit(5);
        read_exact(request, h.n);
        memset(out, 0, sizeof out);
        int32_t value = 0;
        size_t cap = FMSP_TEXT_MAX;
        switch (h.pad) {
        case GCALL_CREATE: {
            uint64_t seed;
            if (h.n != sizeof game + sizeof seed)
                _exit(5);
            memcpy(&game, request, sizeof game);
            memcpy(&seed, request + sizeof game, sizeof seed);
            if (alive)
                free_fn(self);
            fmsp_rng_seed(&rng, seed);
            self = create(&game, &rng);
            alive = 1;
            break;
        }
        case GCALL_ATTACK:
        case GCALL_GUESS:
            if (h.n != sizeof transcript || !alive || side != FMSP_ATTACKER)
                _exit(5);
            memcpy(&transcript, request, sizeof transcript);
            (h.pad == GCALL_ATTACK ? attack : guess)(self, &transcript, out);
            break;
        case GCALL_SYSTEM:
            if (!alive || side != FMSP_DEFENDER)
                _exit(5);
            system_prompt(self, out);
            cap = FMSP_SYSTEM_MAX;
            break;
        case GCALL_INPUT:
            if (h.n != FMSP_TEXT_MAX || !alive || side != FMSP_DEFENDER)
                _exit(5);
            field(prompt, request, FMSP_TEXT_MAX);
            value = input(self, prompt, &model);
            break;
        case GCALL_OUTPUT:
            if (h.n != 2 * FMSP_TEXT_MAX + GANDALF_PASSWORD_MAX || !alive || side != FMSP_DEFENDER)
                _exit(5);
            field(prompt, request, FMSP_TEXT_MAX);
            field(reply, request + FMSP_TEXT_MAX, FMSP_TEXT_MAX);
            field(password, request + 2 * FMSP_TEXT_MAX, GANDALF_PASSWORD_MAX);
            value = output(self, prompt, reply, password, &model, out);
            break;
        case GCALL_FREE:
            if (alive)
                free_fn(self);
            alive = 0;
            self = NULL;
            break;
        default:
            _exit(5);
        }
        fflush(stdout);
        fflush(stderr);
        out[cap - 1] = 0;
        send_msg(PROTO_MSG_DONE, value, out, strnlen(out, cap));
    }
}
