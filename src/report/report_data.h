/*
 * report_data.h - gathers what `fmsp report` shows from run databases into
 * one JSON object (docs/report-format.md): runs, their policies on a shared
 * map per side, curves from the per-iteration archive snapshots, cost,
 * failures, the stored verdicts, QD-scores, and Gandalf's per-level table
 * with transcripts. Numbers are read as stored, never re-measured: the page
 * prints what `fmsp show` prints. Replays and cross-play, which need play,
 * are added by the caller.
 */
#ifndef FMSP_REPORT_DATA_H
#define FMSP_REPORT_DATA_H

#include <jansson.h>
#include <stddef.h>

/* The report of `n` run databases on a grid x grid map, or NULL with a
 * message naming the database when one cannot be read (or the runs are of
 * different domains). */
json_t *report_build(char *const *dbs, int n, int grid, char *err, size_t errlen);

#endif
