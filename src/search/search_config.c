/*
 * search_config.c - defaults of a search and its JSON form in the run
 * database (meta "config"). Only what defines the run is stored; the API key
 * never is (only the name of its environment variable).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../core/util.h"
#include "../domains/cartag/cartag.h"
#include "../domains/domain.h"
#include "search.h"

static const char *const algo_names[] = {"open-loop", "vfmsp", "nssp", "qdsp"};

FmspErr search_algo_parse(const char *name, SearchAlgo *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, algo_names[i]) == 0) {
            *out = (SearchAlgo)i;
            return FMSP_OK;
        }
    if (strcmp(name, "openloop") == 0) {
        *out = ALGO_OPENLOOP;
        return FMSP_OK;
    }
    return FMSP_ERR_ARG;
}

const char *search_algo_name(SearchAlgo algo)
{
    return (unsigned)algo < 4 ? algo_names[algo] : "?";
}

void search_config_default(SearchConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->algo = ALGO_QDSP;
    cfg->iterations = 40;
    cfg->seed = 1;
    match_config_default(&cfg->eval);
    cfg->eval.episodes = 10;
    cfg->eval.batch = 10;
    cfg->opponents = 3;
    cfg->novelty = 0.03;
    cfg->max_repairs = 2;
    cfg->neighbours = 2;
    cfg->rescore_every = 10;
    cfg->in_flight = 4;
    snprintf(cfg->domain, sizeof cfg->domain, "cartag");
    gandalf_settings_default(&cfg->eval.gandalf);
    snprintf(cfg->seeds, sizeof cfg->seeds, "simple");
    snprintf(cfg->novelty_space, sizeof cfg->novelty_space, "code");
    snprintf(cfg->embed, sizeof cfg->embed, "builtin");
    snprintf(cfg->embed_model, sizeof cfg->embed_model, "text-embedding-3-small");
    fm_config_default(&cfg->fm, FM_BUILTIN);
}

char *search_config_to_json(const SearchConfig *c)
{
    const FmspParams *p = &c->eval.params;
    json_t *root = json_pack(
        "{s:s, s:i, s:I, s:f, s:f, s:I, s:i, s:i, s:f, s:b, s:i, s:i, s:i, s:i, s:s, s:s,"
        " s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i},"
        " s:{s:f, s:f, s:f, s:I}}",
        "algo", search_algo_name(c->algo), "iterations", c->iterations, "max_tokens",
        (json_int_t)c->max_tokens, "max_cost", c->max_cost, "max_seconds", c->max_seconds,
        "seed", (json_int_t)c->seed, "episodes", c->eval.episodes, "opponents", c->opponents,
        "novelty", c->novelty, "judge", c->judge, "max_repairs", c->max_repairs, "neighbours",
        c->neighbours, "rescore_every", c->rescore_every, "in_flight", c->in_flight, "seeds",
        c->seeds, "baselines_dir", c->baselines_dir, "params", "vp", p->vp, "R", p->R, "ve",
        p->ve, "l", p->l, "dt", p->dt, "T", p->T, "H", p->H, "walls", p->walls, "limits",
        "create_cpu_s", c->eval.limits.create_cpu_s, "step_cpu_s", c->eval.limits.step_cpu_s,
        "episode_cpu_s", c->eval.limits.episode_cpu_s, "mem_bytes",
        (json_int_t)c->eval.limits.mem_bytes);
    json_object_set_new(json_object_get(root, "limits"), "match_cpu_s",
                        json_real(c->eval.limits.match_cpu_s));
    json_object_set_new(
        root, "fm",
        json_pack("{s:s, s:s, s:s, s:s, s:f, s:i, s:f, s:i, s:i, s:f, s:f, s:I}", "backend",
                  fm_backend_name(c->fm.backend), "base_url", c->fm.base_url, "model",
                  c->fm.model, "api_key_env", c->fm.api_key_env, "temperature",
                  c->fm.temperature, "max_tokens", c->fm.max_tokens, "timeout_s",
                  c->fm.timeout_s, "max_retries", c->fm.max_retries, "max_in_flight",
                  c->fm.max_in_flight, "price_in_per_mtok", c->fm.price_in_per_mtok,
                  "price_out_per_mtok", c->fm.price_out_per_mtok, "seed",
                  (json_int_t)c->fm.seed));
    json_object_set_new(root, "domain", json_string(c->domain));
    json_object_set_new(root, "novelty_space", json_string(c->novelty_space));
    if (c->phases[0] + c->phases[1] + c->phases[2])
        json_object_set_new(root, "campaign",
                            json_pack("[i, i, i]", c->phases[0], c->phases[1], c->phases[2]));
    if (strcmp(c->domain, "gandalf") == 0) {
        const GandalfSettings *g = &c->eval.gandalf;
        json_object_set_new(
            root, "gandalf",
            json_pack("{s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:f, s:i, s:i}", "max_queries",
                      g->game.max_queries, "ask_budget", g->game.ask_budget,
                      "utility_questions", g->utility_questions, "target",
                      g->kind == TARGET_SIMULATED ? "simulated"
                                                  : fm_backend_name(g->target.backend),
                      "target_model", g->target.model, "target_url", g->target.base_url,
                      "target_key_env", g->target.api_key_env, "target_note",
                      g->kind == TARGET_SIMULATED
                          ? "simulated target: a rule-based test double, not a model"
                          : "a chat model",
                      "target_temperature", g->target.temperature, "target_max_tokens",
                      g->target.max_tokens, "target_max_retries", g->target.max_retries));
    }
    json_object_set_new(root, "embedding",
                        json_pack("{s:s, s:s, s:s, s:s}", "kind", c->embed, "model", c->embed_model,
                                  "url", c->embed_url, "key_env", c->embed_key_env));
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(root);
    char *out = xstrdup(s);
    free(s);
    return out;
}

static void get_str(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (v)
        snprintf(dst, cap, "%s", v);
}

static double get_num(json_t *o, const char *key, double dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

void search_campaign_default(SearchConfig *c)
{
    if (strcmp(c->domain, "gandalf") != 0)
        return;
    if (!c->novelty_space_given)
        snprintf(c->novelty_space, sizeof c->novelty_space, "both");
    if (c->phases[0] + c->phases[1] + c->phases[2])
        return;
    int n = c->iterations;
    c->phases[0] = (n + 2) / 3;
    c->phases[1] = (n + 1) / 3;
    c->phases[2] = n - c->phases[0] - c->phases[1];
}

FmspErr search_config_from_json(const char *text, SearchConfig *c, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root || !json_is_object(root)) {
        fmsp_errf(err, errlen, "run config is not valid JSON: %s", root ? "not an object" : je.text);
        json_decref(root);
        return FMSP_ERR_PARSE;
    }
    search_config_default(c);
    const char *algo = json_string_value(json_object_get(root, "algo"));
    if (!algo || search_algo_parse(algo, &c->algo)) {
        fmsp_errf(err, errlen, "run config names an unknown algorithm");
        json_decref(root);
        return FMSP_ERR_PARSE;
    }
    c->iterations = (int)get_num(root, "iterations", c->iterations);
    c->max_tokens = (long)get_num(root, "max_tokens", 0);
    c->max_cost = get_num(root, "max_cost", 0);
    c->max_seconds = get_num(root, "max_seconds", 0);
    c->seed = (uint64_t)json_integer_value(json_object_get(root, "seed"));
    c->eval.episodes = (int)get_num(root, "episodes", c->eval.episodes);
    c->eval.batch = c->eval.episodes < RUNNER_MAX_BATCH ? c->eval.episodes : RUNNER_MAX_BATCH;
    c->opponents = (int)get_num(root, "opponents", c->opponents);
    c->novelty = get_num(root, "novelty", c->novelty);
    c->judge = json_is_true(json_object_get(root, "judge"));
    c->max_repairs = (int)get_num(root, "max_repairs", c->max_repairs);
    c->neighbours = (int)get_num(root, "neighbours", c->neighbours);
    c->rescore_every = (int)get_num(root, "rescore_every", c->rescore_every);
    c->in_flight = (int)get_num(root, "in_flight", c->in_flight);
    get_str(root, "seeds", c->seeds, sizeof c->seeds);
    get_str(root, "domain", c->domain, sizeof c->domain);
    get_str(root, "novelty_space", c->novelty_space, sizeof c->novelty_space);
    if (!domain_find(c->domain)) {
        fmsp_errf(err, errlen, "run config names an unknown domain '%s' (known: %s)", c->domain,
                  domain_names());
        json_decref(root);
        return FMSP_ERR_PARSE;
    }
    json_t *ph = json_object_get(root, "campaign");
    for (int i = 0; i < 3 && json_array_size(ph) == 3; i++)
        c->phases[i] = (int)json_integer_value(json_array_get(ph, i));
    json_t *g = json_object_get(root, "gandalf");
    if (g) {
        GandalfSettings *gs = &c->eval.gandalf;
        gs->game.max_queries = (int)get_num(g, "max_queries", gs->game.max_queries);
        gs->game.ask_budget = (int)get_num(g, "ask_budget", gs->game.ask_budget);
        gs->utility_questions = (int)get_num(g, "utility_questions", gs->utility_questions);
        const char *kind = json_string_value(json_object_get(g, "target"));
        FmBackend tb;
        if (kind && strcmp(kind, "simulated") != 0 && fm_backend_parse(kind, &tb) == FMSP_OK) {
            gs->kind = TARGET_MODEL;
            fm_config_default(&gs->target, tb);
        }
        get_str(g, "target_model", gs->target.model, sizeof gs->target.model);
        get_str(g, "target_url", gs->target.base_url, sizeof gs->target.base_url);
        get_str(g, "target_key_env", gs->target.api_key_env, sizeof gs->target.api_key_env);
        gs->target.temperature = get_num(g, "target_temperature", gs->target.temperature);
        gs->target.max_tokens = (int)get_num(g, "target_max_tokens", gs->target.max_tokens);
        gs->target.max_retries = (int)get_num(g, "target_max_retries", gs->target.max_retries);
    }
    get_str(root, "baselines_dir", c->baselines_dir, sizeof c->baselines_dir);
    json_t *em = json_object_get(root, "embedding");
    get_str(em, "kind", c->embed, sizeof c->embed);
    get_str(em, "model", c->embed_model, sizeof c->embed_model);
    get_str(em, "url", c->embed_url, sizeof c->embed_url);
    get_str(em, "key_env", c->embed_key_env, sizeof c->embed_key_env);
    json_t *p = json_object_get(root, "params");
    FmspParams *pp = &c->eval.params;
    pp->vp = get_num(p, "vp", pp->vp);
    pp->R = get_num(p, "R", pp->R);
    pp->ve = get_num(p, "ve", pp->ve);
    pp->l = get_num(p, "l", pp->l);
    pp->dt = get_num(p, "dt", pp->dt);
    pp->T = get_num(p, "T", pp->T);
    pp->H = get_num(p, "H", pp->H);
    pp->walls = (int)get_num(p, "walls", pp->walls);
    pp->max_steps = (int)llround(pp->T / pp->dt);
    json_t *l = json_object_get(root, "limits");
    c->eval.limits.create_cpu_s = get_num(l, "create_cpu_s", c->eval.limits.create_cpu_s);
    c->eval.limits.step_cpu_s = get_num(l, "step_cpu_s", c->eval.limits.step_cpu_s);
    c->eval.limits.episode_cpu_s = get_num(l, "episode_cpu_s", c->eval.limits.episode_cpu_s);
    c->eval.limits.mem_bytes = (size_t)get_num(l, "mem_bytes", (double)c->eval.limits.mem_bytes);
    c->eval.limits.match_cpu_s = get_num(l, "match_cpu_s", c->eval.limits.match_cpu_s);
    json_t *f = json_object_get(root, "fm");
    const char *backend = json_string_value(json_object_get(f, "backend"));
    FmBackend b = FM_BUILTIN;
    if (backend && fm_backend_parse(backend, &b) == FMSP_OK)
        fm_config_default(&c->fm, b);
    get_str(f, "base_url", c->fm.base_url, sizeof c->fm.base_url);
    get_str(f, "model", c->fm.model, sizeof c->fm.model);
    get_str(f, "api_key_env", c->fm.api_key_env, sizeof c->fm.api_key_env);
    c->fm.temperature = get_num(f, "temperature", c->fm.temperature);
    c->fm.max_tokens = (int)get_num(f, "max_tokens", c->fm.max_tokens);
    c->fm.timeout_s = get_num(f, "timeout_s", c->fm.timeout_s);
    c->fm.max_retries = (int)get_num(f, "max_retries", c->fm.max_retries);
    c->fm.max_in_flight = (int)get_num(f, "max_in_flight", c->fm.max_in_flight);
    c->fm.price_in_per_mtok = get_num(f, "price_in_per_mtok", 0);
    c->fm.price_out_per_mtok = get_num(f, "price_out_per_mtok", 0);
    c->fm.seed = (uint64_t)json_integer_value(json_object_get(f, "seed"));
    json_decref(root);
    if (cartag_params_validate(pp, err, errlen))
        return FMSP_ERR_PARSE;
    return FMSP_OK;
}

char *search_quality_definition(const SearchConfig *c)
{
    const Domain *d = domain_find(c->domain);
    const char *other1 = d ? d->side_name[2] : "opponent", *other2 = d ? d->side_name[1] : "opponent";
    int sampled = c->algo == ALGO_VFMSP || c->algo == ALGO_QDSP;
    char against[256];
    if (c->algo == ALGO_VFMSP)
        snprintf(against, sizeof against,
                 "the other side's baselines and its incumbent (%ss for %ss, %ss for %ss)", other1,
                 other2, other2, other1);
    else if (sampled)
        snprintf(against, sizeof against,
                 "the other side's baselines and a sample of up to %d members of its archive, "
                 "re-drawn every %d iterations",
                 c->opponents, c->rescore_every);
    else
        snprintf(against, sizeof against, "the other side's baselines");
    return xasprintf("quality = a policy's mean own score (0 to 1, 1 best) against %s, %d "
                     "episodes per pair on common seeds; +/- is the 95%% interval over those "
                     "episodes",
                     against, c->eval.episodes);
}
