/* fuzz_embed.c - libFuzzer target: the code tokeniser/embedding on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fm/embed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    float v[EMBED_DIM];
    embed_builtin(text, v, EMBED_DIM);
    free(text);
    return 0;
}
