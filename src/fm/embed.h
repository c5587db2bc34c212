/*
 * embed.h - code embeddings for novelty.
 *
 * The built-in embedding is deterministic and offline: the C source is
 * tokenised with comments and white space dropped and every number folded
 * into one token (so formatting and parameter tweaks do not look novel, while
 * a different structure does); unigrams, bigrams and trigrams of tokens are
 * hashed with a sign into EMBED_DIM buckets; the vector is L2-normalised.
 * Similar code gives nearby vectors under cosine distance.
 */
#ifndef FMSP_EMBED_H
#define FMSP_EMBED_H

#include <stddef.h>

#include "../core/err.h"

#define EMBED_DIM 256

/* Writes the embedding of source into out[dim]. */
void embed_builtin(const char *source, float *out, int dim);

/*
 * An OpenAI-compatible embeddings endpoint (POST {base_url}/embeddings with
 * {model, input}); the key is read from the environment variable named.
 * Requests have timeouts, a response cap and bounded retries like chat calls.
 */
typedef struct EmbedRemote EmbedRemote;

FmspErr embed_remote_new(const char *base_url, const char *model, const char *key_env,
                         double timeout_s, EmbedRemote **out, char *err, size_t errlen);

/* The L2-normalised embedding of text: *vec (heap, caller frees) of *dim. */
FmspErr embed_remote(EmbedRemote *r, const char *text, float **vec, int *dim, char *err,
                     size_t errlen);

void embed_remote_free(EmbedRemote *r);

#endif
