/*
 * cmd_run.c - `fmsp run`: an FMSP search (open-loop, vFMSP, NSSP, QDSP) on
 * Car Tag, stored in a run database, resumable, with a live progress line.
 */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/util.h"
#include "eval/verdict.h"
#include "search/search.h"
#include "store/store.h"

static const char run_help[] =
    "usage: fmsp run [options]\n"
    "       fmsp run --resume DB [--iterations N ...]\n"
    "\n"
    "Runs Foundation-Model Self-Play on a domain (--domain cartag, the default, or\n"
    "gandalf): a foundation model (or the builtin program-synthesis operator, a\n"
    "non-FM baseline) writes policies of both sides in C, they play in the\n"
    "sandbox, and the archive keeps what the algorithm values. Everything goes\n"
    "into a SQLite run database. Gandalf runs the paper's campaign: attackers\n"
    "against the seven defence levels (red team), defenders against the attackers\n"
    "found (blue team), then attackers again, and ends with a per-level table.\n"
    "\n"
    "Search:\n"
    "  --algo NAME         qdsp (default), vfmsp, nssp, open-loop\n"
    "  --iterations N      candidates to generate, both sides together (default 40)\n"
    "  --max-tokens N      stop after N model tokens\n"
    "  --max-cost USD      stop after this estimated cost\n"
    "  --max-time SEC      stop after this wall time (resume continues)\n"
    "  --seed S            run seed (default 1)\n"
    "  --opponents N       archive opponents sampled per side for quality (default 3)\n"
    "  --novelty D         novelty threshold on embedding distance (default 0.03)\n"
    "  --novelty-space S   what novelty measures: code, behaviour (what a policy does\n"
    "                      against a fixed probe opponent) or both\n"
    "                      (default: code for Car Tag, both for Gandalf)\n"
    "  --judge             also ask the model whether a candidate is novel (nssp, qdsp)\n"
    "  --repairs N         repair requests after a failed candidate (default 2)\n"
    "  --baselines DIR     human-designed baselines: opponents and archive seeds\n"
    "  --seeds simple|all  seed the archives with one baseline per side, or all\n"
    "\n"
    "Foundation model:\n"
    "  --fm NAME           builtin (default, offline), openai, anthropic, replay\n"
    "  --model NAME        model name (openai: gpt-4o-mini, anthropic: claude-3-5-haiku-latest)\n"
    "  --base-url URL      endpoint (any OpenAI-compatible server: vLLM, llama.cpp, Ollama...)\n"
    "  --api-key-env VAR   environment variable holding the key (default OPENAI_API_KEY /\n"
    "                      ANTHROPIC_API_KEY); the key is never stored or logged\n"
    "  --temperature T     sampling temperature (default 0.8)\n"
    "  --in-flight N       iterations generated at once (default 4)\n"
    "  --replay-from DB    with --fm replay: the recorded run to answer from\n"
    "  --price-in USD      cost per million prompt tokens (for estimates)\n"
    "  --price-out USD     cost per million completion tokens\n"
    "  --embed KIND        code embeddings for novelty: builtin (default, offline) or\n"
    "                      openai (an OpenAI-compatible /embeddings endpoint)\n"
    "  --embed-model NAME  embeddings model (default text-embedding-3-small)\n"
    "  --embed-url URL     embeddings endpoint (default: --base-url)\n"
    "  --embed-key-env VAR key variable for embeddings (default: --api-key-env)\n"
    "\n"
    "Run:\n"
    "  --db PATH           run database to create (default runs/<algo>-<time>.db)\n"
    "  --resume DB         continue an interrupted run (budgets may be raised)\n"
    "  --dry-run           print the first prompt of each side and exit, calling no model\n"
    "  --quiet             no progress line\n"
    "  --config FILE       start from a run config (JSON, as 'fmsp show --config DB'\n"
    "                      prints it); flags given as well override the file\n"
    "  (--episodes is per evaluation match here: default 10; with --fm replay, give the\n"
    "  recorded run's options so the same requests are made)\n"
    "  -h, --help          this help\n"
    "\n"
    "Before the first iteration (and on resume) a network model is asked one tiny\n"
    "question, so a dead endpoint, a wrong key or an unknown model stops the start;\n"
    "during the run, 3 failed calls in a row stop it with the cause.\n"
    "Ctrl-C stops within a lockstep step (the iteration being evaluated is redone on\n"
    "resume); a second Ctrl-C stops at once. Exit codes: 0 finished, 1 failed (model,\n"
    "database, sandbox: the message says which), 2 usage error, 3 stopped by a budget,\n"
    "130 interrupted; after 1, 3 and 130, 'fmsp run --resume DB' continues.\n"
    "\n";

enum {
    R_ALGO = 2000, R_ITER, R_MAXTOK, R_MAXCOST, R_MAXTIME, R_OPP, R_NOV, R_JUDGE,
    R_REPAIRS, R_BASE, R_SEEDS, R_FM, R_MODEL, R_URL, R_KEYENV, R_TEMP, R_INFLIGHT,
    R_REPLAY, R_PIN, R_POUT, R_EMBED, R_EMODEL, R_EURL, R_EKEY, R_DB, R_RESUME, R_DRY, R_QUIET,
    R_CONFIG, R_SPACE
};

typedef struct RunUi {
    int tty, quiet;
    double last_print;
    int offline; /* the builtin operator: no tokens, no cost to show */
    const Domain *domain;
} RunUi;

static void fmt_q(char *buf, size_t n, double v, double ci)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (isnan(ci))
        snprintf(buf, n, "%.3f", v);
    else
        snprintf(buf, n, "%.3f+/-%.3f", v, ci);
}

static void on_progress(void *ctx, const SearchProgress *p)
{
    RunUi *ui = ctx;
    const Domain *d = ui->domain;
    if (ui->quiet)
        return;
    double now = util_now();
    int last = p->iteration + 1 >= p->iterations;
    if (!ui->tty && !last && now - ui->last_print < 5.0)
        return;
    ui->last_print = now;
    char pb[32], pm[32], eb[32], em[32];
    fmt_q(pb, sizeof pb, p->side[0].best, p->side[0].best_ci);
    fmt_q(pm, sizeof pm, p->side[0].mean, NAN);
    fmt_q(eb, sizeof eb, p->side[1].best, p->side[1].best_ci);
    fmt_q(em, sizeof em, p->side[1].mean, NAN);
    char usage[96];
    if (ui->offline)
        snprintf(usage, sizeof usage, "candidates %ld", p->calls);
    else
        snprintf(usage, sizeof usage, "calls %ld tokens %ld cost $%.4f", p->calls, p->tokens, p->cost);
    fprintf(stderr,
            "%s[%d/%d] %ss %d (best %s, mean %s)  %ss %d (best %s, mean %s)  "
            "%s  failed %d  %.0fs%s",
            ui->tty ? "\r\033[K" : "", p->iteration + 1, p->iterations, d->side_name[1],
            p->side[0].archive, pb, pm, d->side_name[2], p->side[1].archive, eb, em, usage,
            p->failures, p->seconds, ui->tty ? "" : "\n");
    fflush(stderr);
}

static volatile sig_atomic_t signals_seen;

/* First Ctrl-C (or SIGTERM): say so at once and stop within a step; the
 * iteration being evaluated is rolled back and redone on resume. A second
 * one stops at once: the database is consistent at every instant. */
static void on_signal(int sig)
{
    if (signals_seen++) {
        static const char now[] = "\nfmsp run: stopped at once; 'fmsp run --resume' continues\n";
        ssize_t w = write(2, now, sizeof now - 1);
        (void)w;
        _exit(128 + sig);
    }
    static const char msg[] = "\nfmsp run: stopping (completed work is saved; Ctrl-C again to stop "
                              "at once)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    search_stop();
}

static void print_report(Search *s, const char *db_path, int quiet)
{
    SearchReport rep;
    char err[512] = "";
    if (!quiet)
        fprintf(stderr, "fmsp run: measuring the best policies against the baselines...\n");
    if (search_report(s, &rep, err, sizeof err)) {
        fprintf(stderr, "fmsp run: report failed: %s\n", err);
        return;
    }
    const SearchConfig *c = search_config(s);
    const Domain *d = domain_find(c->domain);
    printf("\n%s run on %s with %s%s, seed %llu: %s\n", search_algo_name(c->algo), d->title,
           fm_backend_name(c->fm.backend),
           c->fm.backend == FM_BUILTIN ? " (offline program-synthesis operator, not a model)" : "",
           (unsigned long long)c->seed, db_path);
    const char *sides[2] = {d->side_name[1], d->side_name[2]};
    char *stored = NULL;
    store_meta_get(search_store(s), "verdict", &stored);
    json_t *verdicts = stored ? json_loads(stored, 0, NULL) : NULL;
    for (int k = 0; k < 2; k++) {
        printf("  %ss: archive %d, distinct strategies %d\n", sides[k], rep.archive[k],
               rep.distinct[k]);
        verdict_print(stdout, verdicts, k + 1, "    ");
    }
    json_decref(verdicts);
    free(stored);
    printf("  (scores are each side's own mean score, 1 = best, +/- the 95%% interval; "
           "see 'fmsp show %s', 'fmsp report %s -o report.html')\n",
           db_path, db_path);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_GAME_OPTIONS,
        {"algo", required_argument, 0, R_ALGO},
        {"iterations", required_argument, 0, R_ITER},
        {"max-tokens", required_argument, 0, R_MAXTOK},
        {"max-cost", required_argument, 0, R_MAXCOST},
        {"max-time", required_argument, 0, R_MAXTIME},
        {"opponents", required_argument, 0, R_OPP},
        {"novelty", required_argument, 0, R_NOV},
        {"novelty-space", required_argument, 0, R_SPACE},
        {"judge", no_argument, 0, R_JUDGE},
        {"repairs", required_argument, 0, R_REPAIRS},
        {"baselines", required_argument, 0, R_BASE},
        {"seeds", required_argument, 0, R_SEEDS},
        {"fm", required_argument, 0, R_FM},
        {"model", required_argument, 0, R_MODEL},
        {"base-url", required_argument, 0, R_URL},
        {"api-key-env", required_argument, 0, R_KEYENV},
        {"temperature", required_argument, 0, R_TEMP},
        {"in-flight", required_argument, 0, R_INFLIGHT},
        {"replay-from", required_argument, 0, R_REPLAY},
        {"price-in", required_argument, 0, R_PIN},
        {"price-out", required_argument, 0, R_POUT},
        {"embed", required_argument, 0, R_EMBED},
        {"embed-model", required_argument, 0, R_EMODEL},
        {"embed-url", required_argument, 0, R_EURL},
        {"embed-key-env", required_argument, 0, R_EKEY},
        {"db", required_argument, 0, R_DB},
        {"resume", required_argument, 0, R_RESUME},
        {"dry-run", no_argument, 0, R_DRY},
        {"quiet", no_argument, 0, R_QUIET},
        {"config", required_argument, 0, R_CONFIG},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    CliGame g;
    cli_game_init(&g);
    g.match.episodes = 10; /* per evaluation match; --episodes changes it */
    SearchConfig cfg;
    search_config_default(&cfg);
    const char *db_path = NULL, *resume = NULL, *fm_name = "builtin";
    const char *model = NULL, *url = NULL, *keyenv = NULL, *replay = NULL;
    double temp = NAN, pin = 0, pout = 0;
    int dry = 0, quiet = 0, in_flight = 0;
    long iv;
    int opt;
    /* --config FILE first: the file sets the run, flags then override it */
    static char cfg_model[128], cfg_url[512], cfg_keyenv[128], cfg_replay[1024];
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        if (!file)
            continue;
        char *text = NULL, err[512];
        size_t len = 0;
        if (util_read_file(file, 1 << 20, &text, &len, err, sizeof err) ||
            search_config_from_json(text, &cfg, err, sizeof err)) {
            fprintf(stderr, "fmsp run: --config %s: %s\n", file, err);
            free(text);
            return 2;
        }
        free(text);
        g.match.params = cfg.eval.params;
        g.match.gandalf = cfg.eval.gandalf;
        snprintf(g.domain, sizeof g.domain, "%s", cfg.domain);
        g.match.limits = cfg.eval.limits;
        g.match.episodes = cfg.eval.episodes;
        g.match.seed = cfg.seed;
        g.params_preset = 1;
        fm_name = fm_backend_name(cfg.fm.backend);
        snprintf(cfg_model, sizeof cfg_model, "%s", cfg.fm.model);
        snprintf(cfg_url, sizeof cfg_url, "%s", cfg.fm.base_url);
        snprintf(cfg_keyenv, sizeof cfg_keyenv, "%s", cfg.fm.api_key_env);
        snprintf(cfg_replay, sizeof cfg_replay, "%s", cfg.fm.replay_db);
        model = cfg_model[0] ? cfg_model : NULL;
        url = cfg_url[0] ? cfg_url : NULL;
        keyenv = cfg_keyenv[0] ? cfg_keyenv : NULL;
        replay = cfg_replay[0] ? cfg_replay : NULL;
        temp = cfg.fm.temperature;
        pin = cfg.fm.price_in_per_mtok;
        pout = cfg.fm.price_out_per_mtok;
        in_flight = cfg.in_flight;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", run_help, cli_game_options_help);
            return 0;
        case R_ALGO:
            if (search_algo_parse(optarg, &cfg.algo)) {
                fprintf(stderr, "fmsp run: unknown algorithm '%s' (qdsp, vfmsp, nssp, open-loop)\n",
                        optarg);
                return 2;
            }
            break;
        case R_ITER:
            if (cli_parse_int("run", "--iterations", optarg, 1, 10000000, &iv))
                return 2;
            cfg.iterations = (int)iv;
            break;
        case R_MAXTOK:
            if (cli_parse_int("run", "--max-tokens", optarg, 1, 2000000000L, &iv))
                return 2;
            cfg.max_tokens = iv;
            break;
        case R_MAXCOST:
            if (cli_parse_double("run", "--max-cost", optarg, 0.0001, 1e9, &cfg.max_cost))
                return 2;
            break;
        case R_MAXTIME:
            if (cli_parse_double("run", "--max-time", optarg, 1, 1e9, &cfg.max_seconds))
                return 2;
            break;
        case R_OPP:
            if (cli_parse_int("run", "--opponents", optarg, 0, 100, &iv))
                return 2;
            cfg.opponents = (int)iv;
            break;
        case R_NOV:
            if (cli_parse_double("run", "--novelty", optarg, 0, 2, &cfg.novelty))
                return 2;
            break;
        case R_SPACE:
            if (strcmp(optarg, "code") != 0 && strcmp(optarg, "behaviour") != 0 &&
                strcmp(optarg, "both") != 0) {
                fprintf(stderr, "fmsp run: --novelty-space must be code, behaviour or both, not "
                                "'%s'\n", optarg);
                return 2;
            }
            snprintf(cfg.novelty_space, sizeof cfg.novelty_space, "%s", optarg);
            cfg.novelty_space_given = 1;
            break;
        case R_JUDGE:
            cfg.judge = 1;
            break;
        case R_REPAIRS:
            if (cli_parse_int("run", "--repairs", optarg, 0, 7, &iv))
                return 2;
            cfg.max_repairs = (int)iv;
            break;
        case R_BASE:
            snprintf(cfg.baselines_dir, sizeof cfg.baselines_dir, "%s", optarg);
            break;
        case R_SEEDS:
            if (strcmp(optarg, "simple") && strcmp(optarg, "all")) {
                fprintf(stderr, "fmsp run: --seeds must be 'simple' or 'all', not '%s'\n", optarg);
                return 2;
            }
            snprintf(cfg.seeds, sizeof cfg.seeds, "%s", optarg);
            break;
        case R_FM:
            fm_name = optarg;
            break;
        case R_MODEL:
            model = optarg;
            break;
        case R_URL:
            url = optarg;
            break;
        case R_KEYENV:
            keyenv = optarg;
            break;
        case R_TEMP:
            if (cli_parse_double("run", "--temperature", optarg, 0, 2, &temp))
                return 2;
            break;
        case R_INFLIGHT:
            if (cli_parse_int("run", "--in-flight", optarg, 1, 64, &iv))
                return 2;
            in_flight = (int)iv;
            break;
        case R_REPLAY:
            replay = optarg;
            break;
        case R_PIN:
            if (cli_parse_double("run", "--price-in", optarg, 0, 1e6, &pin))
                return 2;
            break;
        case R_POUT:
            if (cli_parse_double("run", "--price-out", optarg, 0, 1e6, &pout))
                return 2;
            break;
        case R_EMBED:
            if (strcmp(optarg, "builtin") && strcmp(optarg, "openai")) {
                fprintf(stderr, "fmsp run: --embed must be 'builtin' or 'openai', not '%s'\n", optarg);
                return 2;
            }
            snprintf(cfg.embed, sizeof cfg.embed, "%s", optarg);
            break;
        case R_EMODEL:
            snprintf(cfg.embed_model, sizeof cfg.embed_model, "%s", optarg);
            break;
        case R_EURL:
            snprintf(cfg.embed_url, sizeof cfg.embed_url, "%s", optarg);
            break;
        case R_EKEY:
            snprintf(cfg.embed_key_env, sizeof cfg.embed_key_env, "%s", optarg);
            break;
        case R_DB:
            db_path = optarg;
            break;
        case R_RESUME:
            resume = optarg;
            break;
        case R_DRY:
            dry = 1;
            break;
        case R_QUIET:
            quiet = 1;
            break;
        case R_CONFIG:
            break; /* read before the flags, which override it */
        default:
            if (opt < OPT_SCENARIO || opt >= OPT_GAME_LAST)
                return cli_usage_error("run");
            if (cli_game_option(&g, "run", opt, optarg))
                return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fmsp run: unexpected argument '%s'\n", argv[optind]);
        return cli_usage_error("run");
    }
    int episodes = g.match.episodes > RUNNER_MAX_BATCH ? RUNNER_MAX_BATCH : g.match.episodes;
    if (cli_game_finish(&g, "run"))
        return 2;
    cfg.eval.params = g.match.params;
    cfg.eval.gandalf = g.match.gandalf;
    snprintf(cfg.domain, sizeof cfg.domain, "%s", g.domain);
    cfg.eval.limits = g.match.limits;
    cfg.eval.mode = RUNNER_SANDBOX;
    cfg.eval.episodes = episodes;
    cfg.eval.batch = episodes;
    FmBackend backend;
    if (fm_backend_parse(fm_name, &backend)) {
        fprintf(stderr, "fmsp run: unknown --fm '%s' (builtin, openai, anthropic, replay)\n",
                fm_name);
        return 2;
    }
    fm_config_default(&cfg.fm, backend);
    if (model)
        snprintf(cfg.fm.model, sizeof cfg.fm.model, "%s", model);
    if (url)
        snprintf(cfg.fm.base_url, sizeof cfg.fm.base_url, "%s", url);
    if (keyenv)
        snprintf(cfg.fm.api_key_env, sizeof cfg.fm.api_key_env, "%s", keyenv);
    if (!isnan(temp))
        cfg.fm.temperature = temp;
    cfg.fm.price_in_per_mtok = pin;
    cfg.fm.price_out_per_mtok = pout;
    if (in_flight)
        cfg.in_flight = in_flight;
    cfg.fm.max_in_flight = cfg.in_flight;
    if (backend == FM_REPLAY) {
        if (!replay) {
            fprintf(stderr, "fmsp run: --fm replay needs --replay-from DB (a recorded run)\n");
            return 2;
        }
        snprintf(cfg.fm.replay_db, sizeof cfg.fm.replay_db, "%s", replay);
    }
    cfg.seed = g.match.seed;
    if (!cfg.baselines_dir[0]) {
        const char *root = getenv("FMSP_ROOT");
        char *exe = util_exe_dir();
        const char *sub = domain_find(cfg.domain)->baselines;
        char *cand[3] = {root ? xasprintf("%s/policies/baselines/%s", root, sub) : NULL,
                         xasprintf("%s/../policies/baselines/%s", exe, sub),
                         xasprintf("%s/../share/fmsp/policies/baselines/%s", exe, sub)};
        for (int i = 0; i < 3; i++) {
            struct stat st;
            if (cand[i] && !cfg.baselines_dir[0] && stat(cand[i], &st) == 0 && S_ISDIR(st.st_mode))
                snprintf(cfg.baselines_dir, sizeof cfg.baselines_dir, "%s", cand[i]);
            free(cand[i]);
        }
        free(exe);
        if (!cfg.baselines_dir[0]) {
            fprintf(stderr, "fmsp run: cannot find the baseline policies; pass --baselines DIR\n");
            return 2;
        }
    }

    if (resume) {
        /* a resumed run is the run that was started: only budgets and how it
         * reports may change, anything else would silently not apply */
        static const char *const allowed[] = {"--resume", "--iterations", "--max-tokens",
                                              "--max-cost", "--max-time", "--quiet",
                                              "--api-key-env", "--embed-key-env", NULL};
        for (int i = 1; i < argc; i++) {
            if (strncmp(argv[i], "--", 2) != 0)
                continue;
            size_t len = strcspn(argv[i], "=");
            int ok = 0;
            for (int k = 0; allowed[k] && !ok; k++)
                ok = strlen(allowed[k]) == len && strncmp(argv[i], allowed[k], len) == 0;
            if (!ok) {
                fprintf(stderr,
                        "fmsp run: %.*s defines the run and cannot change on --resume (the run keeps "
                        "the settings it was started with); on resume only --iterations, "
                        "--max-tokens, --max-cost, --max-time, --quiet and the key variables may "
                        "be given\n",
                        (int)len, argv[i]);
                return 2;
            }
        }
    }

    char err[2048] = "";
    Search *s = NULL;
    FmspErr e;
    char path_buf[1200];
    char tmpdir[] = "/tmp/fmsp-dry-XXXXXX";
    if (dry) {
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "fmsp run: cannot create a temporary folder\n");
            return 1;
        }
        snprintf(path_buf, sizeof path_buf, "%s/dry.db", tmpdir);
        db_path = path_buf;
    }
    /* from here on Ctrl-C stops cleanly, set-up included */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (resume) {
        db_path = resume;
        SearchConfig over = {0};
        int iter_given = 0;
        for (int i = 1; i < argc; i++)
            iter_given |= strncmp(argv[i], "--iterations", 12) == 0;
        over.iterations = iter_given ? cfg.iterations : 0;
        over.max_tokens = cfg.max_tokens;
        over.max_cost = cfg.max_cost;
        over.max_seconds = cfg.max_seconds;
        over.check_endpoint = !dry;
        e = search_resume(resume, &g.compile, &over, &s, err, sizeof err);
    } else {
        if (!db_path) {
            util_mkdirs("runs", err, sizeof err);
            time_t now = time(NULL);
            struct tm tm;
            localtime_r(&now, &tm);
            char stamp[32];
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
            snprintf(path_buf, sizeof path_buf, "runs/%s-%s.db", search_algo_name(cfg.algo), stamp);
            db_path = path_buf;
        }
        cfg.check_endpoint = !dry;
        search_campaign_default(&cfg);
        e = search_create(&cfg, &g.compile, db_path, &s, err, sizeof err);
    }
    if (e) {
        if (e == FMSP_ERR_INTERRUPTED)
            fprintf(stderr, "fmsp run: interrupted during set-up; %s\n",
                    resume ? "the run is as it was" : "nothing was kept");
        else
            fprintf(stderr, "fmsp run: %s\n", err);
        if (dry) {
            unlink(path_buf);
            rmdir(tmpdir);
        }
        /* a resume asked to do nothing more is a usage error */
        return e == FMSP_ERR_INTERRUPTED       ? CLI_EXIT_INTERRUPTED
               : resume && e == FMSP_ERR_ARG   ? CLI_EXIT_USAGE
                                               : CLI_EXIT_FAILED;
    }
    int rc = 0;
    if (dry) {
        char *pp = NULL, *ep = NULL;
        e = search_dry_run(s, &pp, &ep, err, sizeof err);
        if (e) {
            fprintf(stderr, "fmsp run: %s\n", err);
            rc = 1;
        } else {
            const Domain *d = domain_find(search_config(s)->domain);
            printf("===== first %s prompt =====\n%s\n===== first %s prompt =====\n%s\n",
                   d->side_name[1], pp, d->side_name[2], ep);
        }
        free(pp);
        free(ep);
        search_free(s);
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "%s", path_buf);
        unlink(cmd);
        strcat(cmd, "-wal");
        unlink(cmd);
        snprintf(cmd, sizeof cmd, "%s-shm", path_buf);
        unlink(cmd);
        rmdir(tmpdir);
        return rc;
    }
    RunUi ui = {isatty(2), quiet, 0, search_config(s)->fm.backend == FM_BUILTIN,
                domain_find(search_config(s)->domain)};
    if (!quiet)
        fprintf(stderr, "fmsp run: %s with %s%s, %d iterations, database %s\n",
                search_algo_name(search_config(s)->algo), fm_backend_name(search_config(s)->fm.backend),
                search_config(s)->fm.backend == FM_BUILTIN ? " (offline operator, not a model)" : "",
                search_config(s)->iterations, db_path);
    if (!quiet) {
        char *def = search_quality_definition(search_config(s));
        fprintf(stderr, "fmsp run: %s\n", def);
        free(def);
    }
    e = search_run(s, on_progress, &ui, err, sizeof err);
    if (ui.tty && !quiet)
        fprintf(stderr, "\n");
    if (e) {
        fprintf(stderr, "fmsp run: %s\nfmsp run: completed work is saved; continue with "
                        "'fmsp run --resume %s'\n",
                err, db_path);
        rc = CLI_EXIT_FAILED;
    } else {
        SearchStop why = search_stopped(s);
        if (why == SEARCH_INTERRUPTED)
            fprintf(stderr, "fmsp run: interrupted; 'fmsp show %s' summarises it and "
                            "'fmsp run --resume %s' continues it\n",
                    db_path, db_path);
        else if (why == SEARCH_BUDGET)
            fprintf(stderr, "fmsp run: stopped by a budget (--max-tokens, --max-cost or --max-time); "
                            "continue with 'fmsp run --resume %s' and a larger budget\n",
                    db_path);
        if (why != SEARCH_INTERRUPTED)
            print_report(s, db_path, quiet);
        rc = why == SEARCH_FINISHED ? CLI_EXIT_OK
             : why == SEARCH_BUDGET ? CLI_EXIT_BUDGET
                                    : CLI_EXIT_INTERRUPTED;
        if (why == SEARCH_FINISHED && strcmp(search_config(s)->domain, "gandalf") == 0 &&
            cli_campaign_report(s, &g.compile, quiet) != 0)
            rc = CLI_EXIT_FAILED;
    }
    search_free(s);
    return rc;
}
