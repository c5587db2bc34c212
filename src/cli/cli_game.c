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
    "  --domain NAME       cartag (default) or gandalf\n"
    "Car Tag:\n"
    "  --scenario NAME     arena (default: square walls, H=10), open (no walls),\n"
    "                      open-capture (no walls, capture radius l=0.5),\n"
    "                      open-threshold (no walls, l=0.23: dodges start to pay)\n"
    "  --param KEY=VALUE   override a parameter after the scenario; repeatable.\n"
    "                      Keys and ranges: vp, ve in (0, 100]; R in [0.01, 100];\n"
    "                      l in (0, 4); dt in [0.0001, 1]; T in (0, 10000];\n"
    "                      H in [3, 100] (with walls); walls 0 or 1\n"
    "  --batch N           episodes played in lockstep per worker round trip\n"
    "                      (1-64, default 20)\n"
    "  --step-ms MS        CPU time a policy may use per step (default 50)\n"
    "Gandalf:\n"
    "  --queries N         queries per attempt (1-10, default 5)\n"
    "  --ask-budget N      model questions a defender's guards may ask per query\n"
    "                      (0-64, default 4)\n"
    "  --target KIND       the defended model: simulated (default: a rule-based test\n"
    "                      double, not a model), openai or anthropic\n"
    "  --target-model NAME the target's model (openai: gpt-4o-mini,\n"
    "                      anthropic: claude-3-5-haiku-latest)\n"
    "  --target-url URL    the target's endpoint (any OpenAI-compatible server)\n"
    "  --target-key-env VAR  environment variable holding the target's key\n"
    "                      (default OPENAI_API_KEY / ANTHROPIC_API_KEY; never stored)\n"
    "  --target-temperature T  the target's sampling temperature (default 0.7)\n"
    "  --utility-questions N  benign questions measuring a defender's utility\n"
    "                      (default: all of them)\n"
    "Both:\n"
    "  --episodes N        episodes per match (Car Tag: episodes; Gandalf: attempts,\n"
    "                      a fresh password each) (default 20; run: 10 per evaluation)\n"
    "  --seed S            match seed; every pairing uses the same episode starts\n"
    "                      (default 1)\n"
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
    snprintf(g->domain, sizeof g->domain, "cartag");
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
    GandalfSettings *gs = &g->match.gandalf;
    switch (opt) {
    case OPT_SCENARIO:
    case OPT_PARAM:
    case OPT_BATCH:
    case OPT_STEP_MS:
        g->cartag_opt = opt == OPT_SCENARIO ? "--scenario" : opt == OPT_PARAM ? "--param"
                      : opt == OPT_BATCH    ? "--batch"    : "--step-ms";
        break;
    case OPT_QUERIES:
    case OPT_ASK_BUDGET:
    case OPT_TARGET:
    case OPT_TARGET_MODEL:
    case OPT_TARGET_URL:
    case OPT_TARGET_KEY_ENV:
    case OPT_TARGET_TEMP:
    case OPT_UTILITY_QS:
        g->gandalf_opt = opt == OPT_QUERIES ? "--queries" : opt == OPT_ASK_BUDGET ? "--ask-budget"
                       : opt == OPT_UTILITY_QS ? "--utility-questions" : "--target...";
        break;
    default:
        break;
    }
    switch (opt) {
    case OPT_DOMAIN:
        if (!domain_find(arg)) {
            fprintf(stderr, "fmsp %s: unknown domain '%s' (known: %s)\n", cmd, arg, domain_names());
            return 2;
        }
        snprintf(g->domain, sizeof g->domain, "%s", arg);
        return 0;
    case OPT_QUERIES:
        if (cli_parse_int(cmd, "--queries", arg, 1, FMSP_MAX_QUERIES, &iv))
            return 2;
        gs->game.max_queries = (int)iv;
        return 0;
    case OPT_ASK_BUDGET:
        if (cli_parse_int(cmd, "--ask-budget", arg, 0, 64, &iv))
            return 2;
        gs->game.ask_budget = (int)iv;
        return 0;
    case OPT_UTILITY_QS:
        if (cli_parse_int(cmd, "--utility-questions", arg, 1, 100000, &iv))
            return 2;
        gs->utility_questions = (int)iv;
        return 0;
    case OPT_TARGET: {
        FmBackend b;
        if (strcmp(arg, "simulated") == 0) {
            gs->kind = TARGET_SIMULATED;
            return 0;
        }
        if (fm_backend_parse(arg, &b) != FMSP_OK || (b != FM_OPENAI && b != FM_ANTHROPIC)) {
            fprintf(stderr, "fmsp %s: --target must be simulated, openai or anthropic, not '%s'\n",
                    cmd, arg);
            return 2;
        }
        /* keep what was set before the kind (model, URL...) only if the kind stays */
        if (gs->kind != TARGET_MODEL || gs->target.backend != b) {
            double t = gs->target.temperature;
            int mt = gs->target.max_tokens;
            fm_config_default(&gs->target, b);
            gs->target.temperature = t;
            gs->target.max_tokens = mt;
        }
        gs->kind = TARGET_MODEL;
        return 0;
    }
    case OPT_TARGET_MODEL:
        snprintf(gs->target.model, sizeof gs->target.model, "%s", arg);
        return 0;
    case OPT_TARGET_URL:
        snprintf(gs->target.base_url, sizeof gs->target.base_url, "%s", arg);
        return 0;
    case OPT_TARGET_KEY_ENV:
        snprintf(gs->target.api_key_env, sizeof gs->target.api_key_env, "%s", arg);
        return 0;
    case OPT_TARGET_TEMP:
        if (cli_parse_double(cmd, "--target-temperature", arg, 0, 2, &gs->target.temperature))
            return 2;
        return 0;
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
    g->match.domain = domain_find(g->domain);
    if (g->match.domain == &domain_gandalf) {
        if (g->cartag_opt) {
            fprintf(stderr, "fmsp %s: %s is a Car Tag option; this %s plays Gandalf\n", cmd,
                    g->cartag_opt, cmd);
            return 2;
        }
        if (g->match.mode != RUNNER_SANDBOX) {
            fprintf(stderr, "fmsp %s: --no-sandbox is for trusted Car Tag code only; Gandalf "
                            "policies always run in the sandbox\n", cmd);
            return 2;
        }
        return 0;
    }
    if (g->gandalf_opt) {
        fprintf(stderr, "fmsp %s: %s is a Gandalf option; add --domain gandalf\n", cmd,
                g->gandalf_opt);
        return 2;
    }
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
