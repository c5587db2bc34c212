/*
 * probe.h - what a Gandalf policy *does*, for novelty in behaviour space.
 *
 * Code embeddings measure surface code; two attackers with different code
 * may send the same prompts. A policy's behaviour is read from one short
 * match against a fixed probe opponent (always the same seed): an attacker
 * plays a plainly defended target (the level-2 prompt, no guards), and its
 * behaviour is the prompts it sends; a defender faces a probe attacker that
 * tries one move per query (direct, spelling, reversal, encodings,
 * translation, story, hints, halves, acrostic, synonyms, an indirect name),
 * and its behaviour is what its guards let through and what they block.
 */
#ifndef FMSP_GANDALF_PROBE_H
#define FMSP_GANDALF_PROBE_H

/* The probe opponents' sources: the defender attackers face, the attacker
 * defenders face. */
extern const char gandalf_probe_source_defender[];
extern const char gandalf_probe_source_attacker[];

/* The behaviour text of side's policy from the transcript of its probe
 * match (a collector of transcript.h); heap string, "" when empty. */
char *gandalf_behaviour_text(void *transcript, int side);

#endif
