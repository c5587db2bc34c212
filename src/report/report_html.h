/*
 * report_html.h - writes the report page: one self-contained HTML file
 * holding the report's data (a JSON object, docs/report-format.md), the
 * page's script and style and the vendored uPlot, all built into the
 * binary. The page's Content-Security-Policy forbids every network request.
 */
#ifndef FMSP_REPORT_HTML_H
#define FMSP_REPORT_HTML_H

#include <stdio.h>

/* 1 when the page's assets were built in (the build found them). */
int report_html_available(void);

/* Writes the page with `title` (escaped) and `json` (embedded so that no
 * text in it can close the script element). 0, or -1 on a write error. */
int report_html_write(FILE *f, const char *title, const char *json);

#endif
