/* cartag_domain.c - Car Tag as a domain (src/domains/domain.h). */
#include <stdio.h>

#include "../domain.h"
#include "behaviour.h"
#include "operator.h"

extern const char fmsp_doc_writing_policies[];

static void describe(const MatchConfig *cfg, char *buf, size_t cap)
{
    const FmspParams *p = &cfg->params;
    snprintf(buf, cap,
             "Game parameters for this run: vp=%g R=%g ve=%g l=%g dt=%g T=%g, %s (read them "
             "from obs->params; do not hard-code them).\n\n",
             p->vp, p->R, p->ve, p->l, p->dt, p->T,
             p->walls ? "square arena with walls" : "open plane, no walls");
}

const Domain domain_cartag = {
    .name = "cartag",
    .title = "Car Tag",
    .side_name = {"", "pursuer", "evader"},
    .side_macro = {"", "FMSP_PURSUER", "FMSP_EVADER"},
    .header = "fmsp_policy.h",
    .guide = fmsp_doc_writing_policies,
    .baselines = "cartag",
    .simple_seed = {"", "pursuer_pure_pursuit", "evader_flee"},
    .side_long = {"", "pursuer (the car)", "evader (the pedestrian)"},
    .persona =
        "You are an expert in differential games, pursuit-evasion and robotics, and a\n"
        "careful C programmer. You write policies for Car Tag, a pursuer-evader game, as\n"
        "single C source files against the fmsp policy API. Policies play each other in\n"
        "a sandbox: they cannot read files, use the network or start processes, and a\n"
        "crash, time-out or NaN control loses the episode. Your policies are judged by\n"
        "how well they play and, in some searches, by how different they are from\n"
        "existing ones.\n\n",
    .answer_format =
        "## Answer format\n"
        "Start with one or two sentences naming the idea of your policy. Then give the\n"
        "complete C source file in a single ```c fenced block: it must include\n"
        "\"fmsp_policy.h\", declare FMSP_SIDE(...), and define fmsp_create, fmsp_act and\n"
        "fmsp_free.\n",
    .describe = describe,
    .play = cartag_play,
    .operator_write = cartag_operator_write,
    .operator_judge = cartag_operator_judge,
    .probe_source = {NULL, cartag_probe_source_evader, cartag_probe_source_pursuer},
    .behaviour_text = cartag_behaviour_text,
    .probe_new = cartag_probe_new,
    .probe_step = cartag_probe_step,
    .probe_free = cartag_probe_free,
};
