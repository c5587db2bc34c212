/*
 * verdict.c - prints a stored verdict: the pool it was measured on, the best
 * discovered and best human-designed policy with their 95% intervals, and
 * their paired difference with its interval and the decision.
 */
#include "eval/verdict.h"

#include <string.h>

void verdict_fmt(char *buf, size_t n, const json_t *mean, const json_t *ci)
{
    if (!json_is_number(mean))
        snprintf(buf, n, "-");
    else if (!json_is_number(ci))
        snprintf(buf, n, "%.3f", json_number_value(mean));
    else
        snprintf(buf, n, "%.3f +/- %.3f", json_number_value(mean), json_number_value(ci));
}

int verdict_print(FILE *f, const json_t *verdicts, int side, const char *indent)
{
    size_t i;
    json_t *v;
    json_array_foreach(verdicts, i, v)
    {
        if (json_integer_value(json_object_get(v, "side")) != side)
            continue;
        const json_t *found = json_object_get(v, "best_found"),
                     *base = json_object_get(v, "best_baseline");
        char fb[48], bb[48];
        verdict_fmt(fb, sizeof fb, json_object_get(found, "mean"), json_object_get(found, "ci"));
        verdict_fmt(bb, sizeof bb, json_object_get(base, "mean"), json_object_get(base, "ci"));
        fprintf(f, "%sagainst %s, %lld episodes per pair:\n", indent,
                json_string_value(json_object_get(v, "pool")) ?: "?",
                (long long)json_integer_value(json_object_get(v, "episodes")));
        if (json_is_object(found))
            fprintf(f, "%s  best found:    %-28s %s\n", indent,
                    json_string_value(json_object_get(found, "name")) ?: "?", fb);
        else
            fprintf(f, "%s  best found:    (none beyond the seeds yet)\n", indent);
        fprintf(f, "%s  best baseline: %-28s %s\n", indent,
                json_string_value(json_object_get(base, "name")) ?: "?", bb);
        const char *result = json_string_value(json_object_get(v, "result"));
        if (result) {
            char mb[48];
            verdict_fmt(mb, sizeof mb, json_object_get(v, "margin"),
                        json_object_get(v, "margin_ci"));
            char upper[16];
            snprintf(upper, sizeof upper, "%s", result);
            for (char *c = upper; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 'a' + 'A');
            fprintf(f, "%s  verdict: %s (found - baseline = %s; paired t over %lld opponents)\n",
                    indent, upper, mb, (long long)json_integer_value(json_object_get(v, "opponents")));
        }
        return 1;
    }
    return 0;
}
