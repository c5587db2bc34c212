/*
 * search_load.c - policies into the run: compiling, the novelty space
 * (code, behaviour against the domain's probe, or both) and embeddings, and
 * the archives and opponent samples saved with every iteration and restored
 * on resume.
 */
#include "search_internal.h"

/* ------------------------------------------------------- policy loading */

/* Compiles source into entry->object_path; 0 on success. */
static FmspErr compile_into(Search *s, const char *name, const char *source, char **object_path,
                            char *err, size_t errlen)
{
    CompileResult r;
    FmspErr e = compile_policy_source(&s->cc, source, strlen(source), name, &r, err, errlen);
    if (!e)
        *object_path = xstrdup(r.object_path);
    compile_result_release(&r);
    return e;
}

int search_space_parse(const char *name)
{
    return strcmp(name, "behaviour") == 0 ? SPACE_BEHAVIOUR
           : strcmp(name, "both") == 0    ? SPACE_BOTH
                                          : SPACE_CODE;
}

/* The embedding of a text (heap, s->code_dim floats), or NULL with err set
 * when the remote endpoint fails or answers with another dimension. */
static float *embed_text(Search *s, const char *text, char *err, size_t errlen)
{
    if (!s->remote) {
        float *v = xcalloc(EMBED_DIM, sizeof(float));
        embed_builtin(text, v, EMBED_DIM);
        return v;
    }
    float *v;
    int dim;
    if (embed_remote(s->remote, text, &v, &dim, err, errlen))
        return NULL;
    if (s->code_dim == 0) {
        s->code_dim = dim;
        s->dim = s->space == SPACE_BOTH ? 2 * dim : dim;
    }
    if (dim != s->code_dim) {
        fmsp_errf(err, errlen, "the embeddings endpoint answered %d dimensions, expected %d", dim,
                  s->code_dim);
        free(v);
        return NULL;
    }
    return v;
}

/* What a policy does: its probe match's behaviour text (heap), or NULL with
 * *e and err set (an engine error: the probe is not the policy's fault).
 * The match is collected through the domain's step hook (probe_new) or its
 * transcript (domain.h). */
static char *behaviour_of(Search *s, int side, const char *object, FmspErr *e, char *err,
                          size_t errlen)
{
    const Domain *dom = s->dom;
    const char *probe = s->probe_obj[sidx(side)];
    MatchConfig mc = s->cfg.eval;
    mc.episodes = 2;
    mc.first_episode = 0;
    mc.seed = mix(s->cfg.seed, 0x50524F4245ULL, 0); /* "PROBE": the same for every policy */
    void *collected;
    MatchStepFn on_step = NULL;
    if (dom->probe_new) {
        mc.trace = NULL;
        collected = dom->probe_new(&mc);
        on_step = dom->probe_step;
    } else {
        mc.trace = dom->transcript_collect;
        mc.trace_ctx = collected = dom->transcript_new();
    }
    MatchResult r;
    *e = match_play(&mc, side == DOMAIN_SIDE_1 ? object : probe,
                    side == DOMAIN_SIDE_1 ? probe : object, on_step, on_step ? collected : NULL,
                    &r, err, errlen);
    char *text = NULL;
    if (!*e) {
        text = dom->behaviour_text(collected, side);
        match_result_release(&r);
    }
    if (dom->probe_new)
        dom->probe_free(collected);
    else
        dom->transcript_free(collected);
    return text;
}

/* The embedding of a policy in the run's novelty space (heap, s->dim
 * floats): FMSP_OK, or an error with err set: FMSP_ERR_NET from the
 * embeddings endpoint, or (*probe set) an engine error of the behaviour
 * probe's match. */
FmspErr search_embed_policy(Search *s, int side, const char *source, const char *object,
                            float **out, int *probe, char *err, size_t errlen)
{
    *out = NULL;
    *probe = 0;
    float *code = NULL, *act = NULL;
    FmspErr e = FMSP_OK;
    if (s->space != SPACE_BEHAVIOUR && !(code = embed_text(s, source, err, errlen)))
        return FMSP_ERR_NET;
    if (s->space != SPACE_CODE) {
        char *text = behaviour_of(s, side, object, &e, err, errlen);
        *probe = e != FMSP_OK;
        if (!e && !(act = embed_text(s, text ? text : "", err, errlen)))
            e = FMSP_ERR_NET;
        free(text);
    }
    if (e) {
        free(code);
        return e;
    }
    if (s->space == SPACE_BOTH) {
        float *v = xmalloc(sizeof(float) * (size_t)(2 * s->code_dim));
        for (int i = 0; i < s->code_dim; i++) {
            v[i] = code[i] * (float)M_SQRT1_2;
            v[s->code_dim + i] = act[i] * (float)M_SQRT1_2;
        }
        free(code);
        free(act);
        *out = v;
    } else {
        *out = code ? code : act;
    }
    return FMSP_OK;
}

/* Compiles the domain's behaviour probes (when novelty looks at behaviour). */
FmspErr search_open_probes(Search *s, char *err, size_t errlen)
{
    if (s->space == SPACE_CODE)
        return FMSP_OK;
    if (!s->dom->behaviour_text) {
        fmsp_errf(err, errlen, "%s has no behaviour descriptors: novelty can only measure code",
                  s->dom->title);
        return FMSP_ERR_ARG;
    }
    for (int k = 0; k < 2; k++) {
        const char *src = s->dom->probe_source[k + 1];
        char name[32];
        snprintf(name, sizeof name, "probe_%s", s->dom->side_name[k + 1]);
        FmspErr e = compile_into(s, name, src, &s->probe_obj[k], err, errlen);
        if (e)
            return e;
    }
    return FMSP_OK;
}

/* The archives' order lives in meta "archive_order" as {"1":[ids],"2":[ids]}:
 * a replacement takes its predecessor's place, so after a reload the
 * archive is in the same order a live run has, and every choice made by
 * position (parents, neighbours) is the same after a resume. */
FmspErr search_save_archive_order(Search *s)
{
    json_t *o = json_object();
    for (int k = 0; k < 2; k++) {
        json_t *a = json_array();
        for (int i = 0; i < s->arch[k].n; i++)
            json_array_append_new(a, json_integer(s->arch[k].entries[i].id));
        json_object_set_new(o, k == 0 ? "1" : "2", a);
    }
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    FmspErr e = store_meta_set(s->db, "archive_order", text);
    free(text);
    return e;
}

/* Puts each archive back in its stored order (runs from before the order
 * was stored keep id order). */
static void restore_archive_order(Search *s)
{
    char *text = NULL;
    if (store_meta_get(s->db, "archive_order", &text) || !text)
        return;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    for (int k = 0; k < 2 && o; k++) {
        json_t *ids = json_object_get(o, k == 0 ? "1" : "2");
        Archive *a = &s->arch[k];
        int pos = 0;
        for (size_t j = 0; j < json_array_size(ids); j++) {
            int i = archive_find(a, json_integer_value(json_array_get(ids, j)));
            if (i < pos)
                continue; /* unknown, or already placed */
            ArchiveEntry t = a->entries[pos];
            a->entries[pos] = a->entries[i];
            a->entries[i] = t;
            pos++;
        }
    }
    json_decref(o);
}

/* Loads archive members and baselines from the database (create & resume). */
FmspErr search_load_archives(Search *s, char *err, size_t errlen)
{
    StorePolicyRow *rows;
    int n;
    if (store_policy_list(s->db, 0, 0, &rows, &n))
        return db_fail(s, FMSP_ERR_DB, err, errlen, "listing policies");
    FmspErr e = FMSP_OK;
    for (int i = 0; i < n && !e; i++) {
        StorePolicyRow *r = &rows[i];
        int is_base = strcmp(r->origin, "baseline") == 0;
        if (!r->in_archive && !is_base)
            continue;
        if (r->corrupt) {
            fmsp_errf(err, errlen, "policy #%lld's source does not match its stored hash: the run "
                                   "database was damaged or edited", (long long)r->id);
            e = FMSP_ERR_DB;
            break;
        }
        for (int pass = 0; pass < 2 && !e; pass++) {
            if (pass == 0 && !r->in_archive)
                continue;
            if (pass == 1 && !is_base)
                continue;
            ArchiveEntry en = {0};
            en.id = r->id;
            en.name = xstrdup(r->name ? r->name : "policy");
            en.source = xstrdup(r->source ? r->source : "");
            e = compile_into(s, en.name, en.source, &en.object_path, err, errlen);
            if (e) {
                free(en.name);
                free(en.source);
                break;
            }
            if (r->embedding && r->embedding_dim > 0 && (s->dim == 0 || r->embedding_dim == s->dim)) {
                s->dim = r->embedding_dim;
                en.embedding = xmalloc(sizeof(float) * (size_t)s->dim);
                memcpy(en.embedding, r->embedding, sizeof(float) * (size_t)s->dim);
            } else {
                int probe;
                e = search_embed_policy(s, r->side, en.source, en.object_path, &en.embedding, &probe, err,
                                 errlen);
                if (e) {
                    free(en.name);
                    free(en.source);
                    free(en.object_path);
                    break;
                }
            }
            en.dim = s->dim;
            en.quality = r->quality;
            en.quality_ci = r->quality_ci;
            en.origin_baseline = is_base;
            archive_add(pass == 0 ? &s->arch[sidx(r->side)] : &s->base[sidx(r->side)], &en);
        }
    }
    store_policy_rows_free(rows, n);
    if (!e)
        restore_archive_order(s);
    return e;
}

/* Opponent samples live in meta "opponents" as {"1":[ids],"2":[ids]}. */
FmspErr search_save_samples(Search *s)
{
    json_t *o = json_object();
    for (int k = 0; k < 2; k++) {
        json_t *a = json_array();
        for (int i = 0; i < s->n_sample[k]; i++)
            json_array_append_new(a, json_integer(s->sample[k][i]));
        json_object_set_new(o, k == 0 ? "1" : "2", a);
    }
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    FmspErr e = store_meta_set(s->db, "opponents", text);
    free(text);
    return e;
}

void search_load_samples(Search *s)
{
    char *text = NULL;
    if (store_meta_get(s->db, "opponents", &text) || !text)
        return;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    for (int k = 0; k < 2 && o; k++) {
        json_t *a = json_object_get(o, k == 0 ? "1" : "2");
        size_t n = json_array_size(a);
        free(s->sample[k]);
        s->sample[k] = xcalloc(n + 1, sizeof(int64_t));
        s->n_sample[k] = 0;
        for (size_t i = 0; i < n; i++)
            s->sample[k][s->n_sample[k]++] = json_integer_value(json_array_get(a, i));
    }
    json_decref(o);
}
