/*
 * fixtures.h - pieces several tests share: honest Car Tag policies written
 * out as source, and the loopback model server (tests/support/
 * mock_llm_server.c) started as a child process.
 */
#ifndef FMSP_FIXTURES_H
#define FMSP_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"
#include "match/match.h"

/* Pure pursuit and straight-line flight: honest, cheap, deterministic. */
static const char fixture_honest_pursuer[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    c->u = fmsp_clamp(4 * fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta), -1, 1);\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static const char fixture_honest_evader[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx*dx + dy*dy) + 1e-9;\n"
    "    c->vx = dx / d; c->vy = dy / d;\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

/* A 4-episode, one-batch match with short episodes and tight limits, for
 * hostile policies; checked = 0 loads objects without the object check. */
static inline MatchConfig fixture_small_match(int checked)
{
    MatchConfig m;
    match_config_default(&m);
    m.episodes = 4;
    m.batch = 4;
    m.params.T = 5;
    m.params.max_steps = 100;
    m.limits.step_cpu_s = 0.05;
    m.limits.create_cpu_s = 0.2;
    m.limits.mem_bytes = (size_t)192 << 20;
    m.limits.output_bytes = 4096;
    m.limits.unchecked_objects = !checked;
    return m;
}

/* Removes a test's scratch folder (and says so when it cannot). */
static inline void fixture_rm_rf(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
}

/* Starts the mock model server expecting `key`; returns its port (0 when it
 * did not start) and its pid in *pid. */
static inline int fixture_start_model_server(const char *key, pid_t *pid)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        abort();
    *pid = fork();
    if (*pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        char *bin = xasprintf("%s/tests/support/mock_llm_server",
                              getenv("FMSP_BUILD") ? getenv("FMSP_BUILD") : "build");
        execl(bin, bin, key, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char line[32] = "";
    ssize_t n = read(pfd[0], line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    close(pfd[0]);
    return atoi(line);
}

#endif
