/*
 * cmd_show.c - `fmsp show DB` summarises a run and `fmsp export DB DIR`
 * writes its archive as policy files that `fmsp eval` accepts.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/linediff.h"
#include "core/util.h"
#include "eval/verdict.h"
#include "search/search.h"
#include "store/store.h"

static const char show_help[] =
    "usage: fmsp show [--top N] [--failures] [--code ID] [--domain NAME] DB\n"
    "\n"
    "Summarises a run database: configuration and status, the archive of each\n"
    "side (best first, the top N; default 5) with lineage, candidates counted by\n"
    "fate with the most recent failures, and model usage (calls, tokens,\n"
    "estimated cost).\n"
    "  --failures   list every candidate that failed or was rejected, with why\n"
    "  --code ID    print policy #ID: its fate, its reason, its source and its diff\n"
    "               against its parent\n"
    "  --config     print the run's configuration as JSON, for 'fmsp run --config'\n"
    "  --domain NAME  check the run is of that domain (cartag, gandalf); the database\n"
    "               records it, and a Gandalf run's summary ends with its per-level table\n";

static const char export_help[] =
    "usage: fmsp export [--all] [--domain NAME] DB DIR\n"
    "\n"
    "Writes the archive policies of a run as C files into DIR (created if\n"
    "needed), named <name>.c, ready for 'fmsp eval DIR'. With --all, every\n"
    "valid candidate is written, not only the archive.\n";

/* Opens a run database and finds its domain (recorded in its config; a run
 * from before domains existed is Car Tag). want: --domain, or NULL. */
static int open_db(const char *cmd, const char *path, const char *want, Store **db,
                   const Domain **dom)
{
    char err[512];
    if (store_open(path, 0, db, err, sizeof err)) {
        fprintf(stderr, "fmsp %s: %s\n", cmd, err);
        return 1;
    }
    char *config = NULL;
    store_meta_get(*db, "config", &config);
    json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(cj, "domain"));
    *dom = domain_find(name ? name : "cartag");
    if (!*dom) {
        fprintf(stderr, "fmsp %s: %s holds a run of an unknown domain '%s' (known: %s)\n", cmd,
                path, name, domain_names());
    } else if (want && strcmp(want, (*dom)->name) != 0) {
        fprintf(stderr, "fmsp %s: %s holds a %s run, not %s\n", cmd, path, (*dom)->title, want);
        *dom = NULL;
    }
    json_decref(cj);
    free(config);
    if (!*dom) {
        store_close(*db);
        return 2;
    }
    return 0;
}

static int cmp_quality_desc(const void *a, const void *b)
{
    const StorePolicyRow *x = a, *y = b;
    double qx = isnan(x->quality) ? -1 : x->quality, qy = isnan(y->quality) ? -1 : y->quality;
    return qx < qy ? 1 : qx > qy ? -1 : (x->id > y->id) - (x->id < y->id);
}

/* Prints the ancestry of a policy: id <- parent <- grandparent ... */
static void print_lineage(Store *db, int64_t id)
{
    printf("      lineage: #%lld", (long long)id);
    for (int depth = 0; depth < 12; depth++) {
        StorePolicyRow r;
        if (store_policy_get(db, id, &r))
            break;
        json_t *pa = json_loads(r.parents ? r.parents : "[]", 0, NULL);
        int64_t parent = json_array_size(pa) ? json_integer_value(json_array_get(pa, 0)) : 0;
        json_decref(pa);
        store_policy_row_release(&r);
        if (!parent)
            break;
        StorePolicyRow pr;
        if (store_policy_get(db, parent, &pr))
            break;
        printf(" <- #%lld %s", (long long)parent, pr.name ? pr.name : "");
        store_policy_row_release(&pr);
        id = parent;
    }
    printf("\n");
}

int cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {{"top", required_argument, 0, 't'},
                                         {"failures", no_argument, 0, 'f'},
                                         {"code", required_argument, 0, 'c'},
                                         {"config", no_argument, 0, 'g'},
                                         {"domain", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long top = 5, code_id = 0;
    int opt, all_failures = 0, print_config = 0;
    const char *want = NULL;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("%s", show_help);
            return 0;
        }
        if (opt == 'f') {
            all_failures = 1;
            continue;
        }
        if (opt == 'g') {
            print_config = 1;
            continue;
        }
        if (opt == 'd') {
            if (!domain_find(optarg)) {
                fprintf(stderr, "fmsp show: unknown domain '%s' (known: %s)\n", optarg,
                        domain_names());
                return 2;
            }
            want = optarg;
            continue;
        }
        if (opt == 'c') {
            if (cli_parse_int("show", "--code", optarg, 1, 1L << 40, &code_id))
                return 2;
            continue;
        }
        if (opt != 't' || cli_parse_int("show", "--top", optarg, 1, 1000, &top))
            return opt == 't' ? 2 : cli_usage_error("show");
    }
    if (argc - optind != 1) {
        fprintf(stderr, "fmsp show: expected one run database\n");
        return cli_usage_error("show");
    }
    Store *db;
    const Domain *dom = NULL;
    int orc = open_db("show", argv[optind], want, &db, &dom);
    if (orc)
        return orc;
    if (print_config) {
        char *config = NULL;
        store_meta_get(db, "config", &config);
        json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
        char *pretty = cj ? json_dumps(cj, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (pretty)
            printf("%s\n", pretty);
        else
            fprintf(stderr, "fmsp show: %s has no run config (its set-up never finished)\n",
                    argv[optind]);
        free(pretty);
        json_decref(cj);
        free(config);
        store_close(db);
        return pretty ? 0 : 1;
    }
    if (code_id) {
        StorePolicyRow r;
        if (store_policy_get(db, code_id, &r)) {
            fprintf(stderr, "fmsp show: no policy #%ld in %s\n", code_id, argv[optind]);
            store_close(db);
            return 1;
        }
        printf("policy #%ld %s: %s side, iteration %d, %s, %s\n", code_id, r.name ? r.name : "",
               dom->side_name[r.side == 1 ? 1 : 2], r.iteration, r.origin, r.status);
        if (r.corrupt)
            printf("WARNING: this source does not match its stored hash: the database was damaged "
                   "or edited since\n");
        printf("why: %s\nparents: %s\n\n%s%s", r.reason ? r.reason : "", r.parents ? r.parents : "[]",
               r.source ? r.source : "(no source)\n",
               r.source && r.source[0] && r.source[strlen(r.source) - 1] != '\n' ? "\n" : "");
        /* what changed from its first parent */
        json_t *pa = json_loads(r.parents ? r.parents : "[]", 0, NULL);
        int64_t parent = json_array_size(pa) ? json_integer_value(json_array_get(pa, 0)) : 0;
        json_decref(pa);
        StorePolicyRow pr;
        if (parent && r.source && store_policy_get(db, parent, &pr) == FMSP_OK) {
            if (pr.source && !pr.corrupt) {
                printf("\ndiff against its parent #%lld %s (- parent, + this one):\n",
                       (long long)parent, pr.name ? pr.name : "");
                if (linediff_print(stdout, pr.source, r.source, 3) == 0)
                    printf("(no change)\n");
            }
            store_policy_row_release(&pr);
        }
        store_policy_row_release(&r);
        store_close(db);
        return 0;
    }
    char *config = NULL, *status = NULL;
    store_meta_get(db, "config", &config);
    store_meta_get(db, "status", &status);
    int last = -1;
    store_last_iteration(db, &last);
    json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
    json_t *fm = json_object_get(cj, "fm");
    const char *backend = json_string_value(json_object_get(fm, "backend"));
    int offline = backend && strcmp(backend, "builtin") == 0;
    printf("run %s: %s, algorithm %s, %s%s, seed %lld\n", argv[optind], status ? status : "?",
           json_string_value(json_object_get(cj, "algo")) ?: "?", backend ? backend : "?",
           offline ? " (offline program-synthesis operator, not a model)" : "",
           (long long)json_integer_value(json_object_get(cj, "seed")));
    printf("iterations completed: %d of %lld\n", last + 1,
           (long long)json_integer_value(json_object_get(cj, "iterations")));
    SearchConfig sc;
    char cerr[256];
    if (config && search_config_from_json(config, &sc, cerr, sizeof cerr) == FMSP_OK) {
        char *def = search_quality_definition(&sc);
        printf("%s\n", def);
        free(def);
    }
    json_decref(cj);
    free(config);
    free(status);
    char *stored = NULL;
    store_meta_get(db, "verdict", &stored);
    json_t *verdicts = stored ? json_loads(stored, 0, NULL) : NULL;
    free(stored);

    /* a table that cannot be read makes the summary incomplete: say so
     * and exit non-zero rather than print part of it as if whole */
    int unreadable = 0;
    printf("domain: %s\n", dom->title);
    if (dom == &domain_gandalf) {
        char *cfg_text = NULL;
        store_meta_get(db, "config", &cfg_text);
        json_t *root = cfg_text ? json_loads(cfg_text, 0, NULL) : NULL;
        json_t *gj = json_object_get(root, "gandalf");
        if (gj)
        {
            const char *kind = json_string_value(json_object_get(gj, "target")) ?: "?";
            int sim = strcmp(kind, "simulated") == 0;
            printf("target: %s%s%s (%s)\n", kind, sim ? "" : " ",
                   sim ? "" : json_string_value(json_object_get(gj, "target_model")) ?: "",
                   json_string_value(json_object_get(gj, "target_note")) ?: "");
        }
        json_decref(root);
        free(cfg_text);
    }
    const char *sides[2] = {dom->side_name[1], dom->side_name[2]};
    for (int k = 0; k < 2; k++) {
        StorePolicyRow *rows;
        int n;
        if (store_policy_list(db, k + 1, 1, &rows, &n)) {
            unreadable++;
            continue;
        }
        qsort(rows, (size_t)n, sizeof *rows, cmp_quality_desc);
        printf("\n%ss: %d in the archive\n", sides[k], n);
        if (!verdict_print(stdout, verdicts, k + 1, "  "))
            printf("  (no verdict stored: the run has not finished)\n");
        for (int i = 0; i < n && i < top; i++) {
            char q[48];
            if (isnan(rows[i].quality))
                snprintf(q, sizeof q, "not measured");
            else if (isnan(rows[i].quality_ci))
                snprintf(q, sizeof q, "%.3f", rows[i].quality);
            else
                snprintf(q, sizeof q, "%.3f +/- %.3f", rows[i].quality, rows[i].quality_ci);
            printf("  #%-5lld %-24s quality %-16s %s%s\n", (long long)rows[i].id,
                   rows[i].name ? rows[i].name : "?", q, rows[i].origin,
                   rows[i].iteration >= 0 ? "" : " (seed)");
            if (rows[i].iteration >= 0)
                print_lineage(db, rows[i].id);
        }
        if (n > top)
            printf("  ... %d more (--top %d shows them)\n", n - (int)top, n);
        store_policy_rows_free(rows, n);
    }
    StorePolicyRow *all;
    int n;
    if (store_policy_list(db, 0, 0, &all, &n) != FMSP_OK) {
        unreadable++;
    } else {
        const char *kinds[16];
        int counts[16], nk = 0, cands = 0;
        for (int i = 0; i < n; i++) {
            if (all[i].iteration < 0)
                continue;
            cands++;
            int j = 0;
            while (j < nk && strcmp(kinds[j], all[i].status) != 0)
                j++;
            if (j == nk && nk < 16) {
                kinds[nk] = all[i].status;
                counts[nk++] = 0;
            }
            if (j < 16)
                counts[j]++;
        }
        printf("\ncandidates: %d (", cands);
        for (int j = 0; j < nk; j++)
            printf("%s%s %d", j ? ", " : "", kinds[j], counts[j]);
        printf(")\n");
        int shown = 0, unshown = 0;
        for (int i = n - 1; i >= 0; i--) {
            if (all[i].iteration < 0 || !strcmp(all[i].status, "ok") ||
                (!all_failures && !strcmp(all[i].status, "rejected")))
                continue;
            if (!all_failures && shown >= 3) {
                unshown++;
                continue;
            }
            char line[161];
            snprintf(line, sizeof line, "%s", all[i].reason ? all[i].reason : "");
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            printf("  %s#%lld iteration %d %s: %s\n", all_failures ? "" : "recent failure: ",
                   (long long)all[i].id, all[i].iteration, all[i].status, line);
            shown++;
        }
        if (unshown)
            printf("  ... %d more failures (--failures lists them all, with the rejected; "
                   "--code ID shows one)\n",
                   unshown);
        store_policy_rows_free(all, n);
    }
    long calls = 0, failed = 0, tokens = 0;
    double cost = 0;
    unreadable += store_call_totals(db, &calls, &failed, &tokens, &cost) != FMSP_OK;
    if (offline)
        printf("operator calls: %ld (%ld failed); the builtin operator is not a model: no tokens, "
               "no cost\n",
               calls, failed);
    else
        printf("model calls: %ld (%ld failed), tokens %ld, estimated cost $%.4f\n", calls, failed,
               tokens, cost);
    json_decref(verdicts);
    char *table = NULL;
    if (store_meta_get(db, "campaign_table", &table) == FMSP_OK && table)
        printf("%s", table);
    free(table);
    store_close(db);
    if (unreadable) {
        fprintf(stderr, "fmsp show: %s: %d part%s of the database could not be read; the summary "
                        "above is incomplete\n",
                argv[optind], unreadable, unreadable == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, 0, 'a'},
        {"domain", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int all = 0, opt;
    const char *want = NULL;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("%s", export_help);
            return 0;
        }
        if (opt == 'd') {
            if (!domain_find(optarg)) {
                fprintf(stderr, "fmsp export: unknown domain '%s' (known: %s)\n", optarg,
                        domain_names());
                return 2;
            }
            want = optarg;
            continue;
        }
        if (opt != 'a')
            return cli_usage_error("export");
        all = 1;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "fmsp export: expected a run database and a folder\n");
        return cli_usage_error("export");
    }
    Store *db;
    const Domain *dom = NULL;
    int orc = open_db("export", argv[optind], want, &db, &dom);
    if (orc)
        return orc;
    const char *dir = argv[optind + 1];
    char err[512];
    if (util_mkdirs(dir, err, sizeof err)) {
        fprintf(stderr, "fmsp export: %s\n", err);
        store_close(db);
        return 1;
    }
    StorePolicyRow *rows;
    int n, written = 0, rc = 0;
    if (store_policy_list(db, 0, !all, &rows, &n)) {
        fprintf(stderr, "fmsp export: %s\n", store_errmsg(db));
        store_close(db);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        StorePolicyRow *r = &rows[i];
        if (!r->source || (strcmp(r->status, "ok") && strcmp(r->status, "rejected")))
            continue;
        if (r->corrupt) {
            fprintf(stderr, "fmsp export: policy #%lld's source does not match its stored hash "
                            "(the database was damaged or edited); not written\n",
                    (long long)r->id);
            rc = 1;
            continue;
        }
        /* names come from the database: keep only safe file-name characters */
        char name[96];
        snprintf(name, sizeof name, "%s", r->name ? r->name : "policy");
        for (char *c = name; *c; c++)
            if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
                *c = '_';
        char *path = xasprintf("%s/%s_%lld.c", dir, name, (long long)r->id);
        if (util_write_file(path, r->source, strlen(r->source), err, sizeof err)) {
            fprintf(stderr, "fmsp export: %s\n", err);
            rc = 1;
        } else {
            written++;
        }
        free(path);
    }
    store_policy_rows_free(rows, n);
    store_close(db);
    if (rc == 0)
        printf("wrote %d policies to %s\n", written, dir);
    return rc;
}
