/*
 * settings.h - what defines a Gandalf match besides its two policies: the
 * game's settings (queries per attempt, the guards' model budget, password
 * lengths) and the target model the defender protects. Part of every
 * MatchConfig (a Car Tag match ignores it) and of a run's stored config.
 */
#ifndef FMSP_GANDALF_SETTINGS_H
#define FMSP_GANDALF_SETTINGS_H

#include "../../fm/fm.h"
#include "fmsp_gandalf.h"

typedef enum GandalfTargetKind {
    TARGET_SIMULATED, /* the rule-based test double (simtarget.h): not a model */
    TARGET_MODEL      /* a chat model: target.backend is FM_OPENAI or FM_ANTHROPIC */
} GandalfTargetKind;

typedef struct GandalfSettings {
    FmspGandalf game;        /* max_queries 5, ask_budget 4, passwords of 5-10 letters */
    GandalfTargetKind kind;  /* default TARGET_SIMULATED */
    FmConfig target;         /* TARGET_MODEL: endpoint, model, key variable, temperature */
    int utility_questions;   /* benign questions for a defender's utility (default: all) */
} GandalfSettings;

void gandalf_settings_default(GandalfSettings *s);

/* "simulated", or the target model's backend and name ("openai gpt-4o-mini"). */
const char *gandalf_target_label(const GandalfSettings *s, char *buf, size_t cap);

#endif
