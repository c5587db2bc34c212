/*
 * cmd_play.c - `fmsp play`: one episode between a pursuer and an evader,
 * written as a JSON-lines trace (a start line, one line per step, an end
 * line) for replay and plotting. Numbers are printed with 17 significant
 * digits, so the same seed gives a byte-identical trace. Seeds are strings:
 * 64-bit values do not survive most JSON readers as numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "core/util.h"
#include "domains/cartag/cartag.h"

static const char play_help[] =
    "usage: fmsp play [options] PURSUER.c EVADER.c\n"
    "       fmsp play --domain gandalf [options] ATTACKER.c DEFENDER.c\n"
    "\n"
    "Plays one episode and writes its trace as JSON lines: a \"start\" line with\n"
    "the parameters and start state, one \"step\" line per step (state after the\n"
    "step and both controls), and an \"end\" line with the scores and faults.\n"
    "Gandalf: one attempt; one \"exchange\" line per query (the prompt, the input\n"
    "guard's verdict, the target's reply, the output guard's verdict, what the\n"
    "attacker saw, its guess), an \"attempt\" line with the password.\n"
    "\n"
    "Options:\n"
    "  --episode I         which episode of the match seed to play (default 0)\n"
    "  --trace FILE        write the trace to FILE (default: stdout)\n"
    "  -h, --help          this help\n"
    "\n";

static void print_state(FILE *f, const FmspState *s)
{
    fprintf(f,
            "\"step\":%d,\"t\":%.17g,\"xp\":%.17g,\"yp\":%.17g,\"theta\":%.17g,\"xe\":%.17g,"
            "\"ye\":%.17g,\"d\":%.17g,\"captured\":%s",
            s->step, s->t, s->xp, s->yp, s->theta, s->xe, s->ye, fmsp_distance(s),
            s->captured ? "true" : "false");
}

static void on_step(void *ctx, int episode, const FmspState *s, const FmspControl *pc,
                    const FmspControl *ec)
{
    FILE *f = ctx;
    fprintf(f, "{\"type\":\"step\",");
    print_state(f, s);
    /* The applied controls (after clipping/scaling) are in the state. */
    fprintf(f, ",\"u\":%.17g,\"vx\":%.17g,\"vy\":%.17g}\n", s->last_u, s->last_vx, s->last_vy);
    (void)episode;
    (void)pc;
    (void)ec;
}

static void print_fault(FILE *f, const char *key, const Fault *fa)
{
    if (fa->kind == FAULT_NONE) {
        fprintf(f, ",\"%s\":null", key);
        return;
    }
    fprintf(f, ",\"%s\":{\"kind\":\"%s\",\"detail\":\"", key, fault_name(fa->kind));
    for (const char *c = fa->detail; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', f);
        if ((unsigned char)*c >= 0x20)
            fputc(*c, f);
    }
    fprintf(f, "\"}");
}

static void on_transcript(void *ctx, int episode, const char *line)
{
    (void)episode;
    fprintf(ctx, "%s\n", line);
}

/* One Gandalf attempt: a start line, one line per exchange, the attempt's
 * line (the password and whether it was found), an end line with scores. */
static int play_gandalf(CliGame *g, const char *attacker, const char *defender,
                        const CompileResult *res, long episode, FILE *f)
{
    char label[256];
    json_t *start = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:b}", "type", "start",
                              "domain", "gandalf", "seed", "", "attempt", (int)episode,
                              "attacker", attacker, "defender", defender, "max_queries",
                              g->match.gandalf.game.max_queries, "simulated_target",
                              g->match.gandalf.kind == TARGET_SIMULATED);
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->match.seed);
    json_object_set_new(start, "seed", json_string(seed));
    json_object_set_new(start, "target", json_string(gandalf_target_label(&g->match.gandalf, label,
                                                                          sizeof label)));
    char *line = json_dumps(start, JSON_COMPACT | JSON_ENSURE_ASCII);
    fprintf(f, "%s\n", line);
    free(line);
    json_decref(start);
    g->match.trace = on_transcript;
    g->match.trace_ctx = f;
    MatchResult r;
    char err[1024] = "";
    FmspErr e = match_play(&g->match, res[0].object_path, res[1].object_path, NULL, NULL, &r, err,
                           sizeof err);
    if (e) {
        fprintf(stderr, "fmsp play: %s\n", err);
        return e == FMSP_ERR_INTERRUPTED ? CLI_EXIT_INTERRUPTED : 1;
    }
    const EpisodeResult *er = &r.episodes[0];
    fprintf(f, "{\"type\":\"end\",\"queries\":%d,\"success\":%s,\"attacker_score\":%.17g,"
               "\"defender_score\":%.17g,\"defender_utility\":%.17g",
            er->steps, er->captured ? "true" : "false", er->score[0], er->score[1], r.utility);
    print_fault(f, "attacker_fault", &er->fault[0]);
    print_fault(f, "defender_fault", &er->fault[1]);
    fprintf(f, "}\n");
    fflush(f);
    FILE *summary = f == stdout ? stderr : stdout;
    fprintf(summary, "attempt %ld: password %s after %d quer%s; attacker %.3f, defender %.3f "
                     "(utility %.3f)%s\n",
            episode, er->captured ? "found" : "kept", er->steps, er->steps == 1 ? "y" : "ies",
            er->score[0], er->score[1], r.utility,
            g->match.gandalf.kind == TARGET_SIMULATED ? "; simulated target (a test double)" : "");
    match_result_release(&r);
    return 0;
}

int cmd_play(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_GAME_OPTIONS,
        {"episode", required_argument, 0, 'e'},
        {"trace", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    CliGame g;
    cli_game_init(&g);
    long episode = 0;
    const char *trace_path = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (cli_parse_int("play", "--episode", optarg, 0, 1000000, &episode))
                return 2;
            break;
        case 't':
            trace_path = optarg;
            break;
        case 'h':
            printf("%s%s", play_help, cli_game_options_help);
            return 0;
        default:
            if (opt < OPT_SCENARIO || opt >= OPT_GAME_LAST)
                return cli_usage_error("play");
            if (cli_game_option(&g, "play", opt, optarg))
                return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "fmsp play: expected a pursuer and an evader file, got %d argument%s\n",
                argc - optind, argc - optind == 1 ? "" : "s");
        return cli_usage_error("play");
    }
    if (cli_game_finish(&g, "play"))
        return 2;
    g.match.episodes = 1;
    g.match.batch = 1;
    g.match.first_episode = (int)episode;

    CompileResult res[2];
    memset(res, 0, sizeof res);
    const int want[2] = {1, 2};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        char err[1024] = "";
        FmspErr e = compile_policy_file(&g.compile, argv[optind + i], &res[i], err, sizeof err);
        if (e) {
            fprintf(stderr, "fmsp play: %s\n", err);
            if (e != FMSP_ERR_REFUSED && res[i].diagnostics)
                fprintf(stderr, "%s\n", res[i].diagnostics);
            rc = 1;
        } else if (res[i].side != want[i]) {
            const Domain *d = g.match.domain;
            const char *got = d->side_name[res[i].side == 1 ? 1 : 2];
#define ARTICLE(w) (strchr("aeiou", (w)[0]) ? "an" : "a")
            fprintf(stderr, "fmsp play: '%s' is %s %s policy; expected %s %s first and %s %s "
                            "second\n",
                    argv[optind + i], ARTICLE(got), got, ARTICLE(d->side_name[1]),
                    d->side_name[1], ARTICLE(d->side_name[2]), d->side_name[2]);
#undef ARTICLE
            rc = 2;
        }
    }
    FILE *f = stdout;
    if (rc == 0 && trace_path && !(f = fopen(trace_path, "w"))) {
        fprintf(stderr, "fmsp play: cannot write trace '%s'\n", trace_path);
        rc = 1;
    }
    if (rc == 0 && g.match.domain == &domain_gandalf) {
        rc = play_gandalf(&g, argv[optind], argv[optind + 1], res, episode, f);
    } else if (rc == 0) {
        const FmspParams *p = &g.match.params;
        FmspState s0;
        uint64_t es = cartag_episode_seed(g.match.seed, (int)episode);
        cartag_reset(p, es, &s0);
        fprintf(f,
                "{\"type\":\"start\",\"scenario\":\"%s\",\"seed\":\"%llu\",\"episode\":%ld,"
                "\"episode_seed\":\"%llu\",\"pursuer\":\"%s\",\"evader\":\"%s\",\"vp\":%.17g,"
                "\"R\":%.17g,\"ve\":%.17g,\"l\":%.17g,\"dt\":%.17g,\"T\":%.17g,\"H\":%.17g,"
                "\"walls\":%d,",
                g.scenario, (unsigned long long)g.match.seed, episode, (unsigned long long)es,
                argv[optind], argv[optind + 1], p->vp, p->R, p->ve, p->l, p->dt, p->T, p->H,
                p->walls);
        print_state(f, &s0);
        fprintf(f, "}\n");
        MatchResult r;
        char err[1024] = "";
        FmspErr e = match_play(&g.match, res[0].object_path, res[1].object_path, on_step, f, &r,
                               err, sizeof err);
        if (e) {
            fprintf(stderr, "fmsp play: %s\n", err);
            rc = 1;
        } else {
            const EpisodeResult *er = &r.episodes[0];
            fprintf(f, "{\"type\":\"end\",\"steps\":%d,\"captured\":%s,\"pursuer_score\":%.17g,"
                       "\"evader_score\":%.17g",
                    er->steps, er->captured ? "true" : "false", er->score[0],
                    er->score[1]);
            print_fault(f, "pursuer_fault", &er->fault[0]);
            print_fault(f, "evader_fault", &er->fault[1]);
            fprintf(f, "}\n");
            fflush(f); /* the trace before the summary, even on one terminal */
            FILE *summary = f == stdout ? stderr : stdout;
            fprintf(summary, "episode %ld: %s after %d steps; pursuer %.3f, evader %.3f\n",
                    episode, er->captured ? "captured" : "not captured", er->steps,
                    er->score[0], er->score[1]);
            match_result_release(&r);
        }
        if (f != stdout && fclose(f) != 0) {
            fprintf(stderr, "fmsp play: error writing trace '%s'\n", trace_path);
            rc = 1;
        }
    }
    compile_result_release(&res[0]);
    compile_result_release(&res[1]);
    return rc;
}
