/*
 * cli.h - shared pieces of the fmsp command line: the subcommands and the
 * game options every game command accepts (scenario, parameters, episodes,
 * seed, limits), parsed into a MatchConfig.
 */
#ifndef FMSP_CLI_H
#define FMSP_CLI_H

#include <getopt.h>

#include "domains/domain.h"
#include "match/match.h"
#include "sandbox/compile.h"

/* Exit codes of every command (README "Exit codes"). */
enum {
    CLI_EXIT_OK = 0,          /* finished */
    CLI_EXIT_FAILED = 1,      /* failed: model, database, sandbox, a file (the message says) */
    CLI_EXIT_USAGE = 2,       /* bad flags or values */
    CLI_EXIT_BUDGET = 3,      /* run stopped by --max-tokens/--max-cost/--max-time: resumable */
    CLI_EXIT_INTERRUPTED = 130, /* stopped by Ctrl-C or SIGTERM: resumable */
};

int cmd_eval(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tournament(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Option codes of the game options (long options only). */
enum {
    OPT_SCENARIO = 1000,
    OPT_PARAM,
    OPT_EPISODES,
    OPT_SEED,
    OPT_BATCH,
    OPT_STEP_MS,
    OPT_MEM_MB,
    OPT_MATCH_CPU,
    OPT_NO_SANDBOX,
    OPT_CC,
    OPT_DOMAIN,
    OPT_QUERIES,
    OPT_ASK_BUDGET,
    OPT_TARGET,
    OPT_TARGET_MODEL,
    OPT_TARGET_URL,
    OPT_TARGET_KEY_ENV,
    OPT_TARGET_TEMP,
    OPT_UTILITY_QS,
    OPT_GAME_LAST
};

/* The getopt_long entries of the game options, to splice into a table. */
#define CLI_GAME_OPTIONS                                                  \
    {"scenario", required_argument, 0, OPT_SCENARIO},                     \
        {"param", required_argument, 0, OPT_PARAM},                       \
        {"episodes", required_argument, 0, OPT_EPISODES},                 \
        {"seed", required_argument, 0, OPT_SEED},                         \
        {"batch", required_argument, 0, OPT_BATCH},                       \
        {"step-ms", required_argument, 0, OPT_STEP_MS},                   \
        {"mem-mb", required_argument, 0, OPT_MEM_MB},                     \
        {"match-cpu", required_argument, 0, OPT_MATCH_CPU},               \
        {"no-sandbox", no_argument, 0, OPT_NO_SANDBOX},                   \
        {"cc", required_argument, 0, OPT_CC},                             \
        {"domain", required_argument, 0, OPT_DOMAIN},                     \
        {"queries", required_argument, 0, OPT_QUERIES},                   \
        {"ask-budget", required_argument, 0, OPT_ASK_BUDGET},             \
        {"target", required_argument, 0, OPT_TARGET},                     \
        {"target-model", required_argument, 0, OPT_TARGET_MODEL},         \
        {"target-url", required_argument, 0, OPT_TARGET_URL},             \
        {"target-key-env", required_argument, 0, OPT_TARGET_KEY_ENV},     \
        {"target-temperature", required_argument, 0, OPT_TARGET_TEMP},    \
        {"utility-questions", required_argument, 0, OPT_UTILITY_QS}

/* Help text of the game options. */
extern const char cli_game_options_help[];

typedef struct CliGame {
    MatchConfig match;      /* match.domain is set by cli_game_finish */
    char domain[16];        /* --domain: cartag (default) or gandalf */
    const char *cartag_opt; /* a Car Tag option given (refused with gandalf) */
    const char *gandalf_opt;/* a Gandalf option given (refused with cartag) */
    CompileConfig compile;
    char scenario[64];
    int scenario_given;  /* --scenario was passed */
    int params_preset;   /* match.params came from a config file: a scenario
                            replaces them only when --scenario is passed */
    char *overrides[64];
    int n_overrides;
} CliGame;

void cli_game_init(CliGame *g);

/* Handles one game option; returns 0, or 2 after printing an error. */
int cli_game_option(CliGame *g, const char *cmd, int opt, const char *arg);

/* Applies the scenario and the overrides in order; 0 or 2 after an error. */
int cli_game_finish(CliGame *g, const char *cmd);

/* Strict number parsing for option values; 0 or 2 after an error. */
int cli_parse_int(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                     double *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *arg, unsigned long long *out);

struct Search;
/* A Gandalf run's per-level table: plays, prints and stores it; 0 or 1. */
int cli_campaign_report(struct Search *s, const CompileConfig *cc, int quiet);

/* Prints "fmsp CMD: try 'fmsp CMD --help'" for an unknown option. */
int cli_usage_error(const char *cmd);

#endif
