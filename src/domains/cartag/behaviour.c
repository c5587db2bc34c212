/*
 * behaviour.c - behaviour descriptors of Car Tag policies (behaviour.h).
 *
 * A collector holds, per episode of the probe match, each side's lines so
 * far (the last run of equal lines still open) and the open window: the
 * steps since the last line and their sums. A window is half a second of game time (at least
 * one step); when it closes, one line of tokens per side describes it, in
 * the frame of the game rather than the world, so that the same manoeuvre
 * gives the same line wherever the episode started:
 *
 *   pursuer: where the evader is seen from the car at the window's end
 *            (ahead, ahead_left, left, behind_left, behind, behind_right,
 *            right, ahead_right), the distance d0..d7 (log2 of distance
 *            over capture radius), and the mean turn (hardleft, left,
 *            straight, right, hardright);
 *   evader:  where the evader went relative to the line from the car to it
 *            (away, away_left, across_left, toward_left, toward,
 *            toward_right, across_right, away_right, or still when its net
 *            motion is under a tenth of ve), its mean speed (speed_low,
 *            speed_mid, speed_full), the distance, and at_wall when it ends
 *            the window within half a unit of a wall.
 *
 * A manoeuvre held for several windows gives the same line several times
 * in a row; such a run of n lines is written 1 + floor(log2 n) times, so
 * that every manoeuvre counts and its length counts less and less: a long
 * straight approach, which most pursuers share, does not drown the turn or
 * dodge that sets two strategies apart, and a window more or less of it
 * changes little.
 *
 * Each episode's text opens with "episode" and ends with one token: how
 * it ended (captured_t0..t7, the eighth of T it was caught in; escaped;
 * cut_short when it stopped early without a capture, i.e. a fault;
 * unplayed when no step was played). The tokens are words, not numbers,
 * because the built-in embedding drops numbers.
 *
 * Invariants: an episode's `steps` is the last step seen; a step number
 * not above it means the referee replays the episode from its start (a
 * worker died), and the episode starts over. Only the steps are read
 * (state after each step, with the controls as applied), never the raw
 * controls, so two policies whose controls clip to the same values are the
 * same. Everything is a pure function of the steps: the text is
 * deterministic. At most MAX_WINDOWS lines per episode are kept (the end
 * token still says how it ended).
 */
#include "behaviour.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"

#define MAX_WINDOWS 4096   /* lines per episode: 34 minutes of game time */
#define MAX_EPISODES 1024  /* the probe plays 2 */
#define WINDOW_SECONDS 0.5 /* game time per token line */

const char cartag_probe_source_pursuer[] =
    "/* probe: pure pursuit (fmsp's behaviour probe for evaders) */\n"
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_free(void *self) { (void)self; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "  const FmspState *s = &o->state; (void)self;\n"
    "  double sight = atan2(s->ye - s->yp, s->xe - s->xp);\n"
    "  c->u = fmsp_clamp(4.0 * fmsp_wrap_angle(sight - s->theta), -1.0, 1.0);\n"
    "}\n";

const char cartag_probe_source_evader[] =
    "/* probe: flee, step across the car's nose when it comes close, keep off\n"
    "   the walls (fmsp's behaviour probe for pursuers) */\n"
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_free(void *self) { (void)self; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "  const FmspState *s = &o->state; const FmspParams *p = &o->params; (void)self;\n"
    "  double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
    "  double hx = cos(s->theta), hy = sin(s->theta);\n"
    "  double fx = dx / d, fy = dy / d;\n"
    "  if (d < 1.5 * p->R && dx * hx + dy * hy > 0.7 * d) {\n"
    "    double side = hx * dy - hy * dx >= 0 ? 1.0 : -1.0;\n"
    "    fx = -hy * side; fy = hx * side;\n"
    "  }\n"
    "  if (p->walls) {\n"
    "    fx += fmax(0.0, 2.0 - (p->H + s->xe)) - fmax(0.0, 2.0 - (p->H - s->xe));\n"
    "    fy += fmax(0.0, 2.0 - (p->H + s->ye)) - fmax(0.0, 2.0 - (p->H - s->ye));\n"
    "  }\n"
    "  double n = sqrt(fx * fx + fy * fy) + 1e-12;\n"
    "  c->vx = p->ve * fx / n; c->vy = p->ve * fy / n;\n"
    "}\n";

typedef struct Text {
    char *buf;
    size_t len, cap;
} Text;

/* One side's lines of an episode: those written, and the run of equal
 * lines still open (written when a different line comes or at the end). */
typedef struct Lines {
    Text text;
    char run_line[96];
    int run; /* 0: none open */
} Lines;

typedef struct ProbeEpisode {
    Lines lines[2]; /* the pursuer's and the evader's */
    int steps;      /* the last step seen; 0: none */
    int windows;    /* lines written */
    int ended;      /* a capture or the time-out was seen: end token written */
    int in_window;  /* steps in the open window */
    double sum_u, sum_vx, sum_vy, sum_speed;
    FmspState last; /* the state after the last step */
} ProbeEpisode;

typedef struct CartagProbe {
    FmspParams params;
    int window; /* steps per window */
    int n;      /* episodes */
    ProbeEpisode *ep;
} CartagProbe;

static void text_add(Text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

/* The sector of an angle (wrapped), eight of pi/4 centred on 0, counter-
 * clockwise: 0 is straight on, 2 a quarter turn left, 4 behind. */
static int sector(double a)
{
    int k = (int)floor((fmsp_wrap_angle(a) + M_PI / 8) / (M_PI / 4));
    return ((k % 8) + 8) % 8;
}

static const char *distance_token(const FmspParams *p, const FmspState *s)
{
    static const char *const names[] = {"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"};
    double ratio = fmsp_distance(s) / p->l;
    int k = ratio < 1.0 ? 0 : (int)floor(log2(ratio));
    return names[k < 0 ? 0 : k > 7 ? 7 : k];
}

/* Writes a run of n equal lines: 1 + floor(log2 n) copies. */
static void run_write(Text *out, const char *line, int n)
{
    int copies = 1;
    while (n >>= 1)
        copies++;
    for (int k = 0; k < copies; k++)
        text_add(out, line);
}

/* Adds a line to side's lines: extends the open run or starts one. */
static void lines_add(Lines *l, const char *line)
{
    if (l->run > 0 && strcmp(l->run_line, line) == 0) {
        l->run++;
        return;
    }
    if (l->run > 0)
        run_write(&l->text, l->run_line, l->run);
    snprintf(l->run_line, sizeof l->run_line, "%s", line);
    l->run = 1;
}

/* side's line for the open window of e (which has steps). */
static void window_line(const CartagProbe *pr, const ProbeEpisode *e, int side, char *line,
                        size_t cap)
{
    static const char *const seen[] = {"ahead",  "ahead_left",   "left",  "behind_left",
                                       "behind", "behind_right", "right", "ahead_right"};
    static const char *const went[] = {"away",   "away_left",    "across_left",  "toward_left",
                                       "toward", "toward_right", "across_right", "away_right"};
    const FmspParams *p = &pr->params;
    const FmspState *s = &e->last;
    double n = e->in_window;
    double sight = atan2(s->ye - s->yp, s->xe - s->xp); /* car to evader */
    if (side == FMSP_PURSUER) {
        double u = e->sum_u / n;
        const char *turn = u > 0.75     ? "hardleft"
                           : u > 0.25   ? "left"
                           : u >= -0.25 ? "straight"
                           : u >= -0.75 ? "right"
                                        : "hardright";
        snprintf(line, cap, "%s %s %s\n", seen[sector(sight - s->theta)], distance_token(p, s),
                 turn);
    } else {
        double vx = e->sum_vx / n, vy = e->sum_vy / n, speed = e->sum_speed / n / p->ve;
        const char *dir =
            hypot(vx, vy) < 0.1 * p->ve ? "still" : went[sector(atan2(vy, vx) - sight)];
        const char *pace = speed < 0.25 ? "speed_low" : speed < 0.75 ? "speed_mid" : "speed_full";
        int wall = p->walls && (p->H - fabs(s->xe) < 0.5 || p->H - fabs(s->ye) < 0.5);
        snprintf(line, cap, "%s %s %s%s\n", dir, pace, distance_token(p, s),
                 wall ? " at_wall" : "");
    }
}

static void window_close(CartagProbe *pr, ProbeEpisode *e)
{
    if (e->in_window == 0)
        return;
    if (e->windows < MAX_WINDOWS) {
        char line[96];
        for (int k = 0; k < 2; k++) {
            window_line(pr, e, k == 0 ? FMSP_PURSUER : FMSP_EVADER, line, sizeof line);
            lines_add(&e->lines[k], line);
        }
        e->windows++;
    }
    e->in_window = 0;
    e->sum_u = e->sum_vx = e->sum_vy = e->sum_speed = 0;
}

void *cartag_probe_new(const MatchConfig *cfg)
{
    CartagProbe *pr = xcalloc(1, sizeof *pr);
    pr->params = cfg->params;
    double steps = WINDOW_SECONDS / cfg->params.dt;
    pr->window = steps >= 1 && steps < 1e6 ? (int)lround(steps) : 1;
    pr->n = cfg->episodes < 0 ? 0 : cfg->episodes > MAX_EPISODES ? MAX_EPISODES : cfg->episodes;
    pr->ep = xcalloc((size_t)(pr->n ? pr->n : 1), sizeof *pr->ep);
    return pr;
}

void cartag_probe_step(void *probe, int episode, const FmspState *state, const FmspControl *pursuer,
                       const FmspControl *evader)
{
    (void)pursuer;
    (void)evader;
    CartagProbe *pr = probe;
    if (!pr || episode < 0 || episode >= pr->n)
        return;
    ProbeEpisode *e = &pr->ep[episode];
    if (state->step <= e->steps) { /* replayed from its start */
        Text keep[2] = {e->lines[0].text, e->lines[1].text};
        memset(e, 0, sizeof *e);
        for (int k = 0; k < 2; k++) {
            e->lines[k].text = keep[k];
            e->lines[k].text.len = 0;
        }
    }
    if (e->ended)
        return;
    e->steps = state->step;
    e->last = *state;
    e->in_window++;
    e->sum_u += state->last_u;
    e->sum_vx += state->last_vx;
    e->sum_vy += state->last_vy;
    e->sum_speed += hypot(state->last_vx, state->last_vy);
    if (e->in_window >= pr->window)
        window_close(pr, e);
    if (state->captured || state->step >= pr->params.max_steps) {
        window_close(pr, e);
        char end[32];
        if (state->captured) {
            int k = (int)floor(8.0 * state->t / pr->params.T);
            snprintf(end, sizeof end, "captured_t%d\n", k < 0 ? 0 : k > 7 ? 7 : k);
        } else {
            snprintf(end, sizeof end, "escaped\n");
        }
        for (int k = 0; k < 2; k++) {
            Lines *l = &e->lines[k];
            if (l->run > 0)
                run_write(&l->text, l->run_line, l->run);
            l->run = 0;
            text_add(&l->text, end);
        }
        e->ended = 1;
    }
}

void cartag_probe_free(void *probe)
{
    CartagProbe *pr = probe;
    if (!pr)
        return;
    for (int i = 0; i < pr->n; i++) {
        free(pr->ep[i].lines[0].text.buf);
        free(pr->ep[i].lines[1].text.buf);
    }
    free(pr->ep);
    free(pr);
}

char *cartag_behaviour_text(void *probe, int side)
{
    const CartagProbe *pr = probe;
    int k = side == FMSP_PURSUER ? 0 : 1;
    Text out = {0};
    text_add(&out, "");
    for (int i = 0; pr && i < pr->n; i++) {
        const ProbeEpisode *e = &pr->ep[i];
        const Lines *l = &e->lines[k];
        text_add(&out, "episode\n");
        if (l->text.len)
            text_add(&out, l->text.buf);
        if (e->ended)
            continue;
        /* it stopped without a capture or a time-out (a fault): what was
         * open is written here, leaving the collector as it was */
        Lines rest = {{NULL, 0, 0}, "", 0};
        memcpy(rest.run_line, l->run_line, sizeof rest.run_line);
        rest.run = l->run;
        if (e->in_window > 0 && e->windows < MAX_WINDOWS) {
            char line[96];
            window_line(pr, e, k == 0 ? FMSP_PURSUER : FMSP_EVADER, line, sizeof line);
            lines_add(&rest, line);
        }
        if (rest.run > 0)
            run_write(&rest.text, rest.run_line, rest.run);
        if (rest.text.len)
            text_add(&out, rest.text.buf);
        free(rest.text.buf);
        text_add(&out, e->steps == 0 ? "unplayed\n" : "cut_short\n");
    }
    return out.buf;
}
