/*
 * report_html.c - assembles the report page from its built-in parts: the
 * data go in a <script type="application/json"> element with every '<'
 * written as \u003c, so generated code quoted in the data cannot close the
 * element or open another; the title is HTML-escaped.
 */
#include "report/report_html.h"

#include <string.h>

extern const char fmsp_asset_uplot_js[];
extern const char fmsp_asset_uplot_css[];
extern const char fmsp_asset_report_js[];
extern const char fmsp_asset_report_css[];

int report_html_available(void)
{
    return fmsp_asset_uplot_js[0] && fmsp_asset_uplot_css[0] && fmsp_asset_report_js[0] &&
           fmsp_asset_report_css[0];
}

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* JSON text with '<' as its Unicode escape: valid JSON, inert HTML */
static void put_json(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("\\u003c", f);
        else
            fputc(*s, f);
    }
}

int report_html_write(FILE *f, const char *title, const char *json)
{
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    put_escaped(f, title);
    fputs("</title>\n<style>\n", f);
    fputs(fmsp_asset_uplot_css, f);
    fputs("\n", f);
    fputs(fmsp_asset_report_css, f);
    fputs("</style>\n</head>\n<body><div id=\"app\"></div>\n"
          "<script type=\"application/json\" id=\"fmsp-data\">",
          f);
    put_json(f, json);
    fputs("</script>\n<script>\n", f);
    fputs(fmsp_asset_uplot_js, f);
    fputs("\n</script>\n<script>\n", f);
    fputs(fmsp_asset_report_js, f);
    fputs("\n</script>\n</body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
