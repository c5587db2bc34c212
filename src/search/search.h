/*
 * search.h - the FMSP search loop: open-loop, vFMSP, NSSP and QDSP, on any
 * domain (src/domains/domain.h: Car Tag, Gandalf).
 *
 * One iteration = one candidate policy for one side (sides alternate:
 * even iterations pursuers, odd evaders):
 *   plan      choose parents from the archive and build the prompt; the plan
 *             is stored before the model is asked, so a resumed run asks the
 *             same question (iteration i is planned once iteration i-K is
 *             final, K = iterations in flight, whether or not the run was
 *             interrupted: that is what makes resumed runs identical)
 *   generate  the model's answer: code or search/replace edits; every call
 *             is recorded, and a recorded call is never made again
 *   check     extract, compile, a short smoke match; failures go back to the
 *             model for repair (bounded)
 *   decide    novelty (embedding distance to the nearest archive entry) and,
 *             where the algorithm needs it, quality (mean score against the
 *             other side's baselines plus a sample of its archive); then the
 *             algorithm's rule; committed in one transaction with the
 *             iteration. Decisions are made in iteration order.
 * Generation of later iterations overlaps with checking and deciding
 * earlier ones (the model client runs requests on its own threads).
 */
#ifndef FMSP_SEARCH_H
#define FMSP_SEARCH_H

#include "../fm/fm.h"
#include "../match/match.h"
#include "../sandbox/compile.h"
#include "../store/store.h"

typedef enum SearchAlgo { ALGO_OPENLOOP, ALGO_VFMSP, ALGO_NSSP, ALGO_QDSP } SearchAlgo;

FmspErr search_algo_parse(const char *name, SearchAlgo *out);
const char *search_algo_name(SearchAlgo algo);

typedef struct SearchConfig {
    char domain[16];          /* "cartag" (default) or "gandalf" */
    SearchAlgo algo;
    int iterations;           /* budget: iterations in all (both sides); default 40 */
    int phases[3];            /* the campaign (Gandalf's default): iterations of side 1,
                                 then side 2, then side 1 again; all 0: sides alternate */
    long max_tokens;          /* 0: no limit */
    double max_cost;          /* USD; 0: no limit */
    double max_seconds;       /* wall time of this invocation; 0: no limit */
    uint64_t seed;            /* default 1 */
    MatchConfig eval;         /* game settings (Car Tag's params, Gandalf's game and target),
                                 episodes per match (default 10), limits */
    int opponents;            /* archive opponents sampled per side (default 3) */
    double novelty;           /* novelty threshold on embedding distance (default 0.03) */
    char novelty_space[16];   /* what novelty measures: "code" (Car Tag's default),
                                 "behaviour" (what the policy does against the domain's
                                 probe) or "both" (Gandalf's default) */
    int novelty_space_given;  /* set explicitly (not stored): the domain's default does not apply */
    int judge;                /* NSSP/QDSP: also ask the model whether it is novel */
    int max_repairs;          /* repair requests per iteration (default 2) */
    int neighbours;           /* nearest neighbours shown in prompts (default 2) */
    int rescore_every;        /* re-score archives every N iterations (default 10) */
    int in_flight;            /* iterations generated at once (default 4) */
    int check_endpoint;       /* ask the model one tiny question before starting, so a
                                 dead endpoint or a bad key stops the start (not stored) */
    char seeds[16];           /* initial archive: "simple" (one per side) or "all" */
    char baselines_dir[1024]; /* human-designed baselines (opponents and seeds) */
    char embed[16];           /* code embedding: "builtin" (default) or "openai" */
    char embed_model[128];    /* openai: embeddings model (text-embedding-3-small) */
    char embed_url[512];      /* openai: endpoint base URL (default: the FM's) */
    char embed_key_env[64];   /* openai: key variable (default: the FM's) */
    FmConfig fm;
} SearchConfig;

void search_config_default(SearchConfig *cfg);

/* Gandalf's defaults: when no phases are set, splits the iterations into a
 * red-team, a blue-team and a second red-team phase (thirds); novelty in
 * code and behaviour unless a space was given. */
void search_campaign_default(SearchConfig *cfg);

/* Serialises the parts of the config that define the run (stored in meta). */
char *search_config_to_json(const SearchConfig *cfg);
FmspErr search_config_from_json(const char *json, SearchConfig *cfg, char *err, size_t errlen);

/* What a policy's quality is measured against, in words, for this run's
 * settings (one definition, printed by run, show and the report). */
char *search_quality_definition(const SearchConfig *cfg);

typedef struct SearchSideStats {
    int archive;              /* archive size */
    double best, mean;        /* quality; NAN when none */
    double best_ci;           /* the best one's 95% half-width (NAN unknown) */
} SearchSideStats;

typedef struct SearchProgress {
    int iteration;            /* last completed iteration */
    int iterations;           /* budget */
    SearchSideStats side[2];  /* [0] side 1 (pursuers, attackers), [1] side 2 */
    long calls, failed_calls, tokens;
    double cost;
    int failures;             /* candidates that failed (no code, compile, fault...) */
    int accepted;             /* candidates that entered an archive */
    double seconds;
} SearchProgress;

typedef void (*SearchProgressFn)(void *ctx, const SearchProgress *p);

typedef struct Search Search;

/*
 * Creates a new run database at db_path for cfg (refuses an existing file),
 * compiles and stores the baselines, seeds the archives. err says why not.
 */
FmspErr search_create(const SearchConfig *cfg, const CompileConfig *cc, const char *db_path,
                      Search **out, char *err, size_t errlen);

/* Reopens an interrupted run; budgets in `override` (iterations, max_*)
 * replace the stored ones when > 0. */
FmspErr search_resume(const char *db_path, const CompileConfig *cc, const SearchConfig *override,
                      Search **out, char *err, size_t errlen);

/* Runs until a budget is used up or search_stop() is called (async-signal
 * safe). Returns FMSP_OK, or an engine error (database, sandbox). */
FmspErr search_run(Search *s, SearchProgressFn progress, void *ctx, char *err, size_t errlen);

/* Asks search_run (and a search_create or search_resume in progress) to
 * stop: the evaluation in progress is abandoned (its iteration is rolled
 * back and redone on resume). Async-signal safe; final for the process. */
void search_stop(void);

/* Why the last search_run returned FMSP_OK. */
typedef enum SearchStop { SEARCH_FINISHED, SEARCH_BUDGET, SEARCH_INTERRUPTED } SearchStop;
SearchStop search_stopped(const Search *s);

/* Prompts of the first iteration of each side, without calling any model. */
FmspErr search_dry_run(Search *s, char **pursuer_prompt, char **evader_prompt, char *err,
                       size_t errlen);

const SearchConfig *search_config(const Search *s);
Store *search_store(Search *s);

/* Best archive policy of a side that is not a baseline, and its mean score
 * against the other side's baselines; and the best baseline's. */
/* Discovered against human-designed, for one side: the best archive member
 * and the best baseline by mean score against the other side's baselines
 * (common seeds), and their paired difference over those opponents. */
typedef struct SearchVerdict {
    int opponents, episodes;   /* the pool: other side's baselines; episodes per pair */
    int64_t found_id;          /* 0: nothing beyond the seeds yet */
    char found[64], baseline[64];
    double found_mean, found_ci, base_mean, base_ci;
    double margin, margin_ci;  /* found - baseline, paired Student t over opponents */
    const char *result;        /* "beat", "tie", "lose", or "undecided" (fewer than 2 opponents) */
} SearchVerdict;

typedef struct SearchReport {
    int archive[2];
    int distinct[2];          /* valid candidates that are pairwise novel */
    SearchVerdict verdict[2];
} SearchReport;

/* Measures the report and stores it (meta "verdict", the JSON that `fmsp
 * show` and `fmsp report` print). */
FmspErr search_report(Search *s, SearchReport *rep, char *err, size_t errlen);

void search_free(Search *s);

#endif
