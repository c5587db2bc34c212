/*
 * test_cartag_behaviour.c - Car Tag's behaviour descriptors
 * (src/domains/cartag/behaviour.c) through the real engine: policies and
 * probes go through the jailed compiler and play in sandboxed workers, the
 * probe match is collected through the domain's step hook as the search
 * does, and texts are embedded with the built-in embedding.
 *
 * Two pursuers with the same control law written differently behave the
 * same while their code differs; different strategies (pure pursuit and
 * circling, flight and a dodge) are far apart; the text is deterministic,
 * also in other batch sizes; a policy that crashes in its probe match gives
 * a text that says so, quickly; the collector starts a replayed episode
 * over; and a Car Tag run with novelty in behaviour space, or both, stores
 * embeddings of that space and, killed and resumed, ends with the same
 * archive.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/util.h"
#include "domains/domain.h"
#include "fixtures.h"
#include "fm/embed.h"
#include "harness.h"
#include "match/match.h"
#include "sandbox/compile.h"
#include "search/search.h"
#include "search_fixtures.h"

static CompileConfig cc;
static char root[1024];
static char tmp[256];
static char *probe_obj[3]; /* [1]: the pursuer probe, [2]: the evader probe */

/* Compiles a source; the object path (heap) or NULL. */
static char *compile_src(const char *name, const char *src)
{
    CompileResult r;
    char err[1024];
    FmspErr e = compile_policy_source(&cc, src, strlen(src), name, &r, err, sizeof err);
    CHECK_MSG(e == FMSP_OK, "%s: %s", name, err);
    char *obj = e ? NULL : xstrdup(r.object_path);
    if (!e)
        compile_result_release(&r);
    return obj;
}

static char *baseline(const char *name)
{
    char *path = xasprintf("%s/policies/baselines/cartag/%s.c", root, name);
    char *src = NULL, err[256];
    CHECK(util_read_file(path, 1 << 20, &src, NULL, err, sizeof err) == FMSP_OK);
    char *obj = src ? compile_src(name, src) : NULL;
    free(src);
    free(path);
    return obj;
}

/* The probe match as the search plays it: the run's settings (here the
 * default arena), 2 episodes, a fixed seed. */
static MatchConfig probe_match(void)
{
    MatchConfig m;
    match_config_default(&m);
    m.domain = &domain_cartag;
    m.episodes = 2;
    m.seed = 0x50524F4245ULL;
    return m;
}

/* The behaviour text of side's policy obj against its probe (heap), or
 * NULL on an engine error. */
static char *behaviour_with(MatchConfig m, const char *obj, int side)
{
    const Domain *d = &domain_cartag;
    const char *probe = probe_obj[side == 1 ? 2 : 1];
    void *collected = d->probe_new(&m);
    MatchResult r;
    char err[512];
    char *text = NULL;
    FmspErr e = match_play(&m, side == 1 ? obj : probe, side == 1 ? probe : obj, d->probe_step,
                           collected, &r, err, sizeof err);
    CHECK_MSG(e == FMSP_OK, "%s", err);
    if (!e) {
        text = d->behaviour_text(collected, side);
        match_result_release(&r);
    }
    d->probe_free(collected);
    return text;
}

static char *behaviour(const char *obj, int side)
{
    return behaviour_with(probe_match(), obj, side);
}

/* Cosine distance of two texts under the built-in embedding. */
static double distance(const char *a, const char *b)
{
    float ea[EMBED_DIM], eb[EMBED_DIM];
    embed_builtin(a, ea, EMBED_DIM);
    embed_builtin(b, eb, EMBED_DIM);
    double dot = 0;
    for (int i = 0; i < EMBED_DIM; i++)
        dot += (double)ea[i] * eb[i];
    return 1 - dot;
}

/* Pure pursuit, written a second way: a state struct, the heading error
 * from a cross and a dot product instead of angles, renamed variables, a
 * gain written as a product, and dead code. */
static const char pursuit_rewritten[] =
    "#include <stdlib.h>\n"
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "typedef struct Memory { int calls; double unused[8]; } Memory;\n"
    "void *fmsp_create(const FmspParams *params, FmspRng *rng) {\n"
    "    (void)rng; Memory *m = calloc(1, sizeof *m);\n"
    "    if (m && params->walls > 7) m->unused[0] = params->H * 2.0;\n"
    "    return m;\n"
    "}\n"
    "static double never_used(double q) { return q * q - 3.0; }\n"
    "void fmsp_act(void *self, const FmspObs *obs, FmspControl *out) {\n"
    "    Memory *m = self;\n"
    "    if (m) m->calls++;\n"
    "    const FmspState *st = &obs->state;\n"
    "    double towards_x = st->xe - st->xp, towards_y = st->ye - st->yp;\n"
    "    double nose_x = cos(st->theta), nose_y = sin(st->theta);\n"
    "    double across = nose_x * towards_y - nose_y * towards_x;\n"
    "    double along = nose_x * towards_x + nose_y * towards_y;\n"
    "    double off_nose = atan2(across, along);\n"
    "    double steer = 2.0 * 2.0 * off_nose;\n"
    "    if (steer > 1.0) steer = 1.0;\n"
    "    if (steer < -1.0) steer = -1.0;\n"
    "    if (obs->params.vp < 0) steer = never_used(steer);\n"
    "    out->u = steer;\n"
    "}\n"
    "void fmsp_free(void *self) { free(self); }\n";

/* Circles at full lock, whatever the evader does. */
static const char circler[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) { (void)self; (void)o; c->u = 1; "
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

/* Flees straight away, and steps across the car's nose, perpendicular to
 * its heading, whenever the car is within 2.5 R and pointing near it. */
static const char dodger[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
    "    double hx = cos(s->theta), hy = sin(s->theta);\n"
    "    c->vx = dx / d; c->vy = dy / d;\n"
    "    if (d < 2.5 * o->params.R && dx * hx + dy * hy > 0.5 * d) {\n"
    "        double side = hx * dy - hy * dx >= 0 ? 1.0 : -1.0;\n"
    "        c->vx = -hy * side; c->vy = hx * side;\n"
    "    }\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

/* Pure pursuit that dereferences NULL at its 60th step of an episode, or
 * in fmsp_create. */
static const char crash_late[] =
    "#include <stdlib.h>\n"
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    if (s->step == 60) { volatile int *z = NULL; *z = 1; }\n"
    "    c->u = fmsp_clamp(4 * fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta), "
    "-1, 1);\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static const char crash_at_create[] =
    "#include <stdlib.h>\n"
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) {\n"
    "    (void)p; (void)r; volatile int *z = NULL; *z = 1; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) { (void)self; (void)o; c->vx = 1; "
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

/* The probes are the domain's: probe_source[s] is the opponent side s's
 * policies face. */
static void test_probes_compile_and_play(void)
{
    CHECK(domain_cartag.probe_new && domain_cartag.probe_step && domain_cartag.probe_free);
    CHECK(!domain_cartag.transcript_new); /* evaluations keep no Car Tag transcripts */
    probe_obj[1] = compile_src("probe_pursuer", domain_cartag.probe_source[2]);
    probe_obj[2] = compile_src("probe_evader", domain_cartag.probe_source[1]);
    CHECK(probe_obj[1] && probe_obj[2]);
    char *t = probe_obj[1] ? behaviour(probe_obj[1], 1) : NULL;
    /* the pursuer probe against the evader probe: two episodes, each with
     * lines of three tokens and an end token */
    CHECK_STR_HAS(t, "episode\n");
    CHECK(t && (strstr(t, "captured_t") || strstr(t, "escaped")));
    CHECK(t && !strstr(t, "cut_short") && !strstr(t, "unplayed"));
    free(t);
}

/* (a) same law, different code: behaviour distance ~0, code distance large */
static void test_same_law_same_behaviour(void)
{
    char *a = compile_src("pursuit_fixture", fixture_honest_pursuer);
    char *b = compile_src("pursuit_rewritten", pursuit_rewritten);
    if (!a || !b || !probe_obj[2])
        goto out;
    char *ta = behaviour(a, 1), *tb = behaviour(b, 1);
    CHECK(ta && tb);
    if (ta && tb) {
        double bd = distance(ta, tb), cd = distance(fixture_honest_pursuer, pursuit_rewritten);
        CHECK_MSG(bd < 0.02, "same law, behaviour distance %.4f\n%s---\n%s", bd, ta, tb);
        CHECK_MSG(cd > 0.3, "the two sources look alike to the code embedding (%.3f)", cd);
    }
    free(ta);
    free(tb);
out:
    free(a);
    free(b);
}

/* (b) different strategies are far apart, farther than a rewrite: pure
 * pursuit and circling; flight and a dodge, with flight written a second
 * way (a velocity of any length is scaled to ve) as the yardstick */
static const char flee_rewritten[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *now = &o->state; (void)self;\n"
    "    c->vx = 100.0 * (now->xe - now->xp);\n"
    "    c->vy = 100.0 * (now->ye - now->yp);\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static void test_strategies_differ(void)
{
    char *pursuit = compile_src("pursuit_fixture", fixture_honest_pursuer);
    char *circle = compile_src("circler", circler);
    char *flee = baseline("evader_flee"), *flee2 = compile_src("flee_rewritten", flee_rewritten);
    char *dodge = compile_src("dodger", dodger);
    if (!pursuit || !circle || !flee || !flee2 || !dodge || !probe_obj[1] || !probe_obj[2])
        goto out;
    char *tp = behaviour(pursuit, 1), *tc = behaviour(circle, 1);
    char *tf = behaviour(flee, 2), *tf2 = behaviour(flee2, 2), *td = behaviour(dodge, 2);
    CHECK(tp && tc && tf && tf2 && td);
    if (tp && tc && tf && tf2 && td) {
        double pc = distance(tp, tc), fd = distance(tf, td), ff = distance(tf, tf2);
        CHECK_MSG(pc > 0.3, "pursuit vs circling: %.3f\n%s---\n%s", pc, tp, tc);
        CHECK_MSG(ff < 0.01, "flee vs flee rewritten: %.3f\n%s---\n%s", ff, tf, tf2);
        CHECK_MSG(fd > 0.06 && fd > 10 * ff, "flee vs dodge: %.3f\n%s---\n%s", fd, tf, td);
        CHECK_STR_HAS(tc, "hardleft");
        CHECK_STR_HAS(tf, "away speed_full");
        CHECK(strstr(td, "across_left") || strstr(td, "across_right"));
    }
    free(tp);
    free(tc);
    free(tf);
    free(tf2);
    free(td);
out:
    free(pursuit);
    free(circle);
    free(flee);
    free(flee2);
    free(dodge);
}

/* the same match gives the same text, whatever the batch size */
static void test_deterministic(void)
{
    char *obj = baseline("evader_isaacs_dodge");
    if (!obj || !probe_obj[1])
        goto out;
    MatchConfig one = probe_match();
    one.batch = 1;
    char *a = behaviour(obj, 2), *b = behaviour(obj, 2), *c = behaviour_with(one, obj, 2);
    CHECK(a && b && c && strcmp(a, b) == 0 && strcmp(a, c) == 0);
    free(a);
    free(b);
    free(c);
out:
    free(obj);
}

/* (d) a policy that crashes in its probe match: a text that says so, fast */
static void test_crash_in_probe(void)
{
    char *late = compile_src("crash_late", crash_late);
    char *early = compile_src("crash_at_create", crash_at_create);
    if (!late || !early || !probe_obj[1] || !probe_obj[2])
        goto out;
    double t0 = util_now();
    char *tl = behaviour(late, 1), *te = behaviour(early, 2);
    CHECK_MSG(util_now() - t0 < 30, "the probe matches took %.1f s", util_now() - t0);
    /* crashed at step 60 of each episode: the lines before it, then cut_short */
    CHECK_STR_HAS(tl, "cut_short");
    CHECK(tl && !strstr(tl, "captured_t") && !strstr(tl, "escaped"));
    CHECK_MSG(tl && strcmp(tl, "episode\nunplayed\nepisode\nunplayed\n") != 0, "%s", tl);
    /* crashed before its first step */
    CHECK_MSG(te && strcmp(te, "episode\nunplayed\nepisode\nunplayed\n") == 0, "%s", te);
    free(tl);
    free(te);
out:
    free(late);
    free(early);
}

/* The step hook on its own: a replay from the start (a worker died) starts
 * the episode over, steps beyond the match's episodes are ignored, and the
 * windows follow dt. */
static void test_collector_replay(void)
{
    MatchConfig m = probe_match();
    m.params.walls = 0;
    const Domain *d = &domain_cartag;
    void *a = d->probe_new(&m), *b = d->probe_new(&m);
    FmspControl c = {0};
    FmspState s = {0};
    for (int pass = 0; pass < 2; pass++) {
        memset(&s, 0, sizeof s);
        s.xe = 5;
        for (int i = 0; i < 25; i++) {
            fmsp_step(&m.params, &s, 1.0, 0.5, 0);
            d->probe_step(a, 0, &s, &c, &c); /* pass 0 is the attempt that died */
            if (pass == 1)
                d->probe_step(b, 0, &s, &c, &c);
        }
    }
    d->probe_step(a, 7, &s, &c, &c);
    d->probe_step(a, -1, &s, &c, &c);
    char *ta = d->behaviour_text(a, 1), *tb = d->behaviour_text(b, 1);
    CHECK_MSG(ta && tb && strcmp(ta, tb) == 0, "%s---\n%s", ta, tb);
    /* 25 steps of 0.05 s turning left at full lock from (0, 0) heading +x,
     * the evader running along +x from (5, 0): two full windows and a
     * partial one, then the episode stopped without an end (as a fault
     * would). At 0.5 s the evader is 30 degrees right of the nose, at 1 s
     * 63, at 1.25 s 80; the distance stays 4.7 to 4.8, just under 2^4
     * capture radii (d3). The second episode saw no step. */
    CHECK_MSG(ta && strcmp(ta, "episode\nahead_right d3 hardleft\nahead_right d3 hardleft\n"
                               "right d3 hardleft\ncut_short\nepisode\nunplayed\n") == 0,
              "%s", ta);
    free(ta);
    free(tb);
    d->probe_free(a);
    d->probe_free(b);
    d->probe_free(NULL);
}

/* (c) a Car Tag run with novelty in behaviour space (and both) works end
 * to end and, killed and resumed, ends with the same archive */
static void small_config(SearchConfig *c, const char *space, int iterations)
{
    search_config_default(c);
    c->algo = ALGO_QDSP;
    c->iterations = iterations;
    c->seed = 5;
    c->eval.episodes = 3;
    c->eval.batch = 3;
    c->eval.params.T = 16; /* long enough for captures, so sides differ in what they do */
    c->eval.params.max_steps = 320;
    c->opponents = 2;
    c->rescore_every = 4;
    c->in_flight = 3;
    snprintf(c->novelty_space, sizeof c->novelty_space, "%s", space);
    c->novelty_space_given = 1;
    snprintf(c->baselines_dir, sizeof c->baselines_dir, "%s/policies/baselines/cartag", root);
    snprintf(c->seeds, sizeof c->seeds, "simple");
}

/* Waits (at most 5 s) until no process holds the run's writer lock. A
 * compiler child forked by the killed run holds a copy of the lock's
 * descriptor from its fork until it closes its descriptors before exec; on
 * a loaded machine that can outlast the kill by a few milliseconds. */
static void wait_unlocked(const char *db)
{
    int fd = open(db, O_RDONLY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < 5000 && flock(fd, LOCK_EX | LOCK_NB) != 0; i++)
        usleep(1000);
    if (fd >= 0)
        close(fd);
}

/* Every stored embedding is in the run's space: behaviour alone is not the
 * code's embedding; both is the code's and another, joined and scaled by
 * sqrt(1/2). Candidates were generated, and some were judged novel. */
static void check_embeddings(const char *db_path, const char *space)
{
    Store *db;
    char err[256];
    if (store_open(db_path, 0, &db, err, sizeof err) != FMSP_OK) {
        CHECK_MSG(0, "%s", err);
        return;
    }
    StorePolicyRow *rows;
    int n, both = strcmp(space, "both") == 0, candidates = 0, novel = 0, checked = 0;
    store_policy_list(db, 0, 0, &rows, &n);
    for (int i = 0; i < n; i++) {
        StorePolicyRow *r = &rows[i];
        candidates += r->iteration >= 0;
        novel += r->iteration >= 0 && r->in_archive;
        if (!r->embedding || !r->source)
            continue;
        CHECK_INT(r->embedding_dim, both ? 2 * EMBED_DIM : EMBED_DIM);
        if (r->embedding_dim != (both ? 2 : 1) * EMBED_DIM)
            continue;
        float code[EMBED_DIM];
        embed_builtin(r->source, code, EMBED_DIM);
        double same = 0, rest = 0;
        for (int k = 0; k < EMBED_DIM; k++) {
            same = fmax(same, fabs(r->embedding[k] - (both ? M_SQRT1_2 : 1) * code[k]));
            rest += both ? (double)r->embedding[EMBED_DIM + k] * r->embedding[EMBED_DIM + k] : 0;
        }
        CHECK_MSG(both ? same < 1e-6 && fabs(rest - 0.5) < 1e-4 : same > 1e-3,
                  "%s: policy %lld, %g %g", space, (long long)r->id, same, rest);
        checked++;
    }
    store_policy_rows_free(rows, n);
    store_close(db);
    CHECK(checked > 0);
    CHECK_MSG(candidates >= 8 && novel > 0, "%s: %d candidates, %d in the archive", space,
              candidates, novel);
}

static void run_space(const char *space)
{
    SearchConfig c;
    small_config(&c, space, 8);
    char err[1024] = "";
    char *ref = xasprintf("%s/%s-ref.db", tmp, space),
         *killed = xasprintf("%s/%s-k.db", tmp, space);
    CHECK_MSG(search_run_to_end(&c, ref, err, sizeof err) == FMSP_OK, "%s: %s", space, err);
    check_embeddings(ref, space);
    char *fr = search_fingerprint(ref);
    int done = search_run_and_kill(&c, killed, 0, 3);
    CHECK_MSG(done >= 0, "%s: killed before any iteration", space);
    wait_unlocked(killed);
    CHECK_MSG(search_resume_to_end(killed, err, sizeof err) == FMSP_OK, "%s: %s", space, err);
    char *fk = search_fingerprint(killed);
    CHECK_MSG(strcmp(fr, fk) == 0, "%s\n%s---\n%s", space, fr, fk);
    /* the run keeps its space across the resume */
    Store *db;
    char *cfg_json = NULL;
    if (store_open(killed, 0, &db, err, sizeof err) == FMSP_OK) {
        store_meta_get(db, "config", &cfg_json);
        store_close(db);
    }
    char want[64];
    snprintf(want, sizeof want, "\"novelty_space\": \"%s\"", space);
    CHECK_STR_HAS(cfg_json, want);
    free(cfg_json);
    free(fr);
    free(fk);
    free(ref);
    free(killed);
}

static void test_run_behaviour_space(void)
{
    run_space("behaviour");
}

static void test_run_both_spaces(void)
{
    run_space("both");
}

int main(void)
{
    const char *r = getenv("FMSP_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    compile_config_default(&cc);
    snprintf(tmp, sizeof tmp, "/tmp/fmsp-test-cartag-behaviour-XXXXXX");
    if (!mkdtemp(tmp))
        abort();
    RUN(test_probes_compile_and_play);
    RUN(test_same_law_same_behaviour);
    RUN(test_strategies_differ);
    RUN(test_deterministic);
    RUN(test_crash_in_probe);
    RUN(test_collector_replay);
    RUN(test_run_behaviour_space);
    RUN(test_run_both_spaces);
    free(probe_obj[1]);
    free(probe_obj[2]);
    fixture_rm_rf(tmp);
    return harness_done("test_cartag_behaviour");
}
