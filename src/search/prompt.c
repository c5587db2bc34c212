/* prompt.c - builds the system, task, repair and judge prompts. */
#include "prompt.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

/* A growable string for assembling prompts (bounded by what we append). */
typedef struct Text {
    char *s;
    size_t len, cap;
} Text;

static void text_add(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(Text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = xrealloc(t->s, t->cap);
    }
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    t->len += (size_t)n;
}


static void add_source(Text *t, const PromptPolicy *p)
{
    const char *src = p->source ? p->source : "";
    size_t len = strlen(src);
    text_add(t, "### %s", p->name ? p->name : "policy");
    if (!isnan(p->quality))
        text_add(t, " (quality %.3f)", p->quality);
    text_add(t, "\n");
    if (p->results && *p->results)
        text_add(t, "Results: %s\n", p->results);
    if (p->transcripts && *p->transcripts)
        text_add(t, "What happened in its matches (samples: what was asked, what the guards did, "
                    "what came back):\n%s\n", p->transcripts);
    if (len > PROMPT_SOURCE_CAP)
        text_add(t, "```c\n%.*s\n/* ... %zu more bytes cut ... */\n```\n\n", PROMPT_SOURCE_CAP, src,
                 len - PROMPT_SOURCE_CAP);
    else
        text_add(t, "```c\n%s%s```\n\n", src, len && src[len - 1] == '\n' ? "" : "\n");
}

static const char edit_format[] =
    "Instead of a whole file you may change the first policy shown with edit blocks,\n"
    "each SEARCH text copied exactly from it and matching exactly once:\n"
    "<<<<<<< SEARCH\n"
    "(lines to replace)\n"
    "=======\n"
    "(new lines)\n"
    ">>>>>>> REPLACE\n";

char *prompt_system(const Domain *d)
{
    Text t = {0};
    text_add(&t, "%s# Policy-writing guide\n\n%s\n", d->persona, d->guide);
    return t.s;
}

char *prompt_user(const PromptSpec *spec)
{
    Text t = {0};
    const Domain *d = spec->domain;
    const char *side = d->side_long[spec->side];
    if (spec->game) {
        char game[1024];
        d->describe(spec->game, game, sizeof game);
        text_add(&t, "%s", game);
    }
    int show_parents = spec->n_parents > 0 && spec->task != FM_TASK_NEW;
    switch (spec->task) {
    case FM_TASK_IMPROVE:
        if (spec->algo == PROMPT_VFMSP)
            text_add(&t,
                     "Below is the current %s policy and how it fares against the opponent "
                     "side (%s). Write an improved policy that scores higher against them. "
                     "Think about why it loses where it loses.\n\n",
                     side, spec->opponents ? spec->opponents : "the other side");
        else
            text_add(&t,
                     "Below is a %s policy from the archive (quality is its mean score "
                     "against %s), followed by its nearest neighbours in the archive. Write a "
                     "clearly better version of the first policy: higher quality, with a "
                     "concrete idea behind the change.\n\n",
                     side, spec->opponents ? spec->opponents : "the other side");
        break;
    case FM_TASK_NOVEL:
        if (spec->algo == PROMPT_QDSP)
            text_add(&t,
                     "Below is a %s policy from the archive (quality is its mean score "
                     "against %s), followed by its nearest neighbours. Write a policy that is "
                     "interestingly different from all of them, a new strategy rather than a "
                     "parameter tweak, and that still plays well.\n\n",
                     side, spec->opponents ? spec->opponents : "the other side");
        else
            text_add(&t,
                     "Below is a %s policy from the archive followed by its nearest "
                     "neighbours. Write a policy that is interestingly different from all of "
                     "them: a genuinely new strategy or idea, not a parameter tweak.\n\n",
                     side);
        break;
    default:
        text_add(&t, "Write a new %s policy for %s. Aim for a strong strategy.\n\n", side,
                 d->title);
        break;
    }
    if (show_parents) {
        for (int i = 0; i < spec->n_parents; i++)
            add_source(&t, &spec->parents[i]);
    }
    text_add(&t, "%s", d->answer_format);
    if (show_parents)
        text_add(&t, "%s", edit_format);
    return t.s;
}

char *prompt_repair(const char *reason)
{
    Text t = {0};
    text_add(&t,
             "Your policy could not be used:\n\n%s\n\nFix the problem and answer with the "
             "complete corrected C source file in a single ```c block.\n",
             reason && *reason ? reason : "(no details)");
    return t.s;
}

char *prompt_judge(const Domain *d, int side, const char *candidate, const char *const *others,
                   int n_others)
{
    Text t = {0};
    text_add(&t,
             "Here is a new %s policy, followed by existing ones. Is the new policy "
             "interestingly different from every existing one: a different strategy, not "
             "just different numbers or style? Answer with one word: yes or no.\n\n",
             d->side_long[side]);
    PromptPolicy cand = {"new policy", candidate, NAN, NULL, NULL};
    add_source(&t, &cand);
    for (int i = 0; i < n_others; i++) {
        char name[32];
        snprintf(name, sizeof name, "existing policy %d", i + 1);
        PromptPolicy p = {name, others[i], NAN, NULL, NULL};
        add_source(&t, &p);
    }
    return t.s;
}

int prompt_judge_parse(const char *answer)
{
    if (!answer)
        return -1;
    const char *p = answer;
    while (*p && !isalpha((unsigned char)*p))
        p++;
    if (strncasecmp(p, "yes", 3) == 0)
        return 1;
    if (strncasecmp(p, "no", 2) == 0)
        return 0;
    return -1;
}
