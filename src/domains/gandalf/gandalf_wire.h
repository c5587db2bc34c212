/*
 * gandalf_wire.h - the Gandalf calls between the referee and a policy
 * worker (the "Calls" of src/sandbox/protocol.h): the operation codes and
 * their payloads. Both ends are the same build; structs travel as bytes.
 *
 *   CREATE  FmspGandalf, uint64_t seed  -> (nothing)       new attempt
 *   ATTACK  FmspTranscript              -> the next prompt (empty: stop)
 *   GUESS   FmspTranscript              -> a guess (empty: none)
 *   SYSTEM  (nothing)                   -> the system prompt template
 *   INPUT   prompt[FMSP_TEXT_MAX]       -> value FMSP_ALLOW / FMSP_BLOCK
 *   OUTPUT  prompt, reply [FMSP_TEXT_MAX each], password[GANDALF_PASSWORD_MAX]
 *                                       -> value FMSP_ALLOW / BLOCK / REPLACE,
 *                                          text = the replacement
 *   FREE    (nothing)                   -> (nothing)       end of attempt
 */
#ifndef FMSP_GANDALF_WIRE_H
#define FMSP_GANDALF_WIRE_H

#include "fmsp_gandalf.h"

enum { GCALL_CREATE = 1, GCALL_ATTACK, GCALL_GUESS, GCALL_SYSTEM, GCALL_INPUT, GCALL_OUTPUT,
       GCALL_FREE };

#define GANDALF_PASSWORD_MAX 64   /* bytes of a password, with the NUL */
#define GANDALF_QUESTION_MAX 4096 /* bytes of a guard's question to the model */

#endif
