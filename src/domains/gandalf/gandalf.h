/*
 * gandalf.h - Gandalf's host-side rules that more than one module uses.
 */
#ifndef FMSP_GANDALF_H_HOST
#define FMSP_GANDALF_H_HOST

/* 1 when guess equals password ignoring case and every character that is
 * not a letter or a digit (an empty guess never matches). */
int gandalf_guess_matches(const char *guess, const char *password);

#endif
