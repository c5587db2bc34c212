/* fuzz_extract.c - libFuzzer target: code extraction and search/replace edits
 * on arbitrary model answers (the first half of the input is the parent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fm/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *parent = malloc(size / 2 + 1);
    memcpy(text, data, size);
    text[size] = 0;
    memcpy(parent, data, size / 2);
    parent[size / 2] = 0;
    char why[256], *out = NULL;
    if (extract_policy_code(text, &out, why, sizeof why) == FMSP_OK)
        free(out);
    out = NULL;
    if (extract_has_edits(text) && extract_apply_edits(parent, text, &out, why, sizeof why) == FMSP_OK)
        free(out);
    free(text);
    free(parent);
    return 0;
}
