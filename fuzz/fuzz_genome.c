/* fuzz_genome.c - libFuzzer target: the builtin operator reads genome lines
 * from parent sources, which may have been written by anyone (a model, a
 * replayed run, a hand-edited database). A parsed genome must be safe to
 * describe, mutate, cross and turn into source. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domains/cartag/genome.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    Genome g, h;
    if (genome_parse(text, &g)) {
        char buf[512];
        genome_describe(&g, buf, sizeof buf);
        genome_components(&g, buf, sizeof buf);
        free(genome_line(&g));
        free(genome_source(&g, "fuzz"));
        FmspRng rng;
        fmsp_rng_seed(&rng, size);
        h = g;
        genome_mutate(&h, &rng, 0.5, 0.3, 0.3);
        genome_crossover(&h, &g, &rng);
        genome_novelize(&h, &g, 1, &rng);
        (void)genome_distance(&g, &h);
        free(genome_source(&h, "fuzz"));
    }
    free(text);
    return 0;
}
