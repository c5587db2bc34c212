/*
 * cli_campaign.c - the end of a Gandalf run: gathers the run's valid
 * policies by campaign phase from its database, compiles them (cache hits),
 * plays the per-level table (src/domains/gandalf/campaign.h), prints it and
 * keeps it in the database (meta "campaign_table") for `fmsp show`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/util.h"
#include "domains/gandalf/campaign.h"
#include "search/search.h"

static int phase_of(const SearchConfig *c, int iteration)
{
    if (iteration < 0)
        return 0;
    if (iteration < c->phases[0])
        return 1;
    return iteration < c->phases[0] + c->phases[1] ? 2 : 3;
}

/* The table as data (meta "campaign_rows"), for `fmsp report`. */
static char *campaign_rows_json(const CampaignRow *t, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "level", json_string(t[i].level));
        json_object_set_new(o, "level_utility", json_real(t[i].level_utility));
        json_object_set_new(o, "broken_by", t[i].broken ? json_string(t[i].broken_by) : json_null());
        json_object_set_new(o, "leak_rate", json_real(t[i].broken_rate));
        json_object_set_new(o, "leak_ci", json_real(t[i].broken_ci));
        json_object_set_new(o, "patched_by", t[i].patched ? json_string(t[i].patched_by)
                                                          : json_null());
        json_object_set_new(o, "best_patch_try", json_string(t[i].patched_by));
        json_object_set_new(o, "patched_leak_rate", json_real(t[i].patched_rate));
        json_object_set_new(o, "utility", json_real(t[i].patched_utility));
        json_object_set_new(o, "level_rebroken_by", t[i].level_rebroken
                                                        ? json_string(t[i].level_rebroken_by)
                                                        : json_null());
        json_object_set_new(o, "rebroken_by", t[i].rebroken ? json_string(t[i].rebroken_by)
                                                            : json_null());
        json_object_set_new(o, "rebroken_rate", json_real(t[i].rebroken_rate));
        json_array_append_new(arr, o);
    }
    char *text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(arr);
    return text;
}

int cli_campaign_report(Search *s, const CompileConfig *cc, int quiet)
{
    const SearchConfig *c = search_config(s);
    Store *db = search_store(s);
    StorePolicyRow *rows[2] = {NULL, NULL};
    int n[2] = {0, 0};
    CampaignPolicy *pol[2] = {NULL, NULL};
    int np[2] = {0, 0};
    char **objects = NULL;
    int n_objects = 0;
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        if (store_policy_list(db, k + 1, 0, &rows[k], &n[k]) != FMSP_OK) {
            fprintf(stderr, "fmsp run: cannot read the run's policies: %s\n", store_errmsg(db));
            rc = 1;
            break;
        }
        pol[k] = xcalloc((size_t)n[k] + 1, sizeof *pol[k]);
        objects = xrealloc(objects, sizeof *objects * (size_t)(n_objects + n[k] + 1));
        for (int i = 0; i < n[k]; i++) {
            StorePolicyRow *r = &rows[k][i];
            int phase = phase_of(c, r->iteration);
            /* attackers of the red-team phases; the levels and the blue team */
            int wanted = k == 0 ? phase == 1 || phase == 3 : phase == 0 || phase == 2;
            /* valid policies: in an archive or not ("rejected" ones played too) */
            if (!wanted || !r->source || r->corrupt ||
                (strcmp(r->status, "ok") != 0 && strcmp(r->status, "rejected") != 0))
                continue;
            CompileResult res;
            char err[512];
            if (compile_policy_source(cc, r->source, strlen(r->source), r->name, &res, err,
                                      sizeof err) != FMSP_OK) {
                compile_result_release(&res);
                continue; /* compiled once already; cannot happen short of a full disk */
            }
            objects[n_objects] = xstrdup(res.object_path);
            pol[k][np[k]++] = (CampaignPolicy){r->name, objects[n_objects++], phase};
            compile_result_release(&res);
        }
    }
    /* levels in name order (defender_level1..7), before the blue team */
    for (int i = 1; rc == 0 && i < np[1]; i++)
        for (int j = i; j > 0; j--) {
            CampaignPolicy *a = &pol[1][j - 1], *b = &pol[1][j];
            if (a->phase < b->phase || (a->phase == b->phase && strcmp(a->name, b->name) <= 0))
                break;
            CampaignPolicy t = *a;
            *a = *b;
            *b = t;
        }
    if (rc == 0) {
        if (!quiet)
            fprintf(stderr, "fmsp run: playing the per-level table (%d attackers x %d defenders, "
                            "held-out passwords)...\n", np[0], np[1]);
        CampaignRow *table = NULL;
        int nt = 0;
        char err[1024] = "";
        if (gandalf_campaign_table(&c->eval, pol[0], np[0], pol[1], np[1], &table, &nt, err,
                                   sizeof err) != FMSP_OK) {
            fprintf(stderr, "fmsp run: the per-level table failed: %s\n", err);
            rc = 1;
        } else {
            gandalf_campaign_print(stdout, &c->eval, table, nt);
            char *text = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&text, &len);
            gandalf_campaign_print(f, &c->eval, table, nt);
            fclose(f);
            store_meta_set(db, "campaign_table", text);
            free(text);
            char *rows_json = campaign_rows_json(table, nt);
            store_meta_set(db, "campaign_rows", rows_json);
            free(rows_json);
        }
        free(table);
    }
    for (int i = 0; i < n_objects; i++)
        free(objects[i]);
    free(objects);
    for (int k = 0; k < 2; k++) {
        free(pol[k]);
        store_policy_rows_free(rows[k], n[k]);
    }
    return rc;
}
