/* cli_game.c - parsing of the game options shared by eval, play and run. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "domains/cartag/cartag.h"

const char cli_game_options_help[] =
    "Game options:\n"
    "  --scenario NAME     arena (default: square walls, H=10), open (no walls),\n"
    "                      open-capture (no walls, capture radius l=0.5)\n"
    "  --param KEY=VALUE   override a parameter after the scenario; repeatable.\n"
    "                      Keys and ranges: vp, ve in (0, 100]; R in [0.01, 100];\n"
    "                      l in (0, 4); dt in [0.0001, 1]; T in (0, 10000];\n"
    "                      H in [3, 100] (with walls); walls 0 or 1\n"
    "  --episodes N        episodes per match (default 20; run: 10 per evaluation match)\n"
    "  --seed S            match seed; every pairing uses the same episode starts\n"
    "                      (default 1)\n"
    "  --batch N           episodes played in lockstep per worker round trip\n"
    "                      (1-64, default 20)\n"
    "  --step-ms MS        CPU time a policy may use per step (default 50)\n"
    "  --mem-mb MB         memory limit of a policy's process (default 512)\n"
    "  --match-cpu SEC     CPU time a policy may use in one match; past it the rest\n"
    "                      of the match is forfeited (default 120)\n"
    "  --cc COMPILER       C compiler for policies (default gcc, or $FMSP_CC)\n"
    "  --no-sandbox        run policies inside this process with no isolation:\n"
    "                      only for trusted code (benchmarks)\n";

void cli_game_init(CliGame *g)
{
    memset(g, 0, sizeof *g);
    match_config_default(&g->match);
    compile_config_default(&g->compile);
    snprintf(g->scenario, sizeof g->scenario, "arena");
}

int cli_usage_error(const char *cmd)
{
    fprintf(stderr, "try 'fmsp %s --help'\n", cmd);
    return 2;
}

int cli_parse_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "fmsp %s: %s must be a whole number from %ld to %ld, not '%s'\n", cmd,
                opt, lo, hi, arg);
        return 2;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (!*arg || *end || errno || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "fmsp %s: %s must be a number from %g to %g, not '%s'\n", cmd, opt, lo,
                hi, arg);
        return 2;
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *arg, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 0);
    if (!*arg || *end || errno || arg[0] == '-') {
        fprintf(stderr, "fmsp %s: %s must be a non-negative whole number, not '%s'\n", cmd, opt,
                arg);
        return 2;
    }
    *out = v;
    return 0;
}

int cli_game_option(CliGame *g, const char *cmd, int opt, const char *arg)
{
    long iv;
    double dv;
    unsigned long long uv;
    switch (opt) {
    case OPT_SCENARIO:
        snprintf(g->scenario, sizeof g->scenario, "%s", arg);
        g->scenario_given = 1;
        return 0;
    case OPT_PARAM:
        if (g->n_overrides >= 64) {
            fprintf(stderr, "fmsp %s: too many --param options (64 at most)\n", cmd);
            return 2;
        }
        g->overrides[g->n_overrides++] = (char *)arg;
        return 0;
    case OPT_EPISODES:
        if (cli_parse_int(cmd, "--episodes", arg, 1, 1000000, &iv))
            return 2;
        g->match.episodes = (int)iv;
        return 0;
    case OPT_SEED:
        if (cli_parse_u64(cmd, "--seed", arg, &uv))
            return 2;
        g->match.seed = uv;
        return 0;
    case OPT_BATCH:
        if (cli_parse_int(cmd, "--batch", arg, 1, RUNNER_MAX_BATCH, &iv))
            return 2;
        g->match.batch = (int)iv;
        return 0;
    case OPT_STEP_MS:
        if (cli_parse_double(cmd, "--step-ms", arg, 0.1, 60000, &dv))
            return 2;
        g->match.limits.step_cpu_s = dv / 1000.0;
        if (g->match.limits.episode_cpu_s < g->match.limits.step_cpu_s)
            g->match.limits.episode_cpu_s = g->match.limits.step_cpu_s;
        return 0;
    case OPT_MEM_MB:
        if (cli_parse_int(cmd, "--mem-mb", arg, 16, 65536, &iv))
            return 2;
        g->match.limits.mem_bytes = (size_t)iv << 20;
        return 0;
    case OPT_MATCH_CPU:
        if (cli_parse_double(cmd, "--match-cpu", arg, 0.01, 1e6, &dv))
            return 2;
        g->match.limits.match_cpu_s = dv;
        return 0;
    case OPT_NO_SANDBOX:
        g->match.mode = RUNNER_INPROC;
        return 0;
    case OPT_CC:
        snprintf(g->compile.cc, sizeof g->compile.cc, "%s", arg);
        return 0;
    default:
        return cli_usage_error(cmd);
    }
}

int cli_game_finish(CliGame *g, const char *cmd)
{
    char err[512];
    if ((!g->params_preset || g->scenario_given) &&
        cartag_scenario(g->scenario, &g->match.params, err, sizeof err)) {
        fprintf(stderr, "fmsp %s: %s\n", cmd, err);
        return 2;
    }
    for (int i = 0; i < g->n_overrides; i++) {
        if (cartag_params_set(&g->match.params, g->overrides[i], err, sizeof err)) {
            fprintf(stderr, "fmsp %s: %s\n", cmd, err);
            return 2;
        }
    }
    if (cartag_params_validate(&g->match.params, err, sizeof err)) {
        fprintf(stderr, "fmsp %s: %s\n", cmd, err);
        return 2;
    }
    if (g->match.batch > g->match.episodes)
        g->match.batch = g->match.episodes;
    return 0;
}
