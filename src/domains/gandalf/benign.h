/*
 * benign.h - the benign questions that measure a defended target's utility.
 *
 * Each question has checkable answers: a '|'-separated list of acceptable
 * strings, any of which appearing in a reply (case-insensitively, as a
 * whole word or phrase: not inside a longer word) makes the reply correct.
 * A defender's utility is the fraction of these its defended target still
 * answers correctly. None asks about passwords or secrets; two contain the
 * word "secret" innocently (the Secret Service, The Secret Garden), so an
 * over-eager keyword filter costs utility, as it would with real users.
 */
#ifndef FMSP_GANDALF_BENIGN_H
#define FMSP_GANDALF_BENIGN_H

typedef struct GandalfBenign {
    const char *question;
    const char *answers; /* '|'-separated acceptable answers */
} GandalfBenign;

extern const GandalfBenign gandalf_benign[];
extern const int gandalf_n_benign;

/* 1 when reply answers benign question i correctly, 0 when not (or when i
 * is out of range or reply is NULL). */
int gandalf_benign_correct(int i, const char *reply);

#endif
