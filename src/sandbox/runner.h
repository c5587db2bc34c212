/*
 * runner.h - runs one compiled policy for a batch of episodes in lockstep.
 *
 * The referee (src/match) owns the game state; a Runner only turns
 * observations into controls. Two modes share this interface:
 *
 *   RUNNER_SANDBOX  the policy runs in its own worker process (fmsp-worker):
 *                   empty environment, rlimits, seccomp, unprivileged,
 *                   talking to us over two pipes. Untrusted code goes here.
 *   RUNNER_INPROC   the object is dlopen()ed into this process: no isolation
 *                   at all. Only for trusted code (benchmarks of the price of
 *                   safety, tests); never for generated policies.
 *
 * A batch is up to RUNNER_MAX_BATCH episodes played in lockstep: one round
 * trip asks the policy for the controls of every active episode, amortising
 * the process switch. Each round trip is split into a send and a wait so the
 * referee can let both sides compute at once.
 *
 * Limits and reasons come from the kernel, never from the worker: the CPU
 * time of a round trip is what the kernel accounts to the worker process
 * between request and reply (a round trip of k calls may use k times the
 * per-call limit; a batch of n episodes n times the per-episode limit); a
 * death is classified from its wait status and resource usage; a worker that
 * sleeps (blocked, not computing) for a second is hung; a wall-clock
 * backstop, reported as wall-clock, catches the rest. A fault in a round
 * trip that served one episode belongs to that episode. When a worker dies
 * or is killed serving several episodes, nothing trustworthy says which one
 * was to blame: every episode of the round trip gets FAULT_LOST ("suspect")
 * and the referee replays each alone, where the blame is exact. After a
 * death the runner is dead: every later call reports FAULT_LOST.
 *
 * Ownership: the Runner owns its worker process and pipes; callers own all
 * arrays passed in. Fault.detail is a human-readable reason.
 */
#ifndef FMSP_RUNNER_H
#define FMSP_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "fmsp_policy.h"

#define RUNNER_MAX_BATCH 64

typedef enum FaultKind {
    FAULT_NONE = 0,
    FAULT_LOAD,      /* object not loadable, entry point missing, wrong side */
    FAULT_CRASH,     /* killed by a signal: SIGSEGV, SIGABRT, SIGFPE, ... */
    FAULT_TIMEOUT,   /* CPU time per create/step/episode, or a wall-clock hang */
    FAULT_MEMORY,    /* memory limit reached */
    FAULT_EXIT,      /* the policy ended its process (exit, _exit, return) */
    FAULT_SYSCALL,   /* forbidden system call: files, network, processes... */
    FAULT_NONFINITE, /* NaN or infinite control (set by the referee) */
    FAULT_OUTPUT,    /* wrote more than the output cap */
    FAULT_PROTOCOL,  /* corrupted the worker protocol */
    FAULT_LOST,      /* innocent: the worker died serving another episode */
    FAULT__COUNT
} FaultKind;

typedef struct Fault {
    FaultKind kind;
    char detail[160];
} Fault;

/* Short stable name of a fault kind: "crash", "timeout", ... */
const char *fault_name(FaultKind kind);

typedef struct RunnerLimits {
    double create_cpu_s;  /* CPU seconds for one fmsp_create (default 1) */
    double step_cpu_s;    /* CPU seconds for one fmsp_act (default 0.05) */
    double episode_cpu_s; /* CPU seconds for all calls of one episode (default 10) */
    double match_cpu_s;   /* CPU seconds all of a policy's workers may use in one match
                             (default 120): past it the rest of the match is forfeited */
    size_t mem_bytes;     /* address-space limit of the worker (default 512 MiB) */
    size_t output_bytes;  /* stdout+stderr bytes allowed per worker (default 64 KiB) */
    int unchecked_objects;/* tests only: skip the object check on load, to show
                             that the worker's jail holds on its own */
} RunnerLimits;

void runner_limits_default(RunnerLimits *limits);

typedef enum RunnerMode { RUNNER_SANDBOX, RUNNER_INPROC } RunnerMode;

typedef struct Runner Runner;

/*
 * Starts a runner for the compiled policy object at object_path, which must
 * declare FMSP_SIDE(side). FMSP_ERR_SANDBOX when the worker cannot be set up
 * (an engine problem); FMSP_ERR_REFUSED when the object is a bad policy
 * (missing entry point, wrong side): the referee records it as FAULT_LOAD.
 * err gets the reason either way.
 */
FmspErr runner_new(RunnerMode mode, const char *object_path, int side,
                   const RunnerLimits *limits, Runner **out, char *err, size_t errlen);

/* runner_new for a policy of the named domain ("cartag": lockstep episodes
 * through the calls below; "gandalf": runner_call). Only Car Tag runs in
 * RUNNER_INPROC. */
FmspErr runner_new_for(const char *domain, RunnerMode mode, const char *object_path, int side,
                       const RunnerLimits *limits, Runner **out, char *err, size_t errlen);

/* Kills the worker (if any) and frees everything. Accepts NULL. */
void runner_free(Runner *r);

/*
 * Starts a batch of n (1..RUNNER_MAX_BATCH) episodes: calls fmsp_create for
 * each with params and an RNG seeded with rng_seeds[i]. faults[0..n) are
 * written (FAULT_NONE on success) by runner_wait. Returns an error only for
 * engine faults.
 */
FmspErr runner_begin_send(Runner *r, int n, const FmspParams *params,
                          const uint64_t *rng_seeds, Fault *faults);

/*
 * One lockstep step: for each i < n with active[i], asks for fmsp_act on
 * obs[i]; runner_wait then writes out[i] (zeroed first) or sets faults[i].
 * Entries with active[i] == 0 are untouched. n is the one given to
 * runner_begin_send. out and faults must stay valid until runner_wait.
 */
FmspErr runner_act_send(Runner *r, const FmspObs *obs, const uint8_t *active,
                        FmspControl *out, Fault *faults);

/* Waits for the answer to the last send, enforcing the limits. Policy
 * faults are results; FMSP_ERR_SANDBOX means the worker died of something
 * that was not its doing (runner_engine_error says what). */
FmspErr runner_wait(Runner *r);

/* Why the last runner_wait failed with an engine error, or NULL. */
const char *runner_engine_error(const Runner *r);

/* Send and wait in one call. */
FmspErr runner_begin(Runner *r, int n, const FmspParams *params,
                     const uint64_t *rng_seeds, Fault *faults);
FmspErr runner_act(Runner *r, const FmspObs *obs, const uint8_t *active,
                   FmspControl *out, Fault *faults);

/* Ends the batch: calls fmsp_free for every episode still alive. */
FmspErr runner_end(Runner *r);

/* CPU seconds the kernel has charged to this runner's worker so far. */
double runner_cpu(const Runner *r);

/* 1 when the worker has died (every later episode would be FAULT_LOST). */
int runner_dead(const Runner *r);

/* The first output_bytes the policy wrote to stdout/stderr (for debugging;
 * untrusted text, never a fault reason). */
const char *runner_output(const Runner *r);

/*
 * Calls (domains that are not stepped in lockstep). runner_call sends one
 * operation with its payload and waits for the answer within cpu_s of the
 * worker's CPU time (kernel accounting). While the policy serves it, it may
 * ask the model questions: each goes to ask(ctx, question, len, answer,
 * cap), which returns the answer's length, -1 to refuse it (budget: the
 * policy sees a failed call), or RUNNER_ASK_ENGINE when the model call
 * failed for engine reasons (the call then ends with FMSP_ERR_NET). The
 * question is untrusted text of at most PROTO_MAX_CALL bytes. Policy faults
 * are results in res->fault; errors are engine faults.
 */
#define RUNNER_ASK_ENGINE (-2)
typedef int (*RunnerAskFn)(void *ctx, const char *question, size_t len, char *answer, size_t cap);

typedef struct RunnerCallResult {
    int32_t value;      /* the operation's return value */
    char text[2048];    /* its text (NUL-terminated, cut at 2047 bytes) */
    size_t text_len;
    int asks;           /* model questions asked during the call */
    Fault fault;        /* FAULT_NONE, or why the call failed */
} RunnerCallResult;

FmspErr runner_call(Runner *r, uint32_t op, const void *payload, size_t len, double cpu_s,
                    const char *what, RunnerAskFn ask, void *ctx, RunnerCallResult *res);

/* Path of the fmsp-worker executable: $FMSP_WORKER, else next to the running
 * executable (heap string). */
char *runner_worker_path(void);

#endif
