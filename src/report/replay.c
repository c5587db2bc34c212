/*
 * replay.c - traces one Car Tag episode for the report's animated replay.
 * Coordinates are rounded to 1e-3 (the page draws at most a few hundred
 * pixels per unit), which keeps a 800-step episode near 30 KB.
 */
#include "report/replay.h"

#include <math.h>

typedef struct Trace {
    json_t *frames;
} Trace;

static json_t *r3(double v)
{
    return json_real(round(v * 1000) / 1000);
}

static void on_step(void *ctx, int episode, const FmspState *s, const FmspControl *pc,
                    const FmspControl *ec)
{
    Trace *t = ctx;
    if (episode != 0)
        return;
    json_t *f = json_array();
    json_array_append_new(f, r3(s->xp));
    json_array_append_new(f, r3(s->yp));
    json_array_append_new(f, r3(s->theta));
    json_array_append_new(f, r3(s->xe));
    json_array_append_new(f, r3(s->ye));
    json_array_append_new(t->frames, f);
    (void)pc;
    (void)ec;
}

json_t *report_replay(const MatchConfig *cfg, const char *obj1, const char *obj2,
                      const char *name1, const char *name2, char *err, size_t errlen)
{
    MatchConfig mc = *cfg;
    mc.episodes = 1;
    mc.batch = 1;
    mc.trace = NULL;
    mc.trace_ctx = NULL;
    Trace t = {json_array()};
    MatchResult r;
    if (match_play(&mc, obj1, obj2, on_step, &t, &r, err, errlen) != FMSP_OK) {
        json_decref(t.frames);
        return NULL;
    }
    const FmspParams *p = &mc.params;
    json_t *o = json_pack("{s:s, s:s, s:i, s:{s:f, s:f, s:f, s:f, s:f, s:f, s:i}, s:b, s:i, "
                          "s:f, s:f}",
                          "pursuer", name1, "evader", name2, "episode", 0, "params", "R", p->R,
                          "l", p->l, "H", p->H, "dt", p->dt, "vp", p->vp, "ve", p->ve, "walls",
                          p->walls, "captured", r.n && r.episodes[0].captured, "steps",
                          (int)json_array_size(t.frames), "pursuer_score", r.mean[0],
                          "evader_score", r.mean[1]);
    json_object_set_new(o, "frames", t.frames);
    match_result_release(&r);
    return o;
}
