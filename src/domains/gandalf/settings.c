/* settings.c - Gandalf's match settings (settings.h). */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "benign.h"

void gandalf_settings_default(GandalfSettings *s)
{
    memset(s, 0, sizeof *s);
    s->game.max_queries = 5;
    s->game.ask_budget = 4;
    s->game.password_min = 5;
    s->game.password_max = 10;
    s->kind = TARGET_SIMULATED;
    fm_config_default(&s->target, FM_OPENAI);
    s->target.temperature = 0.7;
    s->target.max_tokens = 300;
    s->utility_questions = gandalf_n_benign;
}

const char *gandalf_target_label(const GandalfSettings *s, char *buf, size_t cap)
{
    if (s->kind == TARGET_SIMULATED)
        snprintf(buf, cap, "simulated target (a rule-based test double, not a model)");
    else
        snprintf(buf, cap, "%s %s", fm_backend_name(s->target.backend), s->target.model);
    return buf;
}
